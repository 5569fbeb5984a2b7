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

Here: the host clock (`now`, `EPOCH`) and `keep_increasing`. The fit is `clock_fit.py`
(`ClockFit`), the line it yields and the robust line fits behind it `clock_mapping.py`
(`ClockMapping`, `DriftEstimate`); this module re-exports them.
"""

from __future__ import annotations

import time

import numpy as np

from sensorlab.acquisition.clock_fit import (
    MAX_EARLY_DRIFT,
    REANCHOR_CONFIRM,
    REANCHOR_CONFIRM_LATE,
    REANCHOR_REFINE,
    REANCHOR_SETTLE,
    REANCHOR_TOLERANCE,
    RECENT_BINS,
    ClockFit,
)
from sensorlab.acquisition.clock_mapping import (
    FLOOR_SCATTER,
    MAX_PLAUSIBLE_PPM,
    MIN_DRIFT_SPAN,
    MIN_ESTIMATE_BINS,
    MIN_ESTIMATE_SPAN,
    ROBUST_MIN_BINS,
    ClockMapping,
    DriftEstimate,
)

__all__ = [
    "EPOCH",
    "FLOOR_SCATTER",
    "MAX_EARLY_DRIFT",
    "MAX_PLAUSIBLE_PPM",
    "MIN_DRIFT_SPAN",
    "MIN_ESTIMATE_BINS",
    "MIN_ESTIMATE_SPAN",
    "MIN_STEP",
    "REANCHOR_CONFIRM",
    "REANCHOR_CONFIRM_LATE",
    "REANCHOR_REFINE",
    "REANCHOR_SETTLE",
    "REANCHOR_TOLERANCE",
    "RECENT_BINS",
    "ROBUST_MIN_BINS",
    "ClockFit",
    "ClockMapping",
    "DriftEstimate",
    "keep_increasing",
    "now",
]

#: Host clock in seconds. Monotonic, shared by every stream in every session.
now = time.monotonic

#: Host time when sensorlab was loaded. Displays count seconds from it (the studio's time axis,
#: the demo world's burned-in video clock), so every view of one process shares one time base.
EPOCH: float = now()

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
