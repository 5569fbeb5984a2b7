"""A recording's loss figures are those of the time it ran, not of the seconds its writer took
to drain afterwards.

At load 20–45 `record --demo` files counted drops and gaps of the IMU that happened up to 6 s
after the recording's end (its writer still draining while the device went on losing lines):
d11 stored `dropped` 630 where 90 samples were missing between its first and last sample, and
gaps after its end time. The counters are now frozen when `Recorder.stop` takes no more chunks.
"""

from __future__ import annotations

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.session.reader import Session


def test_drops_after_the_recording_stopped_are_not_its_drops(make_recorder):
    # The device loses 0.5 s of samples 3 s in; the recording stops well before that.
    src = SignalSource("s", rate=200, realtime=True, chunk_size=10, max_samples=800, stall_after=600, stall_for=0.5, stall_drops=True)
    rec, acq = make_recorder(src)
    while acq.stats["s"].samples < 100:
        assert not src.wait(0.02), "the source finished before 100 samples were counted"
    path = rec.stop()
    frozen = rec.counters()["s"].dropped
    assert src.wait(30.0)
    assert acq.stats["s"].dropped == 100  # the device did lose them, after the end
    with Session.open(path) as s:
        st = s.streams["s"].stats
        # On a loaded machine the stall may fall inside the recording: then it is counted, once.
        stored_missing = 100 if st.gaps else 0
        assert st.dropped == stored_missing and len(st.gaps) == (1 if stored_missing else 0), st
    assert rec.counters()["s"].dropped == frozen == st.dropped  # what the recorder shows is the file's
