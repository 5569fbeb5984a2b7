"""A chunk a device thread is handing to the recorder as Record is stopped is in the file.

The hub reads its subscriber list once per chunk; a device thread that read it just before the
recorder detached still calls the recorder after. Its chunk arrived while recording, so it
belongs in the file, but it used to be queued behind the writer's end marker and dropped."""

from __future__ import annotations

import threading

import numpy as np

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.session import recorder as recorder_module
from sensorlab.session.reader import Session

N, CHUNK = 2000, 100


def test_the_chunk_handed_over_while_stopping_is_recorded(make_acquisition, tmp_path, monkeypatch):
    monkeypatch.setattr(recorder_module, "DETACH_WAIT", 30.0)  # the hand-over below is held up on purpose
    src = SignalSource("imu", shape=(6,), rate=1000, chunk_size=CHUNK, realtime=False, max_samples=N)
    acq = make_acquisition(src)
    seen, held, release = [0], threading.Event(), threading.Event()

    def slow_consumer(stream: str, chunk) -> None:  # called before the recorder: subscribed first
        seen[0] += len(chunk)
        if seen[0] == N:  # the last chunk: hold its hand-over until the stop is under way
            held.set()
            release.wait(30)

    acq.subscribe(slow_consumer, name="a slow consumer")
    rec = recorder_module.Recorder(acq, tmp_path / "s.h5")
    rec.start()
    acq.start()
    assert held.wait(30), f"the source sent {seen[0]} of {N} samples"
    stopping = threading.Thread(target=rec.stop)
    stopping.start()
    stopping.join(0.3)  # the recorder has detached (and, before the fix, queued its end) by now
    release.set()
    stopping.join(60)
    assert not stopping.is_alive()
    with Session.open(rec.path) as s:
        imu = s.streams["imu"]
        assert imu.count == N, f"{N - imu.count} samples of the last hand-over lost"
        assert np.all(np.diff(imu.timestamps) > 0)


def test_waiting_on_unsubscribe_is_asked_for_when_subscribing(make_acquisition):
    """The hub keeps track of the dispatches under way only while a subscriber that asked for it
    (the recorder) is subscribed; a wait for any other is refused with the fix, not ignored."""
    import pytest

    acq = make_acquisition(SignalSource("imu", shape=(6,), rate=1000, chunk_size=CHUNK, realtime=False, max_samples=N))
    got = []
    unsubscribe = acq.subscribe(lambda stream, chunk: got.append(len(chunk)), name="a plain consumer")
    with pytest.raises(ValueError, match="a plain consumer.*track_dispatches=True"):
        unsubscribe(wait=1.0)
    unsubscribe()
    tracked = acq.subscribe(lambda stream, chunk: got.append(len(chunk)), name="a tracked consumer", track_dispatches=True)
    acq.start()
    acq.sources[0].wait(30)
    tracked(wait=1.0)
    assert sum(got) == N
