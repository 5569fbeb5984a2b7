"""Resampling with an anti-aliasing filter, and gap filling: shared by dataset building and live inference.

Rate changes use `scipy.signal.resample_poly`: a polyphase FIR low-pass (Kaiser window,
cut-off at the lower Nyquist) applied while changing the rate by a rational factor
``up/down``. Decimating without it folds everything above the new Nyquist into the band
(aliasing); the tests check that a tone above the new Nyquist is suppressed.

The filter needs about `resample_margin` seconds of context on each side of the samples it
should get right: callers read that much more than they cut (`windows.cut_windows` does).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

#: Largest denominator of the up/down ratio (44.1 kHz → 16 kHz is 160/441).
MAX_DENOMINATOR = 1000
#: resample_poly's default filter half-length, in taps of the lower rate (its ``10 * max(up, down)``).
_HALF_TAPS = 10


def rational_ratio(rate_in: float, rate_out: float) -> tuple[int, int]:
    """``(up, down)`` with ``rate_in * up / down ≈ rate_out`` (ValueError if no close ratio).

    Examples
    --------
    >>> rational_ratio(44100, 16000)
    (160, 441)
    >>> rational_ratio(1000, 1000)
    (1, 1)
    """
    if not (rate_in > 0 and rate_out > 0):
        raise ValueError(f"rates must be > 0 (got {rate_in} → {rate_out})")
    f = Fraction(rate_out / rate_in).limit_denominator(MAX_DENOMINATOR)
    if f == 0 or abs(float(f) * rate_in - rate_out) > 1e-9 * rate_out:
        raise ValueError(f"cannot resample {rate_in:g} Hz → {rate_out:g} Hz by a ratio of small integers; pick a target rate such as {rate_in / round(rate_in / rate_out):g}")
    return f.numerator, f.denominator


def resample_margin(rate_in: float, rate_out: float) -> float:
    """Seconds of input context the anti-aliasing filter needs on each side (0 when no resampling)."""
    up, down = rational_ratio(rate_in, rate_out)
    if up == down:
        return 0.0
    # The filter's half-length, plus up to ``down`` samples `windows.cut_windows` may trim to
    # put the output grid on the window start.
    return (_HALF_TAPS * max(up, down) / up + down + 2) / rate_in


def resample(x: np.ndarray, rate_in: float, rate_out: float) -> np.ndarray:
    """Resample ``x`` (samples along axis 0) from ``rate_in`` to ``rate_out`` Hz, anti-aliased.

    Output sample ``k`` lies at input position ``k * down / up`` (same start time). The ends are
    padded by extending a line, which keeps edge samples close; interior samples need
    `resample_margin` of context to match filtering the whole signal. float32 stays float32
    (twice as fast), anything else is filtered in float64.

    Examples
    --------
    >>> resample(np.ones((480, 2)), 48000, 16000).shape
    (160, 2)
    """
    up, down = rational_ratio(rate_in, rate_out)
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    if up == down:
        return x
    if len(x) < 2:
        return x[:: max(1, down // up)]
    # Imported here: scipy.signal takes ~0.5 s of CPU to import, which every `sensorlab`
    # command (and each process the studio starts) would pay at start-up otherwise.
    from scipy.signal import resample_poly

    return resample_poly(x, up, down, axis=0, padtype="line")


def gap_threshold(rate: float) -> float:
    """Seconds between consecutive samples above which there is a gap: 2.5 periods, at least 2 ms."""
    return max(2.5 / rate, 0.002)


def fill_gaps(ts: np.ndarray, x: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Insert linearly interpolated samples into gaps so the samples are evenly spaced again.

    Returns ``(ts, x, filled)`` where ``filled`` marks the inserted samples. Without gaps the
    inputs come back unchanged (no copy).
    """
    ts = np.asarray(ts, dtype=np.float64)
    if len(ts) < 2:
        return ts, x, np.zeros(len(ts), bool)
    d = np.diff(ts)
    where = np.flatnonzero(d > gap_threshold(rate))
    if len(where) == 0:
        return ts, x, np.zeros(len(ts), bool)
    missing = np.maximum(np.rint(d[where] * rate).astype(np.int64) - 1, 1)
    # Position of every original sample in the filled sequence.
    shift = np.zeros(len(ts), np.int64)
    shift[where + 1] = missing
    pos = np.arange(len(ts)) + np.cumsum(shift)
    n = int(pos[-1]) + 1
    grid = np.arange(n, dtype=np.float64)
    ts_f = np.interp(grid, pos, ts)
    x2 = np.asarray(x, dtype=np.float64).reshape(len(ts), -1)
    x_f = np.empty((n, x2.shape[1]))
    for c in range(x2.shape[1]):
        x_f[:, c] = np.interp(grid, pos, x2[:, c])
    filled = np.ones(n, bool)
    filled[pos] = False
    return ts_f, x_f.reshape((n, *np.shape(x)[1:])), filled


__all__ = ["fill_gaps", "gap_threshold", "rational_ratio", "resample", "resample_margin"]
