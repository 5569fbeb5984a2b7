"""Session format 4.0: irregular arrival µs kept as their steps, health rows on change (or every
5 s), clock-fit moves every few lines without verbatim timestamps, and 3.0 files still read.

Chunks come from ``data/make_v20_session.py`` (the real devices' hand-overs and clocks,
deterministic), batched and flushed as the recorder does, or are written through `ColumnWriter`
directly where one behaviour is the point.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.session import format as fmt
from sensorlab.session import time_columns, timecodec
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.reader import Session
from sensorlab.session.summary import format_summary
from sensorlab.session.writer import SessionWriter

DATA = Path(__file__).parent / "data"


def test_a_file_written_by_sensorlab_3_0_reads_exactly_as_3_0_read_it(old_session, make_v20):
    """``data/v30_session.h5.gz`` was written, and ``v30_expected.json`` read, by the 3.0 code
    (arrival µs kept whole, a health row per flush): every value, time and health row comes back
    bit for bit, and `sensorlab info` names the format and its layout."""
    path = old_session("3.0")
    want = json.loads((DATA / "v30_expected.json").read_text())
    with Session.open(path) as s:
        assert s.metadata.schema_version == "3.0"
        assert set(s.streams) == {"mic", "imu", "wrist", "cam", "labels"}
        assert s.streams["wrist"]._col("arrival_times").quantized == s.streams["wrist"].count  # whole µs, residual 2
        assert {r.time_layout.value for r in s.streams.values()} == {"compact"}
        got = {k: make_v20.digest(v) for k, v in make_v20.stream_arrays(s, health=True).items()}
    assert got == want
    assert "format 3.0, time layout: compact (time runs; irregular arrival times to 1 µs, whole; sensorlab 3.x reads it)" in format_summary(path)


def test_arrival_steps_read_within_half_a_microsecond_from_any_range(tmp_path, make_v20):
    """A binary IMU (one arrival per 10-sample packet: exact runs here) and a text IMU (one per
    line, jittery) for 45 s: the text IMU's µs are kept as steps (``residual`` 3), summed from an anchor every
    `MICROS_BLOCK` samples. Every arrival reads within 0.5 µs of what the device thread stamped
    (the 2.0 file keeps them bit for bit), and a read of any range — starting before, on or
    after an anchor, across runs — gives exactly what the whole-column read gives."""
    paths = {layout: tmp_path / f"{layout}.h5" for layout in ("compact", "segments")}
    for layout, path in paths.items():
        make_v20.write(path, layout, seconds=45.0, only=("imu", "wrist"))  # the text IMU past one block
    rng = np.random.default_rng(3)
    with Session.open(paths["compact"]) as new, Session.open(paths["segments"]) as old:
        assert new.metadata.schema_version == "4.0"
        for name in ("imu", "wrist"):
            r = new.streams[name]
            whole, exact = r.read_index(), old.streams[name].read_index()
            np.testing.assert_array_equal(whole.timestamps, exact.timestamps)
            assert np.abs(whole.arrival_times - exact.arrival_times).max() <= 0.5e-6 + 1e-9, name
            with h5py.File(paths["compact"]) as f:
                codes = set(f["streams"][name]["arrival_times_segments"][:]["residual"].tolist())
            assert codes == ({timecodec.MICROS_STEPS} if name == "wrist" else {timecodec.EXACT}), (name, codes)
            block = timecodec.MICROS_BLOCK
            starts = [0, 1, block - 1, block, block + 1, 2 * block + 7, *rng.integers(0, r.count, 30).tolist()]
            for i0 in starts:
                if i0 >= r.count:
                    continue
                i1 = min(r.count, i0 + int(rng.integers(1, 3 * block)))
                np.testing.assert_array_equal(r.read_index(i0, i1).arrival_times, whole.arrival_times[i0:i1], err_msg=f"{name} [{i0}, {i1})")
            assert r.read_index(block, block + 1).arrival_times[0] == whole.arrival_times[block]


def test_arrival_steps_cost_less_than_whole_microseconds(tmp_path, h5_group):
    """The same arrivals through one `ColumnWriter` as whole µs (3.0, ``residual`` 2) and as
    steps (4.0): a text device's lines, some read together (a step of 0), cost ~15 % fewer
    bytes; a camera stamped when its grab returns (arrival = timestamp) keeps whole µs (all 0),
    since its steps would be the timestamps' own."""
    rng = np.random.default_rng(11)
    n = 6000
    ts = 5000.0 + 0.01 * np.arange(n)
    arr = ts + 0.004 + rng.exponential(0.006, n)
    burst = rng.random(n) < 0.3
    for i in np.flatnonzero(burst)[::-1]:
        if i + 1 < n:
            arr[i] = arr[i + 1]  # read together with the next line
    arr = np.maximum.accumulate(arr)
    f, g, append = h5_group(tmp_path / "a.h5")
    with f:
        col = time_columns.ColumnWriter(g, "arrival_times", 256, append, micros=True)
        for k0 in range(0, n, 10):
            col.write(arr[k0 : k0 + 10], k0, timestamps=ts[k0 : k0 + 10])
        col.drain()
        steps = g["arrival_times_us"].id.get_storage_size()
        assert g["arrival_times_segments"].shape[0] == 1 and g["arrival_times_segments"][0]["residual"] == timecodec.MICROS_STEPS
        whole = f.create_dataset("whole", data=timecodec.to_micros(arr, ts), chunks=(4096,), **timecodec.COMPRESS_INT32)
        assert steps <= 0.9 * whole.id.get_storage_size(), (steps, whole.id.get_storage_size())
    # A camera: arrival = timestamp, stamped with jitter.
    cam = 5000.0 + np.cumsum(1 / 30 + rng.normal(0, 0.002, 300))
    f, g, append = h5_group(tmp_path / "cam.h5")
    with f:
        col = time_columns.ColumnWriter(g, "arrival_times", 256, append, micros=True)
        for k0 in range(0, 300, 3):
            col.write(cam[k0 : k0 + 3], k0, timestamps=cam[k0 : k0 + 3])
        col.drain()
        rows = g["arrival_times_segments"][:]
        assert set(rows["residual"].tolist()) == {timecodec.MICROSECONDS} and len(rows) == 1
        assert (g["arrival_times_us"][:] == 0).all()


def test_a_fit_that_moves_every_few_lines_leaves_no_verbatim_timestamps(tmp_path, timestamps_in_batches):
    """On a loaded machine a text device's clock fit moved every 1–4 lines at times; the first
    4.0 writer (like 3.0) stored such stretches verbatim (`encode` merges short runs): 0.26 byte a
    line of a 100 Hz stream in a 60 s demo recording, and no run continued from them. They are
    one-sample runs on the clock's step now, lengthened by the lines after them: no verbatim
    time, every timestamp bit for bit."""
    rng = np.random.default_rng(2)
    n = 3000
    idx = np.arange(n)
    busy = (idx % 400 >= 100) & (idx % 400 < 200)  # a busy stretch: the fit moves at half the lines; calm: now and then
    moves = np.cumsum(np.where(rng.random(n) < np.where(busy, 0.5, 0.02), rng.normal(0, 2e-5, n), 0.0))
    ts = 81234.5 + moves + idx / 100.0
    assert (np.diff(ts) > 0).all()
    f, _g, col, view = timestamps_in_batches(tmp_path / "t.h5", ts)
    with f:
        np.testing.assert_array_equal(view[:], ts)
        assert view.explicit == 0 and col.explicit == 0, view.explicit


def _writer(path: Path) -> SessionWriter:
    info = StreamInfo("imu", StreamKind.TIMESERIES, 100.0, tuple("abc"), ("g",) * 3, "float32", (3,), "test imu", True)
    w = SessionWriter(path)
    w.on_start({"imu": info}, SessionMetadata(name="health"))
    return w


def test_health_rows_are_written_when_a_counter_changes_or_every_5_s(tmp_path):
    """Two rows a second were 0.4 byte per sample of a 100 Hz stream (19 bytes each compressed:
    float mantissas). A 4.0 file gets a row at the first flush, at every flush where a loss
    counter changed, and 5 s after the last one otherwise; a file that was never closed (a
    SIGKILL) reports the counters of its last flush."""
    path = tmp_path / "run1.h5"
    w = _writer(path)
    t0 = 1000.0
    dropped = 0
    written = []
    for k in range(30):  # 15 s of flushes every 0.5 s
        t = t0 + 0.5 * k
        ts = t + np.arange(50) / 100.0
        w.on_chunk("imu", Chunk(np.zeros((50, 3), np.float32), ts))
        if k == 13:
            dropped = 7  # the device lost 7 samples before this flush
        w.on_health(t, {"imu": (w.written("imu").count, dropped, 0, 0, 0)})
        w.flush()
        written.append(t)
    with Session.open(path) as s:  # not closed: read like a crashed recording
        h = s.streams["imu"].health
        assert h["time"].tolist() == [t0, t0 + 5.0, t0 + 6.5, t0 + 11.5], h["time"].tolist()
        assert s.streams["imu"].stats.dropped == 7
    w.close()


def test_a_segments_file_still_gets_a_health_row_at_every_flush(tmp_path):
    """2.0 files (``time_layout="segments"``, for 2.x readers) keep the 2.0 behaviour."""
    info = StreamInfo("imu", StreamKind.TIMESERIES, 100.0, tuple("abc"), ("g",) * 3, "float32", (3,), "test imu", True)
    path = tmp_path / "run1.h5"
    w = SessionWriter(path, time_layout=fmt.TimeLayout.SEGMENTS.value)
    w.on_start({"imu": info}, SessionMetadata(name="health"))
    for k in range(6):
        w.on_chunk("imu", Chunk(np.zeros((50, 3), np.float32), 1000.0 + 0.5 * k + np.arange(50) / 100.0))
        w.on_health(1000.0 + 0.5 * k, {"imu": (w.written("imu").count, 0, 0, 0, 0)})
        w.flush()
    w.on_stop({"imu": {"count": w.written("imu").count}}, {"complete": True})
    with Session.open(path) as s:
        assert len(s.streams["imu"].health) == 6
