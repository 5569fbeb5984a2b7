"""Rig files' ``[[processor]] kind = "model"`` tables → `InferenceProcessor` (registered on import).

The acquisition layer validates the table (`acquisition.rig.ModelProcessorConfig`) but may not
import inference; importing `sensorlab.inference` registers this builder with
`acquisition.processors.register_kind`. ``path = "demo"`` is the bundled demo model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sensorlab.acquisition.names import prediction_stream_name
from sensorlab.acquisition.processors import register_kind
from sensorlab.inference.engine import InferenceProcessor

#: The demo model shipped as package data (a clap detector on the demo rig's imu, trained by tools/make_demo_model.py).
DEMO_MODEL = Path(__file__).resolve().parent.parent / "resources" / "models" / "demo_clap.onnx"
#: Its static int8 build (`sensorlab quantize`), for the parity view's fp32-vs-int8 comparison.
DEMO_MODEL_INT8 = DEMO_MODEL.with_suffix(".int8.onnx")


def model_path(path: str) -> Path:
    return DEMO_MODEL if path == "demo" else Path(path)


def build_model_processor(config: Any) -> InferenceProcessor:
    name = config.name or prediction_stream_name(config.path)
    return InferenceProcessor(model_path(config.path), name=name, input=config.input, stale_after=config.stale_after, smooth=config.smooth,
                              event_label=config.event_label, threshold=config.threshold, release=config.release)  # fmt: skip


register_kind("model", build_model_processor)

__all__ = ["DEMO_MODEL", "DEMO_MODEL_INT8", "build_model_processor", "model_path"]
