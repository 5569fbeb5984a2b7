"""Stop keeps the samples a device took before it that a loaded host has not read yet
(`session/stop_drain.py`): the recorder stopped listening at once, and a reader that was behind
lost them from the file (and the stream looked as if its device had stopped sending)."""

from __future__ import annotations

import threading

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.session.reader import Session

RATE = 200.0


def _wait(cond, timeout: float = 30.0) -> None:
    pause, t0 = threading.Event(), now()
    while not cond():
        assert now() - t0 < timeout, "condition not met in time"
        pause.wait(0.01)


def test_samples_taken_before_stop_and_read_late_are_in_the_file(make_recorder):
    # The host falls 1.5 s behind reading the device (its samples are taken on time and
    # delivered afterwards, none lost); Stop comes while it is behind.
    src = SignalSource("s", rate=RATE, device_time=True, realtime=True, chunk_size=4, stall_for=1.5, stall_drops=False)
    rec, acq = make_recorder(src)
    st = acq.stats["s"]
    _wait(lambda: st.samples > RATE)
    src.stall(1.5)
    _wait(lambda: now() - st.last_arrival > 0.5)  # well into the stall: half a second unread
    t_stop = now()
    path = rec.stop()
    with Session.open(path) as s:
        last = s.streams["s"].last_time
        assert last >= t_stop - 2.0 / RATE, f"the samples of the last {t_stop - last:.2f} s before Stop are missing"
        assert s.streams["s"].stats.dropped == 0


def test_a_finite_source_that_ended_is_not_waited_for(make_recorder):
    src = SignalSource("s", rate=RATE, realtime=False, max_samples=100, chunk_size=10)
    rec, acq = make_recorder(src)
    assert src.wait(20.0)
    from sensorlab.session.stop_drain import wait_for_samples_up_to

    assert wait_for_samples_up_to(now() + 100.0, {"s": src.streams[0]}, acq, ["s"], give_up_after=600.0) == []
    rec.stop()
