"""The recorder's appends go through h5py's low-level calls and store exactly what came in.

Each append through h5py's high-level ``Dataset.__setitem__`` cost ~80 µs of Python (its
selection machinery) on top of the write, ~160 times a second on the demo rig, all of it
holding the GIL that the live view and the device threads wait for (docs/PERFORMANCE.md §4).
"""

from __future__ import annotations

import threading

import h5py
import numpy as np
import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.source import Chunk
from sensorlab.session.reader import Session
from sensorlab.session.writer import SessionWriter


@pytest.fixture
def high_level_writes(monkeypatch):
    """Count the writer's appends, and those of them that went through ``Dataset.__setitem__``."""
    counts = {"appends": 0, "setitem": 0}
    inside = threading.local()
    append, setitem = SessionWriter._append, h5py.Dataset.__setitem__

    def counting_append(self, ds, values, at=None):
        counts["appends"] += 1
        inside.on = True
        try:
            return append(self, ds, values, at)
        finally:
            inside.on = False

    def counting_setitem(self, key, value):
        if getattr(inside, "on", False):
            counts["setitem"] += 1
        return setitem(self, key, value)

    monkeypatch.setattr(SessionWriter, "_append", counting_append)
    monkeypatch.setattr(h5py.Dataset, "__setitem__", counting_setitem)
    return counts


def test_appends_skip_h5py_high_level_and_store_every_value(make_session, high_level_writes):
    imu = SignalSource("imu", kind="timeseries", shape=(6,), dtype="int16", rate=1000, chunk_size=10, pattern="sine",
                       max_samples=3000, realtime=False)  # fmt: skip
    radar = SignalSource("radar", kind="frames", shape=(64, 32), dtype="int16", rate=20, chunk_size=1, pattern="sine",
                         max_samples=40, realtime=False)  # fmt: skip
    events = SignalSource("board", kind="events", rate=10, chunk_size=1, max_samples=20, realtime=False)
    path = make_session(imu, radar, events)

    assert high_level_writes["appends"] >= 8  # data, time columns, health rows, blobs of 3 streams
    assert high_level_writes["setitem"] == 0
    k_imu, k_radar, k_ev = np.arange(3000), np.arange(40), np.arange(20)
    with Session.open(path) as s:
        r = s.streams["imu"]
        assert r.count == 3000
        np.testing.assert_array_equal(r.timestamps, imu.timestamps(k_imu))
        np.testing.assert_array_equal(r.read_index().data, imu.expected(k_imu))
        m = s.streams["radar"]
        assert m.count == 40
        np.testing.assert_array_equal(m.read_index().data, radar.expected(k_radar))
        e = s.streams["board"]
        assert e.read_index().data.tolist() == events.expected(k_ev).tolist()


def test_append_converting_dtype_still_writes(tmp_path):
    """Values of another dtype than the dataset's (or another trailing shape) take h5py's
    converting path: the fast path writes only what needs no conversion."""
    with h5py.File(tmp_path / "x.h5", "w") as f:
        ds = f.create_dataset("a", (0, 2), "f4", maxshape=(None, 2), chunks=(16, 2))
        one = f.create_dataset("b", (0,), "i8", maxshape=(None,), chunks=(16,))
        w = SessionWriter.__new__(SessionWriter)  # only `_append`'s own state
        w.bytes_written, w.write_failed = 0, False
        w._append(ds, np.array([[1.5, 2.5], [3.5, 4.5]]))  # float64 into float32
        w._append(ds, np.array([[5, 6]], dtype=np.float32))
        w._append(ds, np.array([[7.0, 8.0]], dtype=np.float32), at=1)  # rewrite from row 1
        w._append(one, np.arange(3, dtype=np.int64))
        w._append(one, np.arange(5, dtype=np.int64)[::2], at=3)  # not contiguous
        np.testing.assert_array_equal(ds[:], [[1.5, 2.5], [7.0, 8.0]])
        np.testing.assert_array_equal(one[:], [0, 1, 2, 0, 2, 4])


def test_incoming_chunks_are_checked_without_asking_hdf5(make_session, monkeypatch):
    """A chunk's sample shape is checked against the stream's declared one, not the dataset's
    shape read back from HDF5 for each of the ~400 chunks a second of the demo rig."""
    reads = []
    shape = h5py.Dataset.shape
    monkeypatch.setattr(h5py.Dataset, "shape", property(lambda self: reads.append(1) or shape.fget(self)))
    imu = SignalSource("imu", kind="timeseries", shape=(6,), dtype="int16", rate=1000, chunk_size=10, max_samples=3000, realtime=False)
    path = make_session(imu)
    assert len(reads) < 30  # 300 chunks
    with Session.open(path) as s:
        assert s.streams["imu"].count == 3000


def test_a_chunk_of_another_shape_is_refused_with_the_declared_one(make_recorder):
    imu = SignalSource("imu", kind="timeseries", shape=(6,), dtype="int16", rate=1000, chunk_size=10, max_samples=30, realtime=False)
    rec, _acq = make_recorder(imu)
    store = rec._writer.stores["imu"]
    with pytest.raises(ValueError, match=r"samples of shape \(3,\) do not match the declared \(6,\)"):
        store._check(Chunk(np.zeros((2, 3), np.int16), np.array([0.0, 0.001])))
    rec.stop()
