"""Derived streams and failing consumers while recording into a real session file."""

from __future__ import annotations


import numpy as np

from sensorlab.acquisition.builders import build_emulated
from sensorlab.acquisition.clock import now
from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.processors import MovingRMS
from sensorlab.acquisition.rig import EmulatedConfig
from sensorlab.session.reader import Session
from sensorlab.session.recorder import Recorder
from tests.acquisition.conftest import wait_until


def rms_at(x: np.ndarray, ts: np.ndarray, out_ts: np.ndarray, window_n: int) -> np.ndarray:
    """RMS of the ``window_n`` recorded input samples ending at each output's timestamp."""
    idx = np.searchsorted(ts, out_ts)
    assert np.array_equal(ts[idx], out_ts), "each output is stamped with an input sample"
    return np.array([np.sqrt(np.mean(x[i - window_n + 1 : i + 1].astype(np.float64) ** 2, axis=0)) for i in idx])


def test_processor_output_is_recorded_read_back_and_forwarded(make_recorder):
    src = SignalSource("imu", rate=1000, shape=(2,), chunk_size=9, pattern="sine", realtime=False, max_samples=4000)
    proc = MovingRMS("imu", window=0.04, hop=0.01)
    live = []
    rec, acq = make_recorder(src, proc, start_sources=False)
    acq.subscribe(lambda s, c: live.append(c) if s == "imu_rms" else None)
    acq.start()
    expected = 4000 // 10 - 4 + 1  # window ends at samples 39, 49, ..., 3999
    assert src.wait(20) and wait_until(lambda: acq.stats["imu_rms"].samples >= expected)
    path = rec.stop()
    with Session.open(path) as s:
        assert "imu_rms" in s.streams and np.isnan(s.streams["imu_rms"].added_at)
        inp = s.streams["imu"].read()
        out = s.streams["imu_rms"].read()
    assert len(inp) == 4000 and len(out) == expected
    np.testing.assert_allclose(out.data, rms_at(inp.data, inp.timestamps, out.timestamps, 40), rtol=1e-5)
    np.testing.assert_array_equal(np.concatenate([c.data for c in live]), out.data)  # the subscriber saw the same


def test_processor_added_while_recording_gets_its_start_time_and_data(make_recorder):
    src = SignalSource("mic", kind="audio", rate=2000, shape=(1,), chunk_size=40, pattern="sine", realtime=True)
    rec, acq = make_recorder(src)
    assert wait_until(lambda: acq.stats["mic"].samples >= 600)
    before = now()
    acq.add_processor(MovingRMS("mic", window=0.02, hop=0.01, name="level"))
    after = now()
    assert wait_until(lambda: acq.stats["level"].samples >= 50)
    emitted = acq.stats["level"].samples
    path = rec.stop()
    src.stop()
    with Session.open(path) as s:
        level = s.streams["level"]
        assert before <= level.added_at <= after
        assert s.streams["mic"].added_at != s.streams["mic"].added_at  # NaN: there from the start
        out = level.read()
        inp = s.streams["mic"].read()
        assert any("level" in e["message"] and "added" in e["message"] for e in s.log)
    assert len(out) >= emitted  # every output the processor made before the stop, none lost
    assert out.timestamps[0] >= before - 0.1  # nothing from before it was added
    assert inp.timestamps[0] < before - 0.2  # the device was recorded from the start
    np.testing.assert_allclose(out.data, rms_at(inp.data, inp.timestamps, out.timestamps, 40), rtol=1e-5)


def test_raising_subscriber_on_a_pty_device_loses_no_sample_and_is_reported_once(tmp_path, make_acquisition):
    device = build_emulated(EmulatedConfig(device="imu-text", rate=200))
    acq = make_acquisition(device)
    reports = []
    acq.consumer_failed.connect(lambda s, m: reports.append(m))
    calls = []

    def broken(stream, chunk):
        calls.append(len(chunk))
        raise ValueError("cannot normalise")

    rec = Recorder(acq, tmp_path / "pty.h5")
    rec.start()
    acq.subscribe(broken, name="normaliser")
    acq.start()
    assert wait_until(lambda: acq.stats["wrist"].samples >= 400)
    acq.stop()  # the device stops first, so every sample it produced was dispatched
    path = rec.stop()
    produced = acq.stats["wrist"].samples
    with Session.open(path) as s:
        stored = s.streams["wrist"].count
        errors = [e for e in s.log if "normaliser" in e["message"]]
    assert stored == produced
    assert len(calls) == 1 and len(reports) == 1 and len(errors) == 1
    assert errors[0]["level"] == "error" and "cannot normalise" in errors[0]["message"]
    assert not acq.stats["wrist"].error
