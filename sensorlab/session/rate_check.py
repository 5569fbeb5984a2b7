"""Is a stream's declared rate the rate its device sends at? (``sensorlab record`` / ``info``)

Only streams whose declared rate is their clock are judged (`StreamInfo.clock_from_rate`: a
text stream without a time column, or with a sample counter): a board printing 200 lines a
second into `rate = 100` was stamped up to 0.9 s early and looked clean. A stream with a clock
of its own (µs ticks, a `ms` column, a sound card's sample count) is stamped right whatever
its declared rate says, so it is not judged.

What the device sent is judged, not when a loaded host got round to reading it. The host
reads late, never early: each sample's latency (its arrival minus its device time) is the
device-to-host delay plus whatever the host was behind. So the rate is read off the *lowest*
latency of each half second of device time (the host's delays drop out) and the median of the
slopes between neighbouring half seconds (a stall, a burst read late at the end, lines lost in
a gap, each bend one or two of them and leave the median alone). Measured over the span of
arrivals instead, a healthy 100 Hz text board whose last second the host read late at a load
of 20 read as 73.7 samples a second, and ``record`` exited 3 ("the declared rate is wrong").
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Sent over declared rate beyond which a stream's declared rate is wrong, not its clock
#: drifting (a crystal is off by ppm) nor a few lost lines (those are counted as dropped).
RATE_MISMATCH = 1.2
#: Seconds of device time (and 20 samples) a stream needs before its rate is judged.
RATE_CHECK_SECONDS = 2.0
#: Device seconds whose lowest latency is one point of the lower envelope.
BLOCK_SECONDS = 0.5
#: Samples read at a time (bounds memory on long files).
READ_BLOCK = 200_000


def sent_rate(r, gaps: np.ndarray | None = None) -> float:
    """Samples a second the device sent at, by the host clock, for a stream (a `StreamReader`)
    whose clock is its declared rate; NaN for any other stream, or one too short to judge.
    ``gaps``: its ``(n, 2)`` host-time gaps (lost samples, a replug), across which it is not
    compared with itself."""
    info = r.info
    if not (info.clock_from_rate and info.nominal_rate > 0 and r.count >= 20):
        return float("nan")
    arrivals, device = [], []
    for i0 in range(0, r.count, READ_BLOCK):
        i1 = min(r.count, i0 + READ_BLOCK)
        # The time columns only (the samples are not needed): `read_index` would read them too.
        a, d = r._raw_times("arrival_times", i0, i1), r._raw_times("device_times", i0, i1)
        if a is None:
            return float("nan")
        arrivals.append(a)
        device.append(d if d is not None else np.arange(i0, i1) / info.nominal_rate)
    cuts = r.timestamps.searchsorted(np.asarray(gaps)[:, 1]) if gaps is not None and len(gaps) else ()
    return envelope_rate(np.concatenate(device), np.concatenate(arrivals), info.nominal_rate, cuts)


def envelope_rate(device_times: np.ndarray, arrivals: np.ndarray, nominal_rate: float, cuts=()) -> float:
    """The rate (samples a host second) of samples stamped ``device_times`` = count over
    ``nominal_rate`` that arrived at ``arrivals``: the slope of the lower envelope of their
    latencies, fitted within each run between the sample indexes ``cuts`` (where samples were
    lost or the device clock went back) and averaged over the runs by their length."""
    if len(arrivals) < 20 or not np.nanmax(arrivals) - np.nanmin(arrivals) >= RATE_CHECK_SECONDS:
        return float("nan")
    back = np.flatnonzero(np.diff(device_times) < 0) + 1  # a restarted count: a run of its own
    bounds = np.unique(np.r_[0, np.asarray(cuts, dtype=np.int64), back, len(arrivals)])
    slopes, spans = [], []
    for i0, i1 in zip(bounds[:-1], bounds[1:]):
        dev, arr = device_times[i0:i1], arrivals[i0:i1]
        ok = np.isfinite(dev) & np.isfinite(arr)
        dev, arr = dev[ok], arr[ok]
        if len(dev) < 10 or arr[-1] - arr[0] < RATE_CHECK_SECONDS / 4:
            continue
        slope = _lower_slope(dev, arr - dev, min(BLOCK_SECONDS, (dev[-1] - dev[0]) / 6))
        if slope is not None:
            slopes.append(slope)
            spans.append(dev[-1] - dev[0])
    if not spans:
        return float("nan")
    slope = float(np.average(slopes, weights=spans))
    # latency = device time × (nominal / sent − 1) + delays ≥ 0: its slope gives the sent rate.
    return nominal_rate / (1.0 + slope) if slope > -1.0 else float("inf")


def _lower_slope(dev: np.ndarray, latency: np.ndarray, block_seconds: float) -> float | None:
    """Slope of the line under every block's lowest latency that comes closest to them all
    (the lower convex hull's edge over their mean device time): delays only raise points."""
    block = np.floor((dev - dev[0]) / block_seconds).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
    lowest = np.minimum.reduceat(latency, starts)
    at = dev[starts + np.array([int(np.argmin(latency[a:b])) for a, b in zip(starts, np.r_[starts[1:], len(dev)])])]
    if len(at) < 3:
        return None
    hull: list[tuple[float, float]] = []
    for p in zip(at.tolist(), lowest.tolist()):
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) <= 0:
            hull.pop()
        hull.append(p)
    middle = float(at.mean())
    for (x0, y0), (x1, y1) in zip(hull[:-1], hull[1:]):
        if x0 <= middle <= x1 and x1 > x0:
            return (y1 - y0) / (x1 - x0)
    return None


def _cross(o, a, b) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def rate_off(s: dict[str, Any]) -> bool:
    """Whether a summarised stream (``rate_sent``, ``nominal_rate``) sends at another rate than declared."""
    got, rate = s.get("rate_sent", float("nan")), s["nominal_rate"]
    return bool(np.isfinite(got) and rate > 0 and not 1 / RATE_MISMATCH <= got / rate <= RATE_MISMATCH) or got == float("inf")


def rate_message(s: dict[str, Any]) -> str:
    return (f"its rate is {s['nominal_rate']:g} Hz but the device sent {s['rate_sent']:.1f} samples a second: the declared rate "
            f"is wrong, and a text stream without a time column is stamped by it (set the rig's `rate` to what the device sends)")
