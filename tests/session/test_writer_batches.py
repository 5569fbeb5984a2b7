"""The recorder's writer thread takes the queue in batches, not one wake-up per chunk.

Every wake-up of a Python thread takes the GIL, and one that wakes while the GUI thread runs
Python makes it hand the GIL over (docs/performance/live-view.md, "Live view, tenth round"). The writer
only writes when a batch is due (`BATCH_INTERVAL`), so it now sleeps until then and drains
everything at once. What a user relies on: every sample is still in the file, in order, and
`stop` still ends the recording (the writer is woken for it, not left asleep).
"""

from __future__ import annotations

import numpy as np

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.session.reader import Session
from sensorlab.session.recorder import Recorder


def test_the_writer_takes_chunks_in_batches_and_stores_every_sample(make_recorder, monkeypatch):
    # 500 chunks a second: the writer used to wake for nearly every one of them.
    src = SignalSource("imu", shape=(2,), rate=2000, chunk_size=4, max_samples=3000)
    takes: list[int] = []
    take = Recorder._take

    def counting(self, deadline):
        items = take(self, deadline)
        takes.append(len(items))
        return items

    monkeypatch.setattr(Recorder, "_take", counting)
    rec, _acq = make_recorder(src)
    assert src.wait(30), "the source did not finish"
    path = rec.stop()
    with Session.open(path) as s:
        d = s.streams["imu"].read_index()
    assert len(d) == 3000
    np.testing.assert_array_equal(d.data, src.expected(np.arange(3000)))
    chunks = sum(takes)
    assert chunks >= 750  # the 750 chunks (and the stop), all through the queue
    # About one wake-up per batch interval (~15 in 1.5 s), not one per chunk (~750); a slow
    # machine only makes the batches larger.
    assert chunks / len(takes) >= 10, f"{len(takes)} wake-ups for {chunks} queue items"
