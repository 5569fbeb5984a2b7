"""A device that vanishes, stalls or sends garbage stops only its stream; a full disk stops the session cleanly."""

from __future__ import annotations

import errno
import threading

import numpy as np
import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.session.reader import Session
from sensorlab.session.writer import SessionWriter


def _signals(rec):
    got = []
    rec.failed.connect(lambda stream, msg: got.append((stream, msg)))
    return got


def test_a_vanishing_device_stops_only_its_stream(make_recorder):
    gone = SignalSource("imu", shape=(6,), rate=1000, realtime=False, max_samples=1000, vanish_after=300)
    fine = SignalSource("mic", kind="audio", shape=(1,), rate=8000, chunk_size=80, realtime=False, max_samples=8000)
    rec, acq = make_recorder(gone, fine, start_sources=False)
    failed = _signals(rec)
    acq.start()
    assert gone.wait(10) and fine.wait(10)
    path = rec.stop()
    assert failed and failed[0][0] == "imu" and "disconnected" in failed[0][1]
    with Session.open(path) as s:
        imu, mic = s.streams["imu"], s.streams["mic"]
        assert imu.count == 300 and "disconnected" in imu.error and imu.stats.error == imu.error
        assert imu.stopped_at == imu.timestamps[-1]
        assert mic.count == 8000 and mic.error == "" and np.isnan(mic.stopped_at)
        assert s.complete and s.stop_reason == "stopped"
        assert any(e["stream"] == "imu" and e["level"] == "error" for e in s.log)


def test_stopped_at_is_the_last_sample_when_the_failure_is_seen_before_the_last_chunks(make_recorder):
    # The writer also polls device errors at each flush, so under load it can notice a failure
    # before it has taken the chunks the device sent just before failing (CI caught this).
    src = SignalSource("imu", shape=(6,), rate=1000, realtime=False, max_samples=300)
    rec, acq = make_recorder(src, start_sources=False)
    noticed = threading.Event()
    rec.failed.connect(lambda stream, msg: noticed.set())
    src.stats["imu"].error = "imu: device disconnected (emulated)"  # what _fail sets before its chunks are taken
    assert noticed.wait(10)
    acq.start()
    assert src.wait(10)
    path = rec.stop()
    with Session.open(path) as s:
        imu = s.streams["imu"]
        assert imu.count == 300
        assert imu.stopped_at == imu.timestamps[-1]


def test_a_stall_with_lost_samples_is_recorded_as_drops_and_a_gap(make_session):
    src = SignalSource("imu", shape=(2,), rate=1000, realtime=False, max_samples=3000, stall_after=1000, stall_for=0.2)
    path = make_session(src)
    with Session.open(path) as s:
        st = s.streams["imu"].stats
        assert st.samples == 2800 and st.dropped == 200
        assert len(st.gaps) == 1 and st.gaps[0][1] - st.gaps[0][0] == pytest.approx(0.201)
        assert s.streams["imu"].health["dropped"][-1] == 200


def test_bad_data_from_one_device_stops_that_stream_only(make_recorder, monkeypatch):
    bad = SignalSource("radar", kind="frames", shape=(8, 4), rate=50, chunk_size=1, realtime=False, max_samples=100)
    good = SignalSource("imu", shape=(3,), rate=100, realtime=False, max_samples=100)
    real = bad.expected
    monkeypatch.setattr(bad, "expected", lambda k: real(k) if k[0] < 40 else np.zeros((len(k), 9, 4), np.float32))
    rec, acq = make_recorder(bad, good, start_sources=False)
    failed = _signals(rec)
    acq.start()
    assert bad.wait(10) and good.wait(10)
    path = rec.stop()
    assert failed == [("radar", failed[0][1])] and "does not match" in failed[0][1]
    with Session.open(path) as s:
        assert s.streams["radar"].count == 40 and "does not match" in s.streams["radar"].error
        assert s.streams["imu"].count == 100


def test_disk_full_stops_the_recording_cleanly_and_keeps_what_was_written(make_recorder, monkeypatch):
    real_append = SessionWriter._append
    calls = {"n": 0}

    def append_until_full(self, ds, values, at=None):
        calls["n"] += 1
        if calls["n"] > 20 and ds.name.endswith("/data"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_append(self, ds, values, at)

    monkeypatch.setattr(SessionWriter, "_append", append_until_full)
    src = SignalSource("imu", shape=(6,), rate=1000, chunk_size=10, realtime=True)
    rec, acq = make_recorder(src, start_sources=False)
    failed = _signals(rec)
    stopped = []
    rec.stopped.connect(stopped.append)
    acq.start()
    # Wait for the failure via the signal (no sleeps tied to durations).
    for _ in range(400):
        if stopped:
            break
        src.wait(0.05)
    assert stopped, "the recorder should stop by itself when the disk is full"
    assert failed and failed[0][0] == "" and failed[0][1].startswith("disk full: free space on ")
    assert rec.error == failed[0][1] and not rec.recording
    assert acq._subscribers == []  # no longer queueing data it cannot write
    assert rec.stop() == rec.path  # stop() after the failure is harmless
    with Session.open(rec.path) as s:
        r = s.streams["imu"]
        assert s.complete and s.stop_reason.startswith("disk full")
        assert r.count > 0 and np.all(np.diff(r.timestamps) > 0)
        np.testing.assert_array_equal(r.read_index().data, src.expected(np.arange(r.count)))
