"""Threshold suggestions on signals: a channel (or the norm of several) above a level, with
hysteresis.
"""

from __future__ import annotations

import numpy as np

from sensorlab.labeling.annotations import Segment
from sensorlab.labeling.suggest.spans import (
    SUGGESTION_TIER,
    hysteresis,
    reduce_channels,
    spans_from_mask,
    to_segments,
)


def threshold_segments(
    signal: np.ndarray,
    times: np.ndarray,
    *,
    high: float,
    low: float | None = None,
    channel: int | None = None,
    reduce: str = "norm",
    min_duration: float = 0.0,
    min_gap: float = 0.0,
    label: str = "active",
    tier: str = SUGGESTION_TIER,
) -> list[Segment]:
    """Suggest segments where a signal is at or above ``high`` (until it falls to ``low``).

    Examples
    --------
    >>> t = np.arange(1000) / 100.0
    >>> x = np.where((t >= 2) & (t < 4), 5.0, 0.0)
    >>> [(s.start, s.end) for s in threshold_segments(x, t, high=1.0)]
    [(2.0, 3.99)]
    """
    v = reduce_channels(signal, channel, reduce)
    times = np.asarray(times, dtype=np.float64)
    mask = hysteresis(v, high, high if low is None else low)
    spans = spans_from_mask(mask, times, times, min_duration=min_duration, min_gap=min_gap)
    return to_segments(spans, label, tier=tier, source="suggest:threshold")
