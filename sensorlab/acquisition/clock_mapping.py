"""A device clock's line onto the host clock (`ClockMapping`: ``host = offset + slope * device``),
an early drift estimate with its uncertainty (`DriftEstimate`), and the robust line fits
behind them (least squares on the per-bin least-delayed pairs, with outliers of a busy host
left out). Used by `sensorlab.acquisition.clock_fit.ClockFit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# `np.median` imports `numpy.ma` on its first call (its NaN check): ~20 ms of CPU holding the
# GIL, and the first drift estimate made it on the recorder's writer thread seconds into a
# recording, where the live view and the device threads wait for the GIL. Imported with this
# module instead, at start-up.
import numpy.ma  # noqa: F401

#: Seconds of device time before the drift (slope) is fitted.
MIN_DRIFT_SPAN = 10.0

#: Fewest bins (and device seconds) an early drift *estimate* needs (`ClockFit.drift_estimate`):
#: below that there is no line to speak of.
MIN_ESTIMATE_BINS = 4
MIN_ESTIMATE_SPAN = 1.0
#: A "drift" beyond this (5 %) is not a crystal's error but a wrong nominal rate or a device
#: whose arrivals came in one burst (a file import): no estimate is given.
MAX_PLAUSIBLE_PPM = 50_000.0


@dataclass(frozen=True)
class ClockMapping:
    """``host = offset + slope * device``.

    A device clock running fast by 100 ppm has ``slope = 1 / 1.0001`` and ``drift_ppm = 100``.
    """

    offset: float
    slope: float

    def to_host(self, device_times: np.ndarray | float) -> np.ndarray | float:
        return self.offset + self.slope * np.asarray(device_times, dtype=np.float64)

    @property
    def drift_ppm(self) -> float:
        return (1.0 / self.slope - 1.0) * 1e6


@dataclass(frozen=True)
class DriftEstimate:
    """A device clock's drift as measured so far, with its uncertainty.

    ``drift_ppm`` is the slope of the lower-envelope points (see `ClockFit`), ``stderr_ppm``
    its standard error from the scatter of those points about the line (ordinary least
    squares), ``span`` the device seconds they cover and ``points`` how many there are.
    ``used`` tells whether the clock mapping applies this slope (after `MIN_DRIFT_SPAN`); before
    that the mapping keeps slope 1 and the estimate is only reported.
    """

    drift_ppm: float
    stderr_ppm: float
    span: float
    points: int
    used: bool


def _percentile(x: np.ndarray, q: float) -> float:
    """``np.percentile(x, q)`` (its default, linear interpolation) of a 1-d float array without
    NaN, the same value bit for bit, without its generic machinery (~0.3 ms a call on a slow
    machine: a quarter of a clock fit, redone several times a second on a reader thread)."""
    n = len(x)
    virtual = (n - 1) * (q / 100)
    if virtual >= n - 1:
        return float(np.max(x))
    lo = math.floor(virtual)
    part = np.partition(x, (lo, lo + 1))
    a, b = float(part[lo]), float(part[lo + 1])
    t = virtual - lo
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Slope, residuals and Sxx of the least-squares line through ``(x, y)``."""
    xc = x - x.mean()
    sxx = float(xc @ xc)
    b = float(xc @ (y - y.mean())) / sxx if sxx > 0 else 0.0
    return b, y - y.mean() - b * xc, sxx


#: Bins within this of the lowest one are all kept in the drift line: the floor's own scatter.
FLOOR_SCATTER = 0.25e-3


def _median(x: np.ndarray) -> float:
    """``np.median`` of a 1-d float array without NaN, the same value bit for bit (the middle
    order statistic, or the mean of the two middle ones), without its ~70 µs of generic
    machinery on a slow machine: `_robust_line` takes up to eight a fit, and a serial port's
    fit is redone several times a second on its reader thread (holding the GIL)."""
    n = len(x)
    half = n // 2
    if n % 2:
        return float(np.partition(x, half)[half])
    part = np.partition(x, (half - 1, half))
    return float((part[half - 1] + part[half]) / 2.0)


def _robust_line(d: np.ndarray, h: np.ndarray) -> tuple[float, np.ndarray]:
    """Slope of ``h - d`` over ``d`` through the lower envelope of the points, and which points it kept.

    A bin whose every arrival was late (the host stalled for longer than a bin, or a loaded
    machine woke the reader late for seconds) sits above the line: delays are never negative.
    Plain least squares let one such bin tilt the slope by hundreds of ppm. So the line is
    refitted through the points below the median residual (or within `FLOOR_SCATTER` of the
    lowest), a few times, keeping at least a quarter of them: on a quiet host every bin is
    within the scatter and all are used; on a busy one the line settles on the least delayed.
    """
    y = (h - h[0]) - (d - d[0])  # residual host-minus-device time: keeps the numbers small
    keep = np.ones(len(d), dtype=bool)
    least = max(3, len(d) // 4)
    # Start from no drift, not from least squares over everything: a crystal is off by ppm,
    # a stalled host by up to seconds, and a line tilted by the stall picks the wrong half.
    b = 0.0
    for i in range(8):
        res = y - b * d
        kept = res[keep]
        new = res <= max(_median(kept), float(kept.min()) + FLOOR_SCATTER)
        if new.sum() < least:
            new = res <= np.partition(res, least - 1)[least - 1]  # the least-delayed quarter
        if i and np.array_equal(new, keep):
            break
        keep = new
        b = _ols(d[keep], y[keep])[0]
    return b, keep


#: Fewest bins the drift line is fitted through the least delayed of (`_robust_line`); with
#: fewer, plain least squares over all of them.
ROBUST_MIN_BINS = 4 * MIN_ESTIMATE_BINS


def _line_drift(d: np.ndarray, h: np.ndarray, used: bool) -> DriftEstimate | None:
    """OLS line ``h = a + b d`` through lower-envelope points: drift and its standard error."""
    span = float(d[-1] - d[0])
    n = len(d)
    if n < MIN_ESTIMATE_BINS or span < MIN_ESTIMATE_SPAN:
        return None
    if n >= ROBUST_MIN_BINS:
        b, keep = _robust_line(d, h)
    else:
        # Too few bins to pick a lower envelope from: a quarter of six is one point short of
        # a line, and an envelope of four has an error bar that hides its own bias (a 3 s
        # recording beside two busy cores read 1750 ± 40 ppm for 2000). Least squares over
        # all of them is unbiased, and its wider error bar says how unsure it is.
        keep = np.ones(n, dtype=bool)
    y = (h - h[0]) - (d - d[0])
    d, y, n = d[keep], y[keep], int(keep.sum())
    b, res, sxx = _ols(d, y)
    if n < MIN_ESTIMATE_BINS or sxx <= 0:
        return None
    se = float(np.sqrt((res @ res) / (n - 2) / sxx))
    slope = 1.0 + b
    drift = (1.0 / slope - 1.0) * 1e6
    if not np.isfinite(drift) or abs(drift) > MAX_PLAUSIBLE_PPM:
        return None
    # d(drift)/d(slope) = -1e6 / slope**2: propagate the slope's standard error.
    return DriftEstimate(drift_ppm=drift, stderr_ppm=se * 1e6 / slope**2, span=span, points=n, used=used)
