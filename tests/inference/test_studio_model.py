"""Loading a model into a running Studio, while recording; a bad model is refused and the recording goes on."""

from __future__ import annotations

import time

import numpy as np
import pytest
from onnx_models import mean_model, write_mapping

from sensorlab.acquisition.rig import EmulatedConfig, RigConfig
from sensorlab.acquisition.source import SourceError
from sensorlab.session.reader import Session
from sensorlab.studio import Studio


def _wait(cond, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_model_loaded_while_recording_is_recorded_and_a_bad_one_stops_nothing(tmp_path):
    model = mean_model(tmp_path / "level.onnx")
    write_mapping(model, stream="mic", channels=["ch0"], rate=16000, window=0.2, hop=0.1, scores_kind="probabilities", labels=["level"])
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00" * 64)
    studio = Studio()
    added: list[str] = []
    studio.stream_added.connect(lambda info: added.append(info.name))
    try:
        studio.open(RigConfig(emulated=[EmulatedConfig(device="microphone", name="mic", rate=48000)]).build_sources())
        path = studio.start_recording(tmp_path / "live.h5")
        with pytest.raises(SourceError, match=r"bad.onnx: not a valid ONNX model"):
            studio.load_model(bad)
        assert studio.load_model(model) == ("level_pred",) and added == ["level_pred"]
        _wait(lambda: studio.counters().get("level_pred") is not None and studio.counters()["level_pred"].samples >= 10)
        st = studio.acquisition.stats["level_pred"]
        assert st.windows >= 10 and st.latency_ms > 0 and np.isfinite(st.lag_ms)
        assert studio.recording and not studio.acquisition.stats["mic"].error
        studio.stop_recording()
    finally:
        studio.close()
    with Session.open(path) as s:
        r = s.streams["level_pred"]
        c = r.read_index()
        ts, starts = c.timestamps, c.device_times
        assert len(ts) >= 10 and r.added_at > 0
        np.testing.assert_allclose(ts - starts, 0.2, atol=1e-9)  # window end and start, stored
        assert s.streams["mic"].count > 0
