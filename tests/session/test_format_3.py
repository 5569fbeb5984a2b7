"""Session format 3.0: runs that continue across batches, irregular arrival times as whole µs
after their timestamp, and files of the formats before it.

The chunks come from ``data/make_v20_session.py``: a microphone, a binary IMU and a text IMU with
the hand-overs and clocks of the real devices (deterministic), batched and flushed as the
recorder does.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from sensorlab.session import format as fmt
from sensorlab.session import time_columns
from sensorlab.session.reader import Session, SessionError
from sensorlab.session.summary import format_summary

DATA = Path(__file__).parent / "data"


def _stored(path: Path, stream: str, prefix: str = "") -> int:
    with h5py.File(path, "r") as f:
        return sum(ds.id.get_storage_size() for k, ds in f["streams"][stream].items() if k.startswith(prefix) and isinstance(ds, h5py.Dataset))


def test_a_file_written_by_sensorlab_2_0_reads_exactly_as_2_0_read_it(old_session, make_v20):
    """``data/v20_session.h5.gz`` was written, and ``v20_expected.json`` read, by the 2.0 code:
    every value and every time (arrival times too) must come back bit for bit."""
    path = old_session("2.0")
    want = json.loads((DATA / "v20_expected.json").read_text())
    with Session.open(path) as s:
        assert s.metadata.schema_version == "2.0"
        assert set(s.streams) == {"mic", "imu", "wrist", "cam", "labels"}
        assert {r.time_layout.value for r in s.streams.values()} == {"segments"}
        got = {k: make_v20.digest(v) for k, v in make_v20.stream_arrays(s).items()}
    assert got == want
    text = format_summary(path)
    assert "format 2.0, time layout: segments (time runs, every time bit-exact" in text


def test_a_3x_reader_refuses_a_4_0_file_and_this_reader_a_5_0_file(tmp_path, monkeypatch, make_v20):
    """4.0 stores irregular arrival µs as steps, which a 3.x reader would read as NaN (3.0
    changed them for 2.x readers likewise), so older readers must refuse it; they do for any
    newer major version (the check below is theirs, unchanged)."""
    path = tmp_path / "run1.h5"
    make_v20.write(path, "compact", seconds=0.5, only=("wrist",))
    with Session.open(path) as s:
        assert s.metadata.schema_version == "4.0"
    for major in (2, 3):
        monkeypatch.setattr(fmt, "SCHEMA_MAJOR", major)  # what every 2.x / 3.x reader has
        with pytest.raises(SessionError, match=rf"run1.h5: written with session format 4.0; this sensorlab reads {major}.x — update sensorlab"):
            Session.open(path)
    monkeypatch.undo()
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = "5.0"
    with pytest.raises(SessionError, match=r"written with session format 5.0; this sensorlab reads 4.x — update sensorlab"):
        Session.open(path)


@pytest.fixture(scope="module")
def minute(tmp_path_factory, make_v20):
    """60 s of the three devices written in the 3.0 and 2.0 layouts."""
    d = tmp_path_factory.mktemp("minute")
    paths = {}
    for layout in ("compact", "segments"):
        paths[layout] = d / f"{layout}.h5"
        make_v20.write(paths[layout], layout, seconds=60.0, only=("mic", "imu", "wrist"))
    return paths


def test_device_clocks_are_a_few_runs_per_minute_not_one_per_batch(minute):
    """A regular device clock lies on one line for minutes: its run continues from batch to batch
    (there were 600 runs a minute, one per 0.1 s batch, 30 bytes each before compression)."""
    for layout, path in minute.items():
        with h5py.File(path, "r") as f:
            for name in ("imu", "wrist", "mic"):
                rows = f["streams"][name]["device_times_segments"].shape[0]
                assert rows <= 20, (layout, name, rows)
        with Session.open(path) as s:
            imu = s.streams["imu"]
            dev = imu.read_index().device_times
            np.testing.assert_array_equal(dev, (5_000_000 + np.arange(imu.count) * 1000) * 1e-6)  # bit for bit


def test_irregular_arrival_times_cost_microseconds_and_read_within_half_of_one(minute):
    """The text IMU's per-line arrival stamps: float64 each in 2.0, whole µs after the line's
    timestamp in 3.0 (~2 bytes instead of ~6 compressed); read back within 0.5 µs; the binary
    IMU's arrivals (one per 10-sample packet) stay exact runs; the file is smaller."""
    with Session.open(minute["compact"]) as new, Session.open(minute["segments"]) as old:
        for name in ("mic", "imu", "wrist"):
            a, b = new.streams[name].read_index(), old.streams[name].read_index()
            np.testing.assert_array_equal(a.data, b.data)
            np.testing.assert_array_equal(a.timestamps, b.timestamps)
            np.testing.assert_array_equal(a.device_times, b.device_times)
            err = np.abs(a.arrival_times - b.arrival_times)
            assert err.max() <= 0.5e-6 + 1e-9, name
            if name != "wrist":
                assert err.max() == 0.0, name  # runs of a hand-over: exact
        wrist = new.streams["wrist"]
        assert wrist._col("arrival_times").quantized == wrist.count
    n = 6000  # text lines in a minute
    assert _stored(minute["compact"], "wrist", "arrival_times") / n < 2.5
    assert _stored(minute["segments"], "wrist", "arrival_times") / n > 4.0
    for name in ("mic", "imu", "wrist"):
        assert _stored(minute["compact"], name) < _stored(minute["segments"], name)
    # The binary IMU (12-byte samples) and the microphone within 1.1× their payload; the text IMU
    # (24-byte samples, one jittery arrival each) too (it was 1.3× in 2.0, 1.11× in 3.0).
    ratio = {name: _stored(minute["compact"], name) / _stored(minute["compact"], name, "data") for name in ("mic", "imu", "wrist")}
    assert ratio["imu"] <= 1.1 and ratio["mic"] <= 1.1 and ratio["wrist"] <= 1.1, ratio


def test_a_reader_sees_exact_times_after_every_drain_while_runs_grow(tmp_path, h5_group):
    """Runs that continue are rewritten in place (the last row only): after every flush a reader
    gets every time written so far bit for bit (µs runs within 0.5 µs), never a stale or torn run."""
    path = tmp_path / "cols.h5"
    rng = np.random.default_rng(5)
    f, g, append = h5_group(path)
    with f:
        ts_col = time_columns.ColumnWriter(g, "timestamps", 256, append)
        arr_col = time_columns.ColumnWriter(g, "arrival_times", 256, append, micros=True)
        ts_all, arr_all = [], []
        for batch in range(40):
            k0 = batch * 10
            ts = 7000.0 + 0.25 * (batch >= 20) + (k0 + np.arange(10)) / 100.0  # one step of the fit at batch 20
            arr = ts + 0.003 + rng.exponential(0.002, 10)
            arr_col.write(arr, k0, timestamps=ts)
            ts_col.write(ts, k0)
            ts_all.append(ts)
            arr_all.append(arr)
            if batch % 3 == 2 or batch == 39:
                arr_col.drain()
                ts_col.drain()
                tv = time_columns.ColumnView(g, "timestamps", trusted=False, contiguous=True)
                av = time_columns.ColumnView(g, "arrival_times", trusted=False, contiguous=False, timestamps=tv)
                want_t, want_a = np.concatenate(ts_all), np.concatenate(arr_all)
                assert tv.shape[0] == len(want_t)
                np.testing.assert_array_equal(tv[:], want_t)
                assert np.abs(av[:] - want_a).max() <= 0.5e-6 + 1e-9
        assert g["timestamps_segments"].shape[0] <= 4  # two lines (+ their first samples), not 40 rows
        assert g["arrival_times_segments"].shape[0] == 1  # one µs run for the whole column


def test_arrival_microseconds_that_never_reached_the_disk_read_as_nan(tmp_path, make_v20):
    """A crash between writing a µs run's row and its µs (HDF5 gives no order between chunks):
    the missing arrivals read as NaN (the fill value), never as the timestamp itself."""
    path = tmp_path / "run1.h5"
    make_v20.write(path, "compact", seconds=1.0, only=("wrist",))
    with Session.open(path) as s:
        want = s.streams["wrist"].read_index().arrival_times
    with h5py.File(path, "r+") as f:
        f["streams/wrist/arrival_times_us"].resize(40, axis=0)  # the rest never reached the disk
        del f.attrs["complete"]
    with Session.open(path) as s:
        got = s.streams["wrist"].read_index().arrival_times
    np.testing.assert_array_equal(got[:40], want[:40])
    assert np.isnan(got[40:]).all() and len(got) == len(want)


def test_a_clock_fit_move_near_a_batch_end_starts_a_run_not_explicit_times(tmp_path, timestamps_in_batches):
    """A text device's clock fit moves now and then; when it moves 1–3 lines before a batch ends,
    those lines were stored verbatim (8 bytes each) and the next batch could not continue a run
    from them. Now they start a run on the clock's step (1/rate) that the next batch lengthens:
    one run per fit move, no explicit times, every timestamp still bit for bit."""
    moves = [7, 19, 28, 49, 58, 61, 87]  # lines where the fit moves (1–3 before a batch's end too)
    idx = np.arange(100 * 10)
    offset = 81234.5 + 1e-4 * np.searchsorted(moves, idx % 100, "right") + 1e-3 * (idx // 100)
    ts = offset + idx / 100.0
    f, g, _col, view = timestamps_in_batches(tmp_path / "cols.h5", ts)
    with f:
        np.testing.assert_array_equal(view[:], ts)
        assert view.explicit == 0 and g["timestamps_values"].shape[0] == 0
        assert view.runs == 10 * (len(moves) + 1), view.runs  # one per fit move (was 101, + 140 explicit lines)


def test_a_minute_of_a_text_stream_costs_under_1_1_its_payload(minute):
    """The text IMU of the minute (4 ms of arrival jitter, a 0.1 ms fit move every 0.37 s):
    bytes stored per line ÷ its 24-byte payload, from the file. It was 1.14 in the first 3.0
    writer (short explicit pieces at fit moves, level-1 gzip of the ulps), 1.11 in the last one
    (arrival µs kept whole, two health rows a second); 4.0 keeps the µs as steps and writes a
    health row when a counter changes or every 5 s."""
    n = 6000
    stored = _stored(minute["compact"], "wrist")
    assert _stored(minute["compact"], "wrist", "timestamps_values") == 0
    assert stored / (n * 24) <= 1.1, stored / (n * 24)


def test_lines_read_together_continue_the_microsecond_run(tmp_path, h5_group):
    """On a loaded machine a text device's lines arrive in bursts (one arrival for several
    lines): such a batch is a cheap exact run on its own, but cut the µs run into a row per
    burst (0.66 byte a line in a 30 s demo recording). A µs run now goes on through them: one
    row for the column, every arrival within 0.5 µs."""
    path = tmp_path / "cols.h5"
    rng = np.random.default_rng(8)
    f, g, append = h5_group(path)
    with f:
        col = time_columns.ColumnWriter(g, "arrival_times", 256, append, micros=True)
        ts = 5000.0 + 0.01 * np.arange(400)
        arr = ts + 0.003 + rng.exponential(0.002, 400)
        for k0 in range(0, 400, 10):
            if (k0 // 10) % 2:  # every other batch read in one burst: one arrival for 10 lines
                arr[k0 : k0 + 10] = arr[k0 + 9] + 0.01
            col.write(arr[k0 : k0 + 10], k0, timestamps=ts[k0 : k0 + 10])
        col.drain()
        g.create_dataset("timestamps_segments", data=np.array([(0, 400, 5000.0, 0.01, 0)], dtype=time_columns.SEG_DTYPE))
        for k in ("values", "ulps"):
            g.create_dataset(f"timestamps_{k}", (0,), "f8" if k == "values" else "i1")
        tv = time_columns.ColumnView(g, "timestamps", trusted=True, contiguous=True)
        np.testing.assert_array_equal(tv[:], ts)
        av = time_columns.ColumnView(g, "arrival_times", trusted=False, contiguous=False, timestamps=tv)
        assert np.abs(av[:] - arr).max() <= 0.5e-6 + 1e-9
        assert g["arrival_times_segments"].shape[0] == 1  # was 40 (a row per burst and per restart)
