"""Windows on the session clock: where they start, what label they get, and their samples.

One code path for training and serving: dataset building cuts every window with
`cut_windows` / `cut_frames`, and live inference calls the same functions on the samples of
its ring buffer (a window ending now is ``starts=[t_now - length]``), so a model sees the
same resampling, gap handling and sample alignment in both places.

Times are host-clock seconds (the session clock shared by all streams). A window is
``[start, start + length)``; its samples at ``rate`` Hz are the ``n = round(length * rate)``
resampled samples from the one nearest to ``start``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sensorlab.datasets.resample import fill_gaps, gap_threshold, rational_ratio, resample

#: Rules a window's label can follow (see `label_windows`).
RULES = ("majority", "centre", "any_overlap", "end")
#: Tolerance for comparing times and coverages (float64 seconds of an hour-long session).
EPS = 1e-9


def window_starts(t_begin: float, t_end: float, length: float, hop: float) -> np.ndarray:
    """Starts ``t_begin + j * hop`` of every window lying wholly inside ``[t_begin, t_end]``.

    Computed as ``t_begin + j * hop`` (never a running sum), so starts do not drift.

    Examples
    --------
    >>> window_starts(0.0, 10.0, 4.0, 2.0).tolist()
    [0.0, 2.0, 4.0, 6.0]
    """
    if length <= 0 or hop <= 0:
        raise ValueError(f"length and hop must be > 0 (got {length}, {hop})")
    span = t_end - t_begin - length
    if not np.isfinite(span) or span < -EPS:
        return np.empty(0)
    n = int(np.floor(span / hop + EPS)) + 1
    return t_begin + np.arange(n) * hop


@dataclass(frozen=True)
class Span:
    """A labeled time span (``start == end``: a point event)."""

    label: str
    start: float
    end: float


class _Coverage:
    """Time covered by one label's (merged) spans before ``t``, for many ``t`` at once."""

    def __init__(self, spans: Iterable[tuple[float, float]]):
        merged: list[list[float]] = []
        for s, e in sorted(spans):
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        a = np.array(merged, dtype=np.float64).reshape(-1, 2)
        self.starts, self.ends = a[:, 0], a[:, 1]
        self.before = np.concatenate(([0.0], np.cumsum(self.ends - self.starts)))

    def upto(self, t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.starts, t, "right") - 1
        inside = np.where(i >= 0, np.clip(t - self.starts[np.maximum(i, 0)], 0.0, (self.ends - self.starts)[np.maximum(i, 0)]), 0.0)
        return np.where(i >= 0, self.before[np.maximum(i, 0)] + inside, 0.0)

    def within(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        return self.upto(t1) - self.upto(t0)

    def contains(self, t: np.ndarray, right_closed: bool = False) -> np.ndarray:
        """``start <= t < end`` (or ``start < t <= end`` with ``right_closed``)."""
        side = "left" if right_closed else "right"
        i = np.searchsorted(self.starts, t, side) - 1
        ok = i >= 0
        e = self.ends[np.maximum(i, 0)]
        return ok & ((t <= e) if right_closed else (t < e))


def label_windows(
    starts: np.ndarray,
    length: float,
    spans: Sequence[Span],
    rule: str = "majority",
    min_coverage: float = 0.0,
) -> tuple[list[str | None], np.ndarray]:
    """The label of each window ``[start, start + length)`` and the fraction of it that label covers.

    Rules
    -----
    majority
        The label with the most time inside the window.
    centre
        The label whose span contains the window's centre.
    any_overlap
        The label with the most time inside; a point event inside the window counts
        (coverage 0, exempt from ``min_coverage``) when no span overlaps.
    end
        The label whose span contains the window's end (``start < t_end <= end``): "what just
        happened" for streaming detection.

    Ties go to the label sorting first. A window whose coverage is below ``min_coverage``, or
    that no label reaches, gets ``None``. Overlapping spans of one label count once.

    Examples
    --------
    >>> label_windows(np.array([0.0, 1.0]), 2.0, [Span("a", 0.5, 2.5)], "majority")[0]
    ['a', 'a']
    """
    if rule not in RULES:
        raise ValueError(f"unknown label rule {rule!r}; use one of {', '.join(RULES)}")
    starts = np.asarray(starts, dtype=np.float64)
    n = len(starts)
    labels = sorted({s.label for s in spans})
    if n == 0 or not labels:
        return [None] * n, np.zeros(n, np.float32)
    ends = starts + length
    cov = np.zeros((n, len(labels)))
    hit = np.zeros((n, len(labels)), bool)
    point = np.zeros((n, len(labels)), bool)  # any_overlap: a point event of that label is inside
    for j, lab in enumerate(labels):
        segs = [(s.start, s.end) for s in spans if s.label == lab and s.end > s.start]
        c = _Coverage(segs)
        cov[:, j] = c.within(starts, ends) if segs else 0.0
        if rule == "majority":
            hit[:, j] = cov[:, j] > EPS
        elif rule == "centre":
            hit[:, j] = c.contains(starts + length / 2) if segs else False
        elif rule == "end":
            hit[:, j] = c.contains(ends, right_closed=True) if segs else False
        else:
            pts = np.array(sorted(s.start for s in spans if s.label == lab and s.end == s.start))
            has_pt = (np.searchsorted(pts, ends, "left") - np.searchsorted(pts, starts, "left")) > 0 if len(pts) else False
            point[:, j] = has_pt
            hit[:, j] = (cov[:, j] > EPS) | has_pt
    score = np.where(hit, cov, -1.0)
    best = np.argmax(score, axis=1)  # first maximum: ties go to the label sorting first
    chosen = score[np.arange(n), best]
    coverage = np.clip(np.where(chosen >= 0, chosen, 0.0) / length, 0.0, 1.0)
    # A point event has no duration to cover anything with: a window it falls in is labeled
    # whatever ``min_coverage`` asks of spans (a tapped "clap" gave no window at all).
    by_point = point[np.arange(n), best] & (coverage <= EPS)
    ok = (chosen >= 0) & ((coverage >= min_coverage - EPS) | by_point)
    out = [labels[b] if k else None for b, k in zip(best.tolist(), ok.tolist())]
    return out, np.where(ok, coverage, 0.0).astype(np.float32)


def points_note(name: str, spans: Sequence[Span], rule: str, tier: str) -> str:
    """A line when a session's point labels (a tapped key) label no window under ``rule``.

    Only ``any_overlap`` lets a point label the window it falls in; under the other rules the
    claps a user tapped while recording left the class list without a word.
    """
    points = Counter(sp.label for sp in spans if sp.end == sp.start)
    if rule == "any_overlap" or not points:
        return ""
    which = ", ".join(f"{label} ×{n}" for label, n in sorted(points.items()))
    return (f"{name}: {sum(points.values())} point label(s) on tier {tier!r} ({which}) label no window under "
            f"labels.rule = {rule!r}, as a point covers no time; use rule any_overlap, or label spans")


def cap_evenly(indices: np.ndarray, keep: int) -> np.ndarray:
    """At most ``keep`` of ``indices``, evenly spaced (deterministic, no random state)."""
    if keep >= len(indices):
        return indices
    if keep <= 0:
        return indices[:0]
    pick = np.unique(np.rint(np.linspace(0, len(indices) - 1, keep)).astype(np.int64))
    return indices[pick]


@dataclass
class CutWindows:
    """Samples of some windows of one stream: ``data`` ``(W, n, C)``, and which need attention."""

    data: np.ndarray
    filled: np.ndarray  # (W,) bool: a gap (or the stream's end) was filled by interpolation
    missing: np.ndarray  # (W,) bool: the window reaches outside the samples given
    gaps: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))  # (k, 2) times around each gap in the samples given


def n_samples(length: float, rate: float) -> int:
    """Samples per window at ``rate``: ``round(length * rate)`` (at least 1)."""
    return max(1, int(round(length * rate)))


def cut_windows(
    ts: np.ndarray,
    x: np.ndarray,
    rate_in: float,
    rate_out: float,
    starts: np.ndarray,
    length: float,
) -> CutWindows:
    """Resample the samples ``(ts, x)`` of a regular stream to ``rate_out`` and cut windows.

    Gaps in ``ts`` (see `resample.gap_threshold`) are filled by linear interpolation first, so
    the filter sees evenly spaced samples; windows touching a filled sample are flagged
    ``filled``. Windows reaching outside ``[ts[0], ts[-1]]`` are held at the edge value and
    flagged ``missing``. Give `resample.resample_margin` seconds of samples beyond the windows
    on both sides for the filter to be exact there.

    The sample at output index ``k`` lies at the input position ``k * down / up``; positions
    map to times through the (filled) timestamps, so clock drift and jitter in ``ts`` never
    shift a window by more than half an output sample.
    """
    starts = np.asarray(starts, dtype=np.float64)
    n = n_samples(length, rate_out)
    x = np.asarray(x)
    channels = int(np.prod(x.shape[1:])) if x.ndim > 1 else 1
    if len(ts) == 0:
        return CutWindows(np.zeros((len(starts), n, channels), np.float32), np.ones(len(starts), bool), np.ones(len(starts), bool))
    ts = np.asarray(ts, dtype=np.float64)
    x2 = x.reshape(len(ts), channels)
    if x2.dtype not in (np.float32, np.float64):
        x2 = x2.astype(np.float64)
    jumps = np.flatnonzero(np.diff(ts) > gap_threshold(rate_in))
    gaps = np.stack((ts[jumps], ts[jumps + 1]), axis=1) if len(jumps) else np.empty((0, 2))
    if len(jumps):
        ts_f, x_f, filled = fill_gaps(ts, x2, rate_in)
    else:
        ts_f, x_f, filled = ts, x2, None
    up, down = rational_ratio(rate_in, rate_out)
    if down > 1 and len(starts):
        # Output samples fall on input samples only every ``down`` inputs: drop the first few so
        # one of them is the sample nearest the first window start. A window's samples then do
        # not depend on where the read began (training and live inference agree exactly).
        r = int(np.rint(_position(ts_f, starts[:1])[0])) % down
        ts_f, x_f = ts_f[r:], x_f[r:]
        filled = filled[r:] if filled is not None else None
    # float32 samples are filtered in float32 (twice as fast; rounding ~1e-7 of full scale).
    y = resample(x_f, rate_in, rate_out) if up != down else x_f
    # Input position of each window start (extrapolated at the nominal rate outside the samples).
    p0 = _position(ts_f, starts)
    p0 = np.where(starts < ts_f[0], (starts - ts_f[0]) * rate_in, p0)
    p0 = np.where(starts > ts_f[-1], len(ts_f) - 1 + (starts - ts_f[-1]) * rate_in, p0)
    k0 = np.rint(p0 * up / down).astype(np.int64)
    k1 = k0 + n - 1
    missing = (k0 < 0) | (k1 >= len(y))
    # Half a period of tolerance: a window starting between two samples starts at the nearer one.
    missing |= (starts < ts_f[0] - 0.5 / rate_in) | (starts + length > ts_f[-1] + 1.5 / rate_in)
    data = np.empty((len(starts), n, channels), np.float32)
    for w, (a, m) in enumerate(zip(k0.tolist(), missing.tolist())):
        # A slice per window (no (W, n) index array); held at the edges only when it runs out.
        data[w] = y[np.clip(np.arange(a, a + n), 0, len(y) - 1)] if m else y[a : a + n]
    has_fill = np.zeros(len(starts), bool)
    if filled is not None and filled.any():
        # Input samples a window's output samples come from: [first, last] input positions.
        i_lo = np.clip(np.floor(k0 * down / up).astype(np.int64), 0, len(ts_f) - 1)
        i_hi = np.clip(np.ceil(k1 * down / up).astype(np.int64), 0, len(ts_f) - 1)
        cum = np.concatenate(([0], np.cumsum(filled, dtype=np.int64)))
        has_fill = (cum[i_hi + 1] - cum[i_lo]) > 0
    return CutWindows(data, has_fill | missing, missing, gaps)


def _position(ts: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Fractional sample index of times ``t`` by linear interpolation between timestamps."""
    if len(ts) < 2:
        return np.zeros(len(t))
    i = np.clip(np.searchsorted(ts, t, "right") - 1, 0, len(ts) - 2)
    return i + (t - ts[i]) / (ts[i + 1] - ts[i])


def cut_frames(ts: np.ndarray, frames: np.ndarray, rate_in: float, rate_out: float, starts: np.ndarray, length: float) -> CutWindows:
    """Video / frame streams: for each window the frame nearest to each of its ``n`` sample times.

    Frames are not filtered (an average of frames is not a frame); a sample time further than
    one source period plus `gap_threshold` from any frame flags the window ``filled``.
    """
    starts = np.asarray(starts, dtype=np.float64)
    n = n_samples(length, rate_out)
    shape = frames.shape[1:]
    if len(ts) == 0:
        return CutWindows(np.zeros((len(starts), n, *shape), frames.dtype), np.ones(len(starts), bool), np.ones(len(starts), bool))
    times = starts[:, None] + np.arange(n)[None, :] / rate_out
    j = np.clip(np.searchsorted(ts, times), 1, max(1, len(ts) - 1)) if len(ts) > 1 else np.zeros(times.shape, np.int64)
    if len(ts) > 1:
        j = np.where(np.abs(ts[j - 1] - times) <= np.abs(ts[j] - times), j - 1, j)
    far = np.abs(ts[j] - times) > gap_threshold(rate_in)
    missing = (times[:, 0] < ts[0] - 0.5 / rate_in) | (times[:, -1] > ts[-1] + 0.5 / rate_in)
    return CutWindows(frames[j], far.any(axis=1) | missing, missing)


__all__ = ["RULES", "CutWindows", "Span", "cap_evenly", "cut_frames", "cut_windows", "label_windows", "n_samples", "points_note", "window_starts"]
