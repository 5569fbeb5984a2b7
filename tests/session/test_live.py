"""Reading a session while it is recorded (SWMR), pre-roll, and the recorder's health properties."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.session.reader import Session
from sensorlab.session.recorder import QUEUE_WARN_CHUNKS, Recorder
from sensorlab.session.writer import SessionWriter


def _wait_for(predicate, src: SignalSource, tries: int = 400) -> bool:
    for _ in range(tries):
        if predicate():
            return True
        src.wait(0.02)  # paces the loop; returns early only if the source ended
    return False


def test_a_reader_follows_a_recording_while_it_is_written(make_recorder):
    src = SignalSource("imu", shape=(6,), rate=500, chunk_size=10)
    rec, acq = make_recorder(src)
    s = Session.open(rec.path)
    try:
        r = s.streams["imu"]
        assert s.live and not s.complete and "labels" in s.streams

        def grown(than: int):
            def check():
                s.refresh()
                return r.count > than
            return check

        assert _wait_for(grown(0), src)
        first = r.count
        assert _wait_for(grown(first + 100), src)
        np.testing.assert_array_equal(r.read_index().data, src.expected(np.arange(r.count)))
        rec.add_event("marker")
        assert _wait_for(lambda: (s.refresh(), s.streams["labels"].count == 1)[1], src)
        rec.stop()  # footers are written although the reader still has the file open
        s.refresh()
        assert s.complete and r.stats.samples == r.count
    finally:
        s.close()


def test_preroll_is_written_first_without_duplicates(make_acquisition, tmp_path):
    src = SignalSource("imu", shape=(2,), rate=1000, chunk_size=10)
    acq = make_acquisition(src)
    ring = acq.ring("imu", seconds=0.3)
    acq.start()
    assert _wait_for(lambda: ring.total >= 600, src)  # ring holds only ~the last 0.3 s
    # Freeze the ring while the recorder starts (creating the file can take longer than the
    # ring's 0.3 s on a loaded machine), so what it holds is known; live data follows after.
    acq.stop()
    held = ring.snapshot()
    rec = Recorder(acq, tmp_path / "pre.h5", preroll={"imu": ring})
    rec.start()
    start = rec.metadata.start_host_time
    acq.start()
    n0 = src.stats["imu"].samples
    assert _wait_for(lambda: src.stats["imu"].samples >= n0 + 300, src)
    path = rec.stop()
    with Session.open(path) as s:
        d = s.streams["imu"].read_index()
        k = (d.data[:, 0] / 2).astype(int)  # counter pattern: sample index
        assert np.all(np.diff(k) == 1), "pre-roll and live data must join without gaps or duplicates"
        assert np.all(np.diff(d.timestamps) > 0)
        # The file starts with exactly what the ring held before Record, then runs on live.
        assert d.timestamps[0] == held.timestamps[0] and held.timestamps[-1] - held.timestamps[0] >= 0.25
        assert d.timestamps[0] < start and d.timestamps[-1] > start and len(d) >= len(held) + 300
        assert k[0] > 0  # only the ring's last seconds, not the whole history


def test_health_properties(make_recorder, monkeypatch):
    """While the disk is slow, chunks queue up and `queue_size`/`queue_fill` say how many; once
    it catches up, all of them are written and the queue is empty."""
    real_append = SessionWriter._append
    slow_disk, writer_waiting = threading.Event(), threading.Event()

    def append_when_allowed(self, *args, **kwargs):
        if threading.current_thread().name == "recorder-writer":
            writer_waiting.set()
            slow_disk.wait(60)
        real_append(self, *args, **kwargs)

    monkeypatch.setattr(SessionWriter, "_append", append_when_allowed)
    src = SignalSource("imu", shape=(6,), rate=1000, chunk_size=10)
    rec, acq = make_recorder(src)
    assert rec.path.suffix == ".h5" and rec.recording
    assert writer_waiting.wait(10)
    assert _wait_for(lambda: rec.queue_size >= 20, src)  # 10-sample chunks pile up
    acq.stop()  # freeze the queue to compare the two figures
    waiting = rec.queue_size
    assert waiting >= 20 and rec.queue_fill == pytest.approx(min(1.0, waiting / QUEUE_WARN_CHUNKS))
    slow_disk.set()
    rec.stop()
    assert rec.queue_size == 0 and rec.queue_fill == 0.0
    n = src.stats["imu"].samples
    with Session.open(rec.path) as s:
        assert s.streams["imu"].count == n  # nothing that waited in the queue was lost
    assert rec.bytes_written >= n * 6 * 4  # every sample's data (its times are a few runs: see test_compact_layout)
    frozen = rec.elapsed
    assert frozen > 0 and rec.elapsed == frozen and not rec.recording


def test_signals_and_context_manager(make_acquisition, tmp_path):
    src = SignalSource("x", realtime=False, max_samples=100)
    acq = make_acquisition(src)
    rec = Recorder(acq, tmp_path / "cm.h5")
    seen = []
    rec.started.connect(lambda p: seen.append(("started", p)))
    rec.stopped.connect(lambda p: seen.append(("stopped", p)))
    with rec:
        acq.start()
        assert src.wait(10)
    assert seen == [("started", str(rec.path)), ("stopped", str(rec.path))]
    with pytest.raises(RuntimeError, match="records once"):
        rec.start()


def test_preroll_samples_that_also_arrive_live_are_written_once(make_acquisition, tmp_path):
    src = SignalSource("imu", shape=(1,), rate=1000, chunk_size=10, realtime=False, max_samples=1000)
    acq = make_acquisition(src)
    ring = acq.ring("imu", seconds=0.2)
    acq.start()
    assert src.wait(10)
    rec = Recorder(acq, tmp_path / "dup.h5", preroll={"imu": ring})
    rec.start()
    # The race the recorder guards against: a chunk dispatched between subscribing and
    # snapshotting the ring reaches both. Replay the ring's last two chunks, then new data.
    held = ring.snapshot()
    rec._enqueue("imu", type(held)(held.data[-20:], held.timestamps[-20:]))
    src.max_samples = 1100
    acq.stop()
    acq.start()
    assert src.wait(10)
    path = rec.stop()
    with Session.open(path) as s:
        k = s.streams["imu"].read_index().data[:, 0].astype(int)
        assert k[-1] == 1099 and np.all(np.diff(k) == 1)
        assert k[0] == 1000 - len(held)


def test_preroll_ends_where_record_was_pressed_however_long_the_file_takes_to_create(make_acquisition, tmp_path, monkeypatch):
    """The pre-roll is the seconds before Record, also when creating the file takes longer than
    the pre-roll lasts (a slow disk; on a loaded CI machine 3.5 s): the rings were snapshot only
    after the file existed, and had rolled on meanwhile, so the file began after Record."""
    src = SignalSource("imu", shape=(1,), rate=1000, chunk_size=10)
    acq = make_acquisition(src)
    ring = acq.ring("imu", seconds=0.5)
    acq.start()
    st = src.stats["imu"]
    assert _wait_for(lambda: st.samples >= 800, src)  # the ring is full
    real_on_start = SessionWriter.on_start

    def slow_on_start(self, *args, **kwargs):
        # Until the ring holds only data from after Record: more than its 0.5 s went by.
        assert _wait_for(lambda: st.last_time > pressed + 1.0, src, tries=3000)
        return real_on_start(self, *args, **kwargs)

    monkeypatch.setattr(SessionWriter, "on_start", slow_on_start)
    pressed = now()
    rec = Recorder(acq, tmp_path / "slow.h5", preroll={"imu": ring})
    rec.start()
    n = st.samples
    assert _wait_for(lambda: st.samples >= n + 100, src)
    path = rec.stop()
    with Session.open(path) as s:
        d = s.streams["imu"].read_index()
        # The ring held 0.5 s before Record (less whatever a loaded machine took to get from
        # `pressed` to the snapshot); without the fix it began over 0.5 s after Record.
        assert d.timestamps[0] < pressed - 0.25, d.timestamps[0] - pressed
        k = (d.data[:, 0]).astype(int)  # counter pattern: sample index
        assert np.all(np.diff(k) == 1), "pre-roll and live data join without gaps or duplicates"
