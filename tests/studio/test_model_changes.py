"""A running model changed through `Studio` (no GUI): tuned, renamed, mapped anew and unloaded
while the rig runs and records; the recording keeps everything, the rig text says what runs.

Real emulated devices, real onnxruntime (models from `tests/inference/onnx_models.py`), real HDF5.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx_models import mean_model, write_mapping  # noqa: E402

from sensorlab.acquisition.rig import EmulatedConfig, ModelProcessorConfig, RigConfig, parse_rig  # noqa: E402
from sensorlab.inference import ModelMapping  # noqa: E402
from sensorlab.session.reader import Session  # noqa: E402
from sensorlab.studio import Studio  # noqa: E402
from sensorlab.studio.errors import StudioBusy  # noqa: E402


def _wait(cond, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def _rig() -> RigConfig:
    return RigConfig(emulated=[EmulatedConfig(device="microphone", name="mic", rate=16000)])


@pytest.fixture
def level_model(tmp_path):
    model = mean_model(tmp_path / "level.onnx")
    write_mapping(model, stream="mic", channels=["ch0"], rate=16000, window=0.2, hop=0.1, scores_kind="sigmoid", labels=["loud"])
    return model


def test_mapped_anew_while_recording_the_stream_goes_on_in_the_file_and_a_rename_waits(tmp_path, level_model):
    studio = Studio()
    try:
        studio.open(_rig().build_sources())
        (stream,) = studio.load_model(level_model)
        path = studio.start_recording(tmp_path / "run.h5")
        _wait(lambda: studio.counters().get(stream) is not None and studio.counters()[stream].samples >= 5)
        with pytest.raises(StudioBusy, match="stop the recording before renaming level_pred"):
            studio.tune_model(stream, name="other")
        first = studio.counters()[stream].samples
        assert studio.model_settings(stream).name == stream  # unchanged by the refused rename
        mapping = ModelMapping.parse('{"stream": "mic", "channels": ["ch0"], "rate": 16000, "window": 0.2, "hop": 0.05, '
                                     '"scores_kind": "sigmoid", "labels": ["loud"]}')  # fmt: skip
        assert studio.remap_model(stream, mapping) == (stream,)
        _wait(lambda: studio.acquisition.stats[stream].windows >= 10)
        # Other classes would not fit the recorded stream's columns: refused, the model runs on.
        other = ModelMapping.parse('{"stream": "mic", "channels": ["ch0"], "window": 0.2, "hop": 0.1, "scores_kind": "sigmoid", "labels": ["quiet"]}')
        with pytest.raises(StudioBusy, match="stop the recording first: the new mapping gives level_pred the classes quiet"):
            studio.remap_model(stream, other)
        assert stream in studio.streams
        studio.stop_recording()
    finally:
        studio.close()
    with Session.open(path) as s:
        r = s.streams[stream]
        ts = r.read_index().timestamps
        assert len(ts) >= first + 10 and r.error == ""
        steps = np.diff(ts)
        assert np.isclose(steps, 0.1, atol=1e-6).any() and np.isclose(steps, 0.05, atol=1e-6).any()  # both mappings' windows, one dataset
        assert any("runs again" in e["message"] for e in s.log if e["stream"] == stream)


def test_the_rig_text_follows_the_running_models(tmp_path, level_model):
    """Entries of models not touched (and a model that could not be opened) stay as written;
    an unloaded model's entry goes; a tuned or menu-loaded one says how it runs."""
    rig = _rig()
    rig.processor.append(ModelProcessorConfig(kind="model", path=str(level_model), name="kept", smooth=2))
    rig.processor.append(ModelProcessorConfig(kind="model", path=str(tmp_path / "missing.onnx"), name="broken"))
    rig.processor.append(ModelProcessorConfig(kind="model", path=str(level_model), name="gone"))
    text = rig.to_toml(defaults=True)
    studio = Studio()
    try:
        errors = studio.open(parse_rig(text).build_sources())
        assert any("missing.onnx" in e for e in errors.values())
        _wait(lambda: all(n in studio.streams for n in ("kept", "gone")))
        (loaded,) = studio.load_model(level_model)
        studio.tune_model(loaded, smooth=4, event_label="loud", threshold=0.6, release=0.2)
        studio.unload_model("gone")
        entries = {p.name: p for p in parse_rig(studio.models_rig(text)).processor}
    finally:
        studio.close()
    assert set(entries) == {"kept", "broken", loaded}
    assert entries["kept"].smooth == 2 and entries["broken"].path.endswith("missing.onnx")
    e = entries[loaded]
    assert (Path(e.path), e.input, e.smooth, e.event_label, e.threshold, e.release) == (level_model.resolve(), "mic", 4, "loud", 0.6, 0.2)
