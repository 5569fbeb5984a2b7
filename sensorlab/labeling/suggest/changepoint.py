"""Change-point suggestions on signals: mean or variance shifts between the two halves of a
rolling window (effect-size statistic, non-maximum suppression); segments between changes.
"""

from __future__ import annotations

import numpy as np

from sensorlab.labeling.annotations import Segment
from sensorlab.labeling.suggest.spans import (
    SUGGESTION_TIER,
    estimate_rate,
    reduce_channels,
    to_segments,
)


def _window_sums(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of x and x² over every length-w window, shape (n - w + 1, channels)."""
    c1 = np.concatenate((np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)))
    c2 = np.concatenate((np.zeros((1, x.shape[1])), np.cumsum(x * x, axis=0)))
    return c1[w:] - c1[:-w], c2[w:] - c2[:-w]


def change_statistic(signal: np.ndarray, window: int, kind: str = "mean") -> np.ndarray:
    """Shift between the ``window`` samples before and after each sample.

    ``kind="mean"``: |mean difference| / pooled std (an effect size, independent of window
    length). ``kind="variance"``: |log(std_after / std_before)|, e.g. log 2 when the
    spread doubles. Channels combine as the root of the summed squares. Samples without a
    full window on both sides get 0.
    """
    x = np.asarray(signal, dtype=np.float64)
    x = x.reshape(x.shape[0], -1)
    n = x.shape[0]
    out = np.zeros(n)
    if n < 2 * window or window < 2:
        return out
    # Centre per channel: cumulative sums of raw IMU values in the thousands lose precision.
    x = x - x.mean(axis=0)
    s1, s2 = _window_sums(x, window)
    mean = s1 / window
    var = np.maximum(s2 / window - mean * mean, 0.0)
    # Window k covers [k, k+w); at sample i the left window starts at i-w, the right at i.
    left, right = slice(0, n - 2 * window + 1), slice(window, n - window + 1)
    if kind == "mean":
        pooled = np.sqrt((var[left] + var[right]) / 2) + 1e-12
        stat = (mean[right] - mean[left]) / pooled
    elif kind == "variance":
        stat = 0.5 * np.log((var[right] + 1e-12) / (var[left] + 1e-12))
    else:
        raise ValueError(f"unknown change statistic {kind!r} (mean, variance)")
    out[window : n - window + 1] = np.sqrt(np.sum(stat * stat, axis=1))
    return out


def change_points(
    signal: np.ndarray,
    times: np.ndarray,
    *,
    window_s: float = 1.0,
    threshold: float | None = None,
    kind: str = "mean",
    min_distance_s: float | None = None,
    rate: float | None = None,
) -> np.ndarray:
    """Times where the signal's mean (or variance) shifts, sorted.

    Parameters
    ----------
    window_s
        Length of each half of the rolling window; changes closer than this blur together.
    threshold
        Minimum `change_statistic`: default 1.5 (pooled stds) for ``"mean"``,
        log 2 (std doubles) for ``"variance"``.
    min_distance_s
        Non-maximum suppression radius (default ``window_s``).
    """
    times = np.asarray(times, dtype=np.float64)
    rate = rate or estimate_rate(times)
    w = max(2, round(window_s * rate))
    thr = threshold if threshold is not None else (1.5 if kind == "mean" else float(np.log(2)))
    stat = change_statistic(signal, w, kind)
    cand = np.flatnonzero(stat >= thr)
    if cand.size == 0:
        return np.empty(0)
    radius = max(1, round((min_distance_s if min_distance_s is not None else window_s) * rate))
    # Greedy non-maximum suppression, strongest first; candidates are few after thresholding
    # a smooth statistic, but cap the loop by keeping only local maxima.
    s = stat[cand]
    is_peak = (s >= stat[np.maximum(cand - 1, 0)]) & (s >= stat[np.minimum(cand + 1, len(stat) - 1)])
    cand = cand[is_peak]
    taken: list[int] = []
    for i in cand[np.argsort(-stat[cand], kind="stable")]:
        if all(abs(i - j) >= radius for j in taken):
            taken.append(int(i))
    return np.sort(times[taken])


def change_point_segments(
    signal: np.ndarray,
    times: np.ndarray,
    *,
    window_s: float = 1.0,
    threshold: float | None = None,
    kind: str = "mean",
    channel: int | None = None,
    as_points: bool = False,
    label: str = "segment",
    tier: str = SUGGESTION_TIER,
    rate: float | None = None,
) -> list[Segment]:
    """Suggest the segments between consecutive change points (or the points themselves).

    The whole signal is covered: from the first sample to the first change, between
    changes, and from the last change to the last sample. Relabel each to accept it.
    """
    x = np.asarray(signal, dtype=np.float64)
    if channel is not None:
        x = reduce_channels(x, channel)
    times = np.asarray(times, dtype=np.float64)
    cps = change_points(x, times, window_s=window_s, threshold=threshold, kind=kind, rate=rate)
    if as_points:
        return to_segments([(t, t) for t in cps], label, tier=tier, source="suggest:changepoint")
    edges = [float(times[0]), *map(float, cps), float(times[-1])]
    spans = [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    return to_segments(spans, label, tier=tier, source="suggest:changepoint")
