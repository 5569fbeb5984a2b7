"""What every suggestion method shares: a feature above a threshold with hysteresis → spans
(short gaps bridged, short spans dropped) → suggested `Segment`s on the suggestions tier; a
stream's rate from its times; one value per sample from several channels.
"""

from __future__ import annotations

import numpy as np

from sensorlab.labeling.annotations import Segment, new_segment_id

#: Tier that suggestions are put on unless the caller names another one.
SUGGESTION_TIER = "suggestions"


def estimate_rate(times: np.ndarray) -> float:
    """Samples per second from timestamps (median spacing, robust to gaps)."""
    times = np.asarray(times, dtype=np.float64)
    if times.size < 2:
        raise ValueError("need at least two timestamps to estimate a rate")
    return float(1.0 / np.median(np.diff(times)))


def hysteresis(values: np.ndarray, high: float, low: float) -> np.ndarray:
    """Boolean mask: on when ``values >= high``, stays on until ``values <= low``.

    Vectorised: each sample takes the state decided by the most recent "decisive" sample
    (one that is either above ``high`` or at/below ``low``).
    """
    values = np.asarray(values)
    if low > high:
        raise ValueError(f"low ({low}) must not exceed high ({high})")
    on = values >= high
    decisive = on | (values <= low)
    idx = np.flatnonzero(decisive)
    if idx.size == 0:
        return np.zeros(values.shape, dtype=bool)
    count = np.cumsum(decisive)
    return np.where(count > 0, on[idx[np.maximum(count - 1, 0)]], False)


def _runs(mask: np.ndarray) -> np.ndarray:
    """``(k, 2)`` array of [start, stop) index pairs of the True runs of a 1-d mask."""
    m = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    edges = np.flatnonzero(m[1:] != m[:-1])
    return edges.reshape(-1, 2)


def spans_from_mask(
    mask: np.ndarray,
    t_lo: np.ndarray,
    t_hi: np.ndarray,
    *,
    min_duration: float = 0.0,
    min_gap: float = 0.0,
) -> list[tuple[float, float]]:
    """Convert a per-frame mask to time spans.

    Parameters
    ----------
    mask
        One bool per frame.
    t_lo, t_hi
        Start and end time of each frame (equal for per-sample masks).
    min_duration
        Spans shorter than this (after gap bridging) are dropped.
    min_gap
        Gaps shorter than this between two spans are bridged.
    """
    spans: list[list[float]] = []
    for i0, i1 in _runs(mask):
        a, b = float(t_lo[i0]), float(t_hi[i1 - 1])
        if spans and a - spans[-1][1] < min_gap:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    return [(a, b) for a, b in spans if b - a >= min_duration]


def to_segments(
    spans: list[tuple[float, float]],
    label: str,
    *,
    tier: str = SUGGESTION_TIER,
    source: str = "suggest",
    scores: list[float] | None = None,
) -> list[Segment]:
    """Wrap spans as suggested `Segment` objects."""
    return [
        Segment(new_segment_id(), tier, label, a, b, suggested=True, source=source,
                score=float("nan") if scores is None else float(scores[i]))
        for i, (a, b) in enumerate(spans)
    ]


def reduce_channels(signal: np.ndarray, channel: int | None = None, how: str = "norm") -> np.ndarray:
    """One value per sample: a channel, or the ``"norm"`` / ``"abs"`` max / ``"mean"`` over channels."""
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim == 1:
        return x if channel in (None, 0) else _bad_channel(channel)
    x = x.reshape(x.shape[0], -1)
    if channel is not None:
        return x[:, channel]
    if how == "norm":
        return np.sqrt(np.sum(x * x, axis=1))
    if how == "abs":
        return np.max(np.abs(x), axis=1)
    if how == "mean":
        return x.mean(axis=1)
    raise ValueError(f"unknown channel reduction {how!r} (norm, abs, mean)")


def _bad_channel(channel: int) -> np.ndarray:
    raise IndexError(f"channel {channel} of a one-channel signal")
