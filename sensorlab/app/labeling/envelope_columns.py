"""Pixel columns of a signal track's envelope: the NumPy part of `SignalTrack.update_range`
(tracks.py), without Qt.

A track reads a few pyramid blocks per device pixel column; here they become one min/max
span per column (`column_envelope`), neighbouring spans are joined like a line through the
samples (`join_columns`), each channel's spans are cut to the parts the channels painted
over it leave visible (`visible_segments`), and recording gaps are found (`gap_breaks`).
"""

from __future__ import annotations

import numpy as np


def column_envelope(t: np.ndarray, lo: np.ndarray, hi: np.ndarray, t0: float, px_per_s: float, left: float,
                    drop_first: bool = False, drop_last: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min/max of the blocks starting in each device pixel column: ``(columns, lo, hi)``.

    ``t``: block start times (increasing); ``lo``/``hi``: (blocks, channels). A column no block
    starts in (blocks 1–2 px apart) shows the block it lies in, unless a recording gap is
    there. ``drop_first``/``drop_last``: leave out the first/last column (it may hold only
    some of its blocks).
    """
    if not len(t):
        return np.empty(0), lo[:0], hi[:0]
    x = (t - t0) * px_per_s + left
    # Blocks often start right on a column's edge (8 ms blocks, 16 ms columns), where the
    # rounding of host times (~1e-5 px) picked either column, differently for a view panned
    # by whole pixels: a thousandth of a pixel decides for the right-hand one.
    col = np.floor(x + 1e-3)
    # (not np.r_[True, …]: the same array without np.r_'s Python parsing of its index)
    new = np.empty(len(col), bool)
    new[0] = True
    np.not_equal(col[1:], col[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    c = col[starts]
    if len(starts) == len(col):  # a block per column at most: nothing to merge
        lo_c, hi_c = lo, hi
    else:
        lo_c = np.minimum.reduceat(lo, starts, axis=0)
        hi_c = np.maximum.reduceat(hi, starts, axis=0)
    a, b = (1 if drop_first else 0), len(c) - (1 if drop_last else 0)
    c, lo_c, hi_c = c[a:b], lo_c[a:b], hi_c[a:b]
    if len(c) < 2:
        return c, lo_c, hi_c
    step = c[1:] - c[:-1]  # (np.diff: the same, through a Python wrapper)
    if step.max() <= 1.0:
        return c, lo_c, hi_c
    # Columns between two block starts: the block before covers them, if it reaches: blocks
    # are `spacing` px apart, so a longer step is a gap in the recording (nothing drawn).
    spacing = float(np.partition(x[1:] - x[:-1], len(x) // 2 - 1)[len(x) // 2 - 1]) if len(x) > 2 else 1.0
    reach = np.minimum(step, np.where(step <= 4.0 * spacing, step, np.ceil(spacing))).astype(np.intp)
    reach = np.concatenate((reach, [1]))
    idx = np.repeat(np.arange(len(c)), reach)
    first = np.repeat(reach.cumsum() - reach, reach)
    cols = c[idx] + (np.arange(len(idx)) - first)
    return cols, lo_c[idx], hi_c[idx]


def join_columns(col: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spans widened so that neighbouring columns meet: where a column's span lies wholly above
    or below the next one's, both reach the middle of the step between them (as a line
    through the samples would join them). Columns with a gap between them are not joined."""
    if len(col) < 2:
        return lo, hi
    l0, h0, l1, h1 = lo[:-1], hi[:-1], lo[1:], hi[1:]
    up = l1 > h0  # the next column is above this one
    down = h1 < l0  # ... below it
    if not (up.any() or down.any()):  # zoomed out, neighbouring spans overlap
        return lo, hi
    adj = ((col[1:] - col[:-1]) == 1.0)[:, None]
    up &= adj
    down &= adj
    lo, hi = lo.copy(), hi.copy()
    m_up, m_down = 0.5 * (h0 + l1), 0.5 * (l0 + h1)
    new_h0 = np.where(up, m_up, h0)
    new_l1 = np.where(up, m_up, l1)
    new_l0 = np.where(down, m_down, l0)
    new_h1 = np.where(down, m_down, h1)
    hi[:-1] = np.maximum(hi[:-1], new_h0)
    lo[1:] = np.minimum(lo[1:], new_l1)
    lo[:-1] = np.minimum(lo[:-1], new_l0)
    hi[1:] = np.maximum(hi[1:], new_h1)
    return lo, hi


def visible_segments(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The parts of each channel's column spans that the channels drawn after it (on top) do
    not cover, as ``(lines, counts)``: rows ``(x, y0, x, y1)`` of every channel in order,
    ``counts[i]`` of them channel i's.

    Channels are painted in order, each over the ones before; where later channels cover an
    earlier one's span (a zoomed-out IMU: six noisy channels in one band) stroking it sets
    pixels that are painted over. In each column, the spans of the channels after channel i
    are known to cover their hull when their union is one interval (each overlaps the hull of
    the ones after it), else the top channel's span at least; channel i's span is cut to its
    parts outside that: none, one, or one above and one below. The picture is unchanged: a
    cut part ends on the covering span's own end value, so on the same pixel row.
    """
    lo, hi = lo.T.astype(np.float64), hi.T.astype(np.float64)  # (channels, columns), rows contiguous
    channels, n = lo.shape
    # Per channel i, the hull of the spans of channels i + 1 … last, and whether their union
    # is that hull (one interval); row by row (NumPy's accumulate along a short axis is slow).
    after_lo = np.empty_like(lo)
    after_hi = np.empty_like(hi)
    after_lo[-1], after_hi[-1] = np.inf, -np.inf  # nothing is drawn over the last channel
    joined = np.ones(n, dtype=bool)
    for i in range(channels - 2, -1, -1):
        top_lo, top_hi = lo[i + 1], hi[i + 1]
        if i == channels - 2:
            after_lo[i], after_hi[i] = top_lo, top_hi
            continue
        # the union after i is one interval if channel i + 1 meets the (single) union after it
        joined &= (top_lo <= after_hi[i + 1]) & (top_hi >= after_lo[i + 1])
        h_lo, h_hi = np.minimum(top_lo, after_lo[i + 1]), np.maximum(top_hi, after_hi[i + 1])
        # else: the last channel's span, which is certainly drawn over channel i
        after_lo[i] = np.where(joined, h_lo, lo[-1])
        after_hi[i] = np.where(joined, h_hi, hi[-1])
    apart = (hi < after_lo) | (lo > after_hi)
    first = apart | (lo < after_lo)  # the span, or its part below the cover
    second = ~apart & (hi > after_hi)  # its part above the cover
    y0 = np.concatenate([lo, after_hi], axis=1)  # (channels, 2 columns)
    y1 = np.concatenate([np.where(apart, hi, after_lo), hi], axis=1)
    keep = np.flatnonzero(np.concatenate([first, second], axis=1))
    lines = np.empty((len(keep), 4))
    lines[:, 0] = lines[:, 2] = np.concatenate([x, x]).take(keep % (2 * n))
    lines[:, 1] = y0.take(keep)
    lines[:, 3] = y1.take(keep)
    return lines, np.bincount(keep // (2 * n), minlength=channels)


def gap_breaks(t: np.ndarray) -> np.ndarray:
    """Indices ``i`` where ``t[i] - t[i - 1]`` is a gap in the recording, not the usual step.

    A step over 4× the median one: the blocks of a pyramid level (or the raw samples) follow
    each other at a steady pace, so only a stretch with nothing recorded is that far apart.
    """
    if len(t) < 3:
        return np.empty(0, dtype=np.intp)
    dt = np.diff(t)
    # The middle step by partition: np.median's first call imports numpy.ma (~70 ms of
    # opening the view), and the upper median serves as well here.
    mid = float(np.partition(dt, len(dt) // 2)[len(dt) // 2])
    return np.flatnonzero(dt > 4.0 * mid) + 1


__all__ = ["column_envelope", "gap_breaks", "join_columns", "visible_segments"]
