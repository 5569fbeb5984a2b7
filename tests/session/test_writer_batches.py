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
from sensorlab.acquisition.source import Chunk, StreamKind
from sensorlab.session.reader import Session
from sensorlab.session.recorder import Recorder

from .conftest import demo_rig_delivered


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


#: Raw arrival times of the compact layout: whole µs after the sample's timestamp.
ARRIVAL_TOL = 0.5e-6 + 1e-9


class FineBatchTee:
    """The recorder's writer (one batch per stream and flush), plus a second writer that gets
    the very same samples cut into the 0.1 s batches the recorder wrote before, flushed at the
    same moments: how every recording was written until one batch per flush."""

    def __init__(self, path, fine_path):
        from sensorlab.session.writer import SessionWriter

        self.main = SessionWriter(path)
        self.fine = SessionWriter(fine_path)
        self.batches: dict[str, int] = {}

    def on_chunk(self, name, chunk):
        self.batches[name] = self.batches.get(name, 0) + 1
        ts = chunk.timestamps
        edges = np.searchsorted(ts, np.arange(ts[0], ts[-1], 0.1)[1:], "left")
        for i, j in zip([0, *edges], [*edges, len(chunk)], strict=True):
            if j > i:
                self.fine.on_chunk(name, Chunk(chunk.data[i:j], ts[i:j], None if chunk.device_times is None else chunk.device_times[i:j],
                                               None if chunk.arrival_times is None else chunk.arrival_times[i:j]))  # fmt: skip
        return self.main.on_chunk(name, chunk)

    def __getattr__(self, name):
        attr = getattr(self.main, name)
        if not callable(attr) or name in ("written", "check"):
            return attr

        def both(*args, **kwargs):
            getattr(self.fine, name)(*args, **kwargs)
            return attr(*args, **kwargs)

        return both


def test_one_batch_per_flush_stores_exactly_what_fine_batches_stored(tmp_path):
    """The writer appends each stream once per flush (`BATCH_INTERVAL` = `FLUSH_INTERVAL`): the
    demo rig's samples, timestamps and raw clocks read back bit for bit as when the same chunks
    were appended in 0.1 s batches (the cadence before), in a real HDF5 file of the default layout."""
    from sensorlab.acquisition.emulated.rig import demo_sources
    from sensorlab.acquisition.hub import Acquisition
    from sensorlab.session.recorder import BATCH_INTERVAL, FLUSH_INTERVAL

    assert BATCH_INTERVAL == FLUSH_INTERVAL
    path, fine_path = tmp_path / "per-flush.h5", tmp_path / "fine.h5"
    acq = Acquisition(demo_sources(eeg=False))
    acq.open()
    try:
        tee = FineBatchTee(path, fine_path)
        rec = Recorder(acq, path, writer=tee)
        rec.start()
        acq.start()
        delivered = demo_rig_delivered(rec)
        rec.stop()
    finally:
        acq.close()
    assert delivered, "the demo rig did not deliver 2.5 s of every stream within 60 s"
    with Session.open(path) as new, Session.open(fine_path) as fine:
        assert set(new.streams) == set(fine.streams) >= {"camera", "mic", "imu", "radar", "wrist"}
        for name, a in new.streams.items():
            b = fine.streams[name]
            assert a.count == b.count, name
            x, y = a.read_index(decode=False), b.read_index(decode=False)
            if a.info.kind in (StreamKind.VIDEO, StreamKind.EVENTS):
                assert list(x.data) == list(y.data), name
            else:
                assert x.data.dtype == y.data.dtype, name
                np.testing.assert_array_equal(x.data, y.data, err_msg=name)
            np.testing.assert_array_equal(x.timestamps, y.timestamps, err_msg=name)
            # Irregular raw arrivals are kept as whole µs after their timestamp in this layout
            # (docs/SESSION-FORMAT.md): which of them are µs and which exact runs may follow the
            # batches, so they agree within half a µs; every other time bit for bit.
            for u, v, tol in ((x.device_times, y.device_times, 0.0), (x.arrival_times, y.arrival_times, ARRIVAL_TOL)):
                assert (u is None) == (v is None), name
                if u is not None:
                    np.testing.assert_array_equal(np.isnan(u), np.isnan(v), err_msg=name)
                    np.testing.assert_allclose(u, v, rtol=0, atol=tol, err_msg=name)
    # ~2.5 s recorded, a flush every 0.5 s: a handful of appends per stream, not one per 0.1 s.
    assert tee.batches["mic"] <= 2.5 / FLUSH_INTERVAL + 4, tee.batches
