"""The one host clock, and the online fit of a device clock onto it.

Every sample in a session is stamped in host-clock seconds (``now()``, monotonic).
Devices that count samples (a sound card) or stamp their own time (a microcontroller)
are mapped onto the host clock by `ClockFit`: ``host = offset + slope * device``.

Why a lower-envelope fit: the host sees each device time only *after* a transport delay
(USB polling, PulseAudio's 20 ms hand-overs, a serial reader thread waking up). That delay
is never negative and is occasionally large, so least squares on raw pairs is biased late
and jittery. The pairs closest to the true mapping are those with the smallest delay, so we
keep, per time bin, the pair with the smallest ``host - device`` residual and fit the line
through those minima (Hull-style, as LSL and NTP-like schemes do).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

#: Seconds of device time before the drift (slope) is fitted.
MIN_DRIFT_SPAN = 10.0

#: Bins the offset is taken from before drift can be fitted (see `ClockFit._fit`).
RECENT_BINS = 4

#: Host clock in seconds. Monotonic, shared by every stream in every session.
now = time.monotonic

#: Host time when sensorlab was loaded. Displays count seconds from it (the studio's time axis,
#: the demo world's burned-in video clock), so every view of one process shares one time base.
EPOCH: float = now()


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


class ClockFit:
    """Online fit of a device clock (seconds) onto the host clock (seconds).

    Feed it ``(device_time, host_arrival_time)`` pairs with `add` (one per packet or per
    audio callback is plenty), read the current mapping with `mapping`.

    Parameters
    ----------
    bin_seconds
        Width, in device seconds, of the bins in which only the least-delayed pair is kept.
    window_bins
        How many recent bins the line is fitted over (``bin_seconds * window_bins`` is the
        memory of the fit; long enough to see drift, short enough to follow temperature).
    fit_drift
        Fit the slope (device drift). With False the slope is fixed at 1.
    latency
        Known constant transport delay in seconds (e.g. ~0.5-1 ms for a USB-serial bridge's
        polling), subtracted from every arrival. A constant delay is invisible in arrival
        times, so it can only be configured, never measured here.

    Thread-safety: `add` is called from one device thread; `mapping` may be called from any
    thread (guarded by a lock; both are cheap).

    Examples
    --------
    >>> fit = ClockFit()
    >>> for k in range(1000):
    ...     fit.add(device_time=k * 0.1 * 1.0001, host_time=5.0 + k * 0.1 + 0.002)
    >>> round(fit.mapping().offset, 3), round(fit.mapping().drift_ppm)
    (5.002, 100)
    """

    def __init__(self, bin_seconds: float = 0.5, window_bins: int = 240, fit_drift: bool = True, latency: float = 0.0):
        self.bin_seconds = bin_seconds
        self.latency = latency
        self.fit_drift = fit_drift
        self._bins: deque[tuple[int, float, float]] = deque(maxlen=window_bins)
        self._lock = threading.Lock()
        self._mapping: ClockMapping | None = None
        self._dirty = False

    def add(self, device_time: float, host_time: float) -> None:
        """Record that ``device_time`` was seen on the host at ``host_time`` (device thread)."""
        b = int(device_time // self.bin_seconds)
        host_time -= self.latency
        residual = host_time - device_time
        with self._lock:
            if self._bins and self._bins[-1][0] == b:
                _, d0, h0 = self._bins[-1]
                if residual < h0 - d0:
                    self._bins[-1] = (b, device_time, host_time)
                    self._dirty = True
            elif not self._bins or b > self._bins[-1][0]:
                self._bins.append((b, device_time, host_time))
                self._dirty = True
            # A device time that goes backwards (device reset) restarts the fit.
            elif b < self._bins[-1][0]:
                self._bins.clear()
                self._bins.append((b, device_time, host_time))
                self._dirty = True

    def mapping(self) -> ClockMapping | None:
        """The current device→host mapping, or None before the first pair."""
        with self._lock:
            if self._dirty:
                self._mapping = self._fit()
                self._dirty = False
            return self._mapping

    def reset(self) -> None:
        with self._lock:
            self._bins.clear()
            self._mapping = None

    def _fit(self) -> ClockMapping | None:
        if not self._bins:
            return None
        pts = np.array([(d, h) for _, d, h in self._bins], dtype=np.float64)
        d, h = pts[:, 0], pts[:, 1]
        slope = 1.0
        # Drift needs a baseline: the bin minima scatter by ~0.1 ms, so over MIN_DRIFT_SPAN
        # seconds the slope is good to ~10 ppm; before that it would be mostly noise.
        if self.fit_drift and len(d) >= 8 and d[-1] - d[0] >= MIN_DRIFT_SPAN:
            slope = float(np.polyfit(d - d[0], h - h[0], 1)[0])
        # Lower envelope: the least-delayed bins define the offset.
        residuals = h - slope * d
        if slope == 1.0:
            # No drift estimate yet: an unmodelled drift tilts the residuals, so take the
            # lower envelope of the last few seconds only (100 ppm is 0.1 ms per second).
            offset = float(residuals[-RECENT_BINS:].min())
        else:
            offset = float(np.percentile(residuals, 5)) if len(residuals) >= 20 else float(residuals.min())
        return ClockMapping(offset=offset, slope=slope)


#: Smallest step `keep_increasing` leaves between two squeezed timestamps (1 µs).
MIN_STEP = 1e-6


def keep_increasing(timestamps: np.ndarray, last: float = float("-inf")) -> np.ndarray:
    """``timestamps`` made strictly increasing, and later than ``last`` (the previous chunk's).

    A clock fit that improves can step its offset back by a few ms between chunks. Squeezing
    the few overlapping samples 1 µs apart keeps every consumer's assumption that time is
    sorted (range reads bisect on it); the raw device and arrival times stay untouched, so
    the correction can be redone offline.
    """
    ts = np.asarray(timestamps, dtype=np.float64)
    if len(ts) == 0:
        return ts
    if not np.isfinite(last):
        last = ts[0] - MIN_STEP
    ramp = MIN_STEP * np.arange(1, len(ts) + 1)
    fixed = np.maximum.accumulate(np.maximum(ts - ramp, last)) + ramp
    return ts if np.array_equal(fixed, ts) else fixed
