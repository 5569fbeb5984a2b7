"""Live and offline inference: ONNX and TFLite models on streams, predictions as streams (docs/INFERENCE.md).

- `LoadedModel` (model.py): an ONNX or TFLite file with its contract or mapping, raw windows → probabilities.
- `TFLiteSession` (tflite.py): a ``.tflite`` file behind onnxruntime's session calls (ai-edge-litert).
- `ModelMapping` (mapping.py): how a model without a sensorlab contract is fed, saved beside it.
- `Windower` (windower.py): windows from chunks or blocks with the dataset build's code.
- `InferenceProcessor` (engine.py): the model as a processor of the stream graph.
- `Smoother`, `EventDetector` (smoothing.py): moving average and hysteresis events.

Qt-free; imports datasets, labeling, session and acquisition, never the studio or the GUI.
"""

from sensorlab.inference.engine import STALE_AFTER, InferenceProcessor, InferenceStats, is_predictions
from sensorlab.inference.mapping import ModelMapping, load_mapping, mapping_path
from sensorlab.inference.rig_kind import DEMO_MODEL, DEMO_MODEL_INT8  # registers rig kind "model"
from sensorlab.inference.model import LoadedModel, ModelError, describe_model
from sensorlab.inference.smoothing import EventDetector, Smoother
from sensorlab.inference.windower import Windower

__all__ = ["DEMO_MODEL", "DEMO_MODEL_INT8", "STALE_AFTER", "EventDetector", "InferenceProcessor", "InferenceStats", "LoadedModel", "ModelError", "ModelMapping", "Smoother",
           "Windower", "describe_model", "is_predictions", "load_mapping", "mapping_path"]  # fmt: skip
