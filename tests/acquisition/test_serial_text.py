"""Text-line parser: formats, header, time columns, bad input (never raises, counts it)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorlab.acquisition.serial.text import TextLineParser

ROWS = np.array([[0.5, -1.25, 3.0], [1.0, 2.0, -3.5], [0.0, 0.125, 9.0], [7.0, 8.0, 9.5]])


def _feed_all(parser: TextLineParser, data: bytes):
    runs = parser.feed(data)
    data_ = np.concatenate([r.data for r in runs]) if runs else np.empty((0, 0))
    times = np.concatenate([r.device_times for r in runs]) if runs and runs[0].device_times is not None else None
    return runs, data_, times


def _lines(fmt) -> bytes:
    return b"".join(fmt(i, row).encode() for i, row in enumerate(ROWS))


FORMATS = {
    "comma": (lambda i, r: ",".join(f"{v}" for v in r) + "\n", {}),
    "comma-crlf": (lambda i, r: ",".join(f"{v}" for v in r) + "\r\n", {}),
    "tab": (lambda i, r: "\t".join(f"{v}" for v in r) + "\n", {}),
    "space": (lambda i, r: " ".join(f"{v}" for v in r) + "\n", {}),
    "comma-space": (lambda i, r: ", ".join(f"{v}" for v in r) + "\n", {}),
    "plotter": (lambda i, r: f"a:{r[0]},b:{r[1]},c:{r[2]}\n", {}),
    "plotter-shuffled": (lambda i, r: [f"a:{r[0]} b:{r[1]} c:{r[2]}\n", f"c:{r[2]},a:{r[0]},b:{r[1]}\n"][i % 2], {}),
    "counter": (lambda i, r: f"{i + 10}," + ",".join(f"{v}" for v in r) + "\n", {"time_column": "counter", "nominal_rate": 50.0}),
    "millis": (lambda i, r: f"{1000 + 20 * i}," + ",".join(f"{v}" for v in r) + "\n", {"time_column": "ms"}),
}


@pytest.mark.parametrize("name", list(FORMATS), ids=list(FORMATS))
def test_round_trip(name):
    fmt, kwargs = FORMATS[name]
    p = TextLineParser("imu", **kwargs)
    runs, data, times = _feed_all(p, _lines(fmt))
    np.testing.assert_array_equal(data, ROWS)
    assert data.dtype == np.float64  # the values as printed (float32 kept only ~7 digits)
    assert p.counters.parse_errors == 0 and p.counters.samples == len(ROWS)
    if name.startswith("plotter"):
        assert p.channel_names == ("a", "b", "c")
    if name == "counter":
        np.testing.assert_allclose(times, (10 + np.arange(4)) / 50.0)
    if name == "millis":
        np.testing.assert_allclose(times, 1.0 + 0.02 * np.arange(4))


def test_header_names_channels_and_repeats_are_skipped():
    p = TextLineParser("imu")
    _, data, _ = _feed_all(p, b"ax,ay,az\n1,2,3\nax,ay,az\n4,5,6\n")
    assert p.channel_names == ("ax", "ay", "az")
    np.testing.assert_array_equal(data, [[1, 2, 3], [4, 5, 6]])
    assert p.counters.parse_errors == 0 and p.counters.skipped == 1


def test_header_with_time_column_drops_its_name():
    p = TextLineParser("imu", time_column="ms")
    _, data, times = _feed_all(p, b"t_ms\tax\tay\n10\t1\t2\n")
    assert p.channel_names == ("ax", "ay")
    np.testing.assert_allclose(times, [0.01])


def test_configured_names_map_plotter_labels():
    p = TextLineParser("imu", channel_names=["x", "y"])
    _, data, _ = _feed_all(p, b"y:1,x:2\n3,4\nz:1,x:2\n")
    np.testing.assert_array_equal(data, [[2, 1], [3, 4]])
    assert p.counters.parse_errors == 1  # unknown label z


def test_line_index_clock_skips_bad_lines_and_reports_a_break():
    # Line noise is not samples: 1 MB of it is ~4000 "lines", which used to push every later
    # sample seconds early. Whether a real line was lost shows only in arrival times, so the
    # parser reports a clock break and SerialSource re-anchors its fit there.
    p = TextLineParser("imu", nominal_rate=100.0)
    _, data, times = _feed_all(p, b"1,2\n3,4\n#garbage\n\xff\xfe\n5,6\n")
    np.testing.assert_allclose(times, [0.0, 0.01, 0.02])
    assert p.counters.parse_errors == 2 and p.clock_breaks == 2
    timed = TextLineParser("imu", time_column="ms")
    _feed_all(timed, b"0,1\n10,2\n#garbage\n20,3\n")
    assert timed.clock_breaks == 0  # a device clock does not lose track


def test_fragment_then_wrong_counts_are_counted_and_skipped():
    p = TextLineParser("imu")
    # "3" is the tail of a line cut by opening the port; it must not fix the column count.
    _, data, _ = _feed_all(p, b"3\n1,2,3\n4,5,6\n7,8\n9,10,11,12\nnan,1,2\n")
    assert p.channel_count == 3
    np.testing.assert_array_equal(data[:2], [[1, 2, 3], [4, 5, 6]])
    assert len(data) == 3 and np.isnan(data[2, 0])
    assert p.counters.parse_errors == 3


def test_resync_skips_partial_line_without_error():
    p = TextLineParser("imu", channel_names=["a", "b"])
    p.resync()
    _, data, _ = _feed_all(p, b".5,2.25\n1,2\n")
    np.testing.assert_array_equal(data, [[1, 2]])
    assert p.counters.parse_errors == 0


def test_counter_gap_reports_lost_samples_and_splits_runs():
    p = TextLineParser("imu", time_column="counter", nominal_rate=10.0)
    runs = p.feed(b"0,1\n1,1\n2,1\n6,1\n7,1\n")
    assert [len(r.data) for r in runs] == [3, 2]
    assert [r.lost_before for r in runs] == [0, 3]
    assert p.counters.lost_samples == 3 and p.counters.gaps == 1


@pytest.mark.parametrize("time_column", ["counter", "ms"])
def test_a_non_finite_time_column_is_a_parse_error_not_a_dead_stream(time_column):
    p = TextLineParser("imu", time_column=time_column, nominal_rate=10.0)
    runs = p.feed(b"0,1\n1,1\nnan,1\ninf,1\n2,1\n")
    times = np.concatenate([r.device_times for r in runs])
    assert len(times) == 3 and np.all(np.isfinite(times))
    assert p.counters.parse_errors == 2


@pytest.mark.parametrize(("dtype", "bad"), [("float32", b"1e50"), ("float32", b"-1e39"), ("int16", b"40000"), ("int16", b"-32769")])
def test_a_value_the_stored_dtype_cannot_hold_is_a_parse_error_not_inf_or_wrapped(dtype, bad):
    # A flipped byte in "1.5" can read "1e50": stored as float32 it became inf, as int16 a wrapped
    # number, silently. The line is garbage; the lines around it are kept.
    p = TextLineParser("imu", channel_names=["a", "b"], dtype=dtype)
    _, data, _ = _feed_all(p, b"1,2\n3," + bad + b"\n5,6\n")
    assert data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(data, [[1, 2], [5, 6]])
    assert p.counters.parse_errors == 1


def test_overlong_line_is_dropped():
    p = TextLineParser("imu", channel_names=["a"], max_line=64)
    _, data, _ = _feed_all(p, b"1\n" + b"9" * 200 + b"\n2\n")
    np.testing.assert_array_equal(data, [[1], [2]])
    assert p.counters.parse_errors == 1


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="nominal_rate"):
        TextLineParser("imu", time_column="counter")
    with pytest.raises(ValueError, match="time_column"):
        TextLineParser("imu", time_column="minutes")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(1, 50), max_size=8))
def test_random_bytes_never_raise(blob, cuts):
    p = TextLineParser("imu", time_column="counter", nominal_rate=100.0)
    pos = 0
    for c in [*cuts, len(blob)]:
        runs = p.feed(blob[pos : pos + c])
        pos += c
        for r in runs:
            assert r.data.ndim == 2 and len(r.device_times) == len(r.data)
    assert p.counters.bytes == min(len(blob), pos)


_garbage = st.binary(min_size=1, max_size=30).map(lambda b: b"\xff" + b.replace(b"\n", b""))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), _garbage), min_size=0, max_size=30), st.integers(1, 64))
def test_valid_lines_survive_garbage_and_counters_add_up(items, chunk):
    # None = a valid line; bytes = a garbage line.
    lines, expect = [], []
    for i, item in enumerate(items):
        if item is None:
            row = [i, -i * 0.5, 1.0]
            expect.append(row)
            lines.append(",".join(str(v) for v in row).encode())
        else:
            lines.append(item)
    blob = b"a,b,c\n" + b"\n".join(lines) + b"\n"
    p = TextLineParser("imu")
    runs = []
    for k in range(0, len(blob), chunk):
        runs += p.feed(blob[k : k + chunk])
    got = np.concatenate([r.data for r in runs]) if runs else np.empty((0, 3))
    np.testing.assert_array_equal(got, np.array(expect, dtype=np.float64).reshape(-1, 3))
    garbage = sum(1 for it in items if it is not None and it.strip())
    assert p.counters.parse_errors == garbage
    nonempty = 1 + sum(1 for line in lines if line.strip())
    assert p.counters.units + p.counters.parse_errors + p.counters.skipped == nonempty


def test_a_32_bit_micros_column_wraps_into_a_continuing_clock_and_a_step_back_is_a_restart():
    """`micros()` wraps after 71.6 minutes: device time must go on (the clock fit and the warm-up
    restarted at every wrap), while a board that resets (time back to ~0) starts a new run."""
    top = 1 << 32
    p = TextLineParser("imu", ("a",), time_column="us")
    sent = [top - 20_000, top - 10_000, 0, 10_000, 20_000, 300, 10_300]  # wrap, then a reset
    runs = p.feed(b"".join(b"%d,%d\n" % (t, k) for k, t in enumerate(sent)))
    assert [r.data[:, 0].tolist() for r in runs] == [[0, 1, 2, 3, 4], [5, 6]]
    assert np.allclose(np.diff(runs[0].device_times), 0.01), "10 ms apart across the wrap"
    assert [r.restarted for r in runs] == [False, True]
    assert p.counters.resets == 1 and p.counters.parse_errors == 0


def test_a_counter_that_restarts_marks_the_run_after_it():
    p = TextLineParser("imu", ("a",), time_column="counter", nominal_rate=100.0)
    runs = p.feed(b"7,1\n8,1\n9,1\n0,1\n1,1\n")
    assert [len(r.data) for r in runs] == [3, 2] and [r.restarted for r in runs] == [False, True]
    assert runs[1].lost_before == 0, "a restart loses nothing the counter could count"
