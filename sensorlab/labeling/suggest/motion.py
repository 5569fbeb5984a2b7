"""Motion suggestions on video: mean absolute difference of consecutive downscaled grayscale
frames.
"""

from __future__ import annotations

import numpy as np

from sensorlab.labeling.annotations import Segment
from sensorlab.labeling.suggest.spans import (
    SUGGESTION_TIER,
    hysteresis,
    spans_from_mask,
    to_segments,
)


def downscaled_gray(frames: np.ndarray, size: int = 64) -> np.ndarray:
    """``(n, h', w')`` float32 grayscale, block-averaged so the width is about ``size``.

    Accepts ``(n, h, w)`` gray or ``(n, h, w, 3)`` BGR (OpenCV order, as recorded).
    """
    f = np.asarray(frames)
    if f.ndim == 4:
        # BGR luma weights (ITU-R BT.601), in float32 to halve memory on long blocks.
        f = f.astype(np.float32) @ np.array([0.114, 0.587, 0.299], dtype=np.float32)
    f = f.astype(np.float32, copy=False)
    n, h, w = f.shape
    k = max(1, w // size)
    h2, w2 = (h // k) * k, (w // k) * k
    return f[:, :h2, :w2].reshape(n, h2 // k, k, w2 // k, k).mean(axis=(2, 4))


def motion_score(gray: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """Mean absolute difference to the previous frame, in grey levels (first frame: 0).

    ``previous`` is the last frame of the preceding block, so block-wise scores join up.
    """
    g = np.asarray(gray, dtype=np.float32)
    if g.shape[0] == 0:
        return np.empty(0)
    prev = np.concatenate(([g[0] if previous is None else previous], g[:-1]))
    return np.abs(g - prev).mean(axis=(1, 2)).astype(np.float64)


def motion_segments(
    frames: np.ndarray,
    times: np.ndarray,
    *,
    size: int = 64,
    threshold: float | None = None,
    min_duration: float = 0.2,
    min_gap: float = 0.5,
    label: str = "motion",
    tier: str = SUGGESTION_TIER,
) -> list[Segment]:
    """Suggest segments with motion in video by frame differencing.

    ``threshold`` is in grey levels of mean absolute difference; by default it is the
    median score plus 6 robust standard deviations (at least 1 grey level above the median),
    which ignores sensor noise and compression flicker.
    """
    return motion_segments_from_scores(
        motion_score(downscaled_gray(frames, size)), np.asarray(times, dtype=np.float64),
        threshold=threshold, min_duration=min_duration, min_gap=min_gap, label=label, tier=tier,
    )


def motion_segments_from_scores(
    score: np.ndarray,
    times: np.ndarray,
    *,
    threshold: float | None = None,
    min_duration: float = 0.2,
    min_gap: float = 0.5,
    label: str = "motion",
    tier: str = SUGGESTION_TIER,
) -> list[Segment]:
    """Second half of `motion_segments`, for scores computed block by block."""
    med = float(np.median(score)) if score.size else 0.0
    if threshold is None:
        sigma = 1.4826 * float(np.median(np.abs(score - med))) if score.size else 0.0
        threshold = med + max(6 * sigma, 1.0)
    # Leave halfway back to the typical (noise) level: noise alone never holds it on.
    mask = hysteresis(score, threshold, min(threshold, med + (threshold - med) / 2))
    # A motion frame differs from the one before it: the motion spans from that one on.
    t_lo = np.concatenate((times[:1], times[:-1]))
    spans = spans_from_mask(mask, t_lo, times, min_duration=min_duration, min_gap=min_gap)
    return to_segments(spans, label, tier=tier, source="suggest:motion")
