"""Where `cut_windows` would take each window from the windower's held samples, on Python floats.

`sensorlab.datasets.windows.cut_windows` places a window by interpolating its start among the
timestamps (a fractional index), puts the output grid's sample 0 on the input sample nearest the
first start, and holds samples at the edge value where a window reaches past them. The windower
does the same arithmetic on Python floats (the same IEEE doubles, and ``round`` rounds half to
even like ``np.rint``): a few windows per call cost microseconds instead of a dozen NumPy calls
each, and any window at an edge is left to `cut_windows` itself.
"""

from __future__ import annotations

import numpy as np


def position1(ts: np.ndarray, t: float, r: int) -> float:
    """`cut_windows`' ``_position(ts[r:], [t])[0]`` (fractional index by linear interpolation) for one time."""
    j = min(max(int(ts.searchsorted(t, "right")) - 1 - r, 0), len(ts) - r - 2)
    a = float(ts[r + j])
    return j + (t - a) / (float(ts[r + j + 1]) - a)


def window_offsets(ts: np.ndarray, starts: list[float], up: int, down: int, rate: float, n: int, length: float) -> tuple[int, list[int]] | None:
    """The output grid's phase ``r`` (its sample 0 is held input ``r``) and each window's first
    output sample on it, for windows of ``n`` samples and ``length`` s starting at ``starts``
    in held timestamps ``ts`` resampled by ``up / down``; None when `cut_windows` must cut them
    (fewer than two samples on the grid, or a window held at the edge value)."""
    # As cut_windows: the output grid puts a sample on the input sample nearest the first start.
    r = round(position1(ts, starts[0], 0)) % down if down > 1 else 0
    m = len(ts) - r
    if m < 2:
        return None
    t_first, t_last = float(ts[r]), float(ts[-1])
    k0 = []
    for s in starts:
        if s < t_first:
            p = (s - t_first) * rate
        elif s > t_last:
            p = m - 1 + (s - t_last) * rate
        else:
            p = position1(ts, s, r)
        k0.append(round(p * up / down))
    n_y = m * up // down + bool(m * up % down)  # samples cut_windows' resample gives
    if k0[0] < 0 or k0[-1] + n > n_y or starts[0] < t_first - 0.5 / rate or starts[-1] + length > t_last + 1.5 / rate:
        return None  # held at the edge value: cut_windows' own rule
    return r, k0


__all__ = ["position1", "window_offsets"]
