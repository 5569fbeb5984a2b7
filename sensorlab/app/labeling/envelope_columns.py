"""Pixel columns of a signal track's envelope: the NumPy part of `SignalTrack.update_range`
(tracks.py), without Qt.

A track reads a few pyramid blocks per device pixel column; here they become one min/max
span per column (`column_envelope`), and recording gaps are found (`gap_breaks`). The spans
are joined to their neighbours and filled into the track's image by
sensorlab/plotting/raster.py (`envelope_layer.py`).
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


__all__ = ["column_envelope", "gap_breaks"]
