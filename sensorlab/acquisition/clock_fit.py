"""`ClockFit`: the online lower-envelope fit of (device time, arrival time) pairs onto the host
clock, per time bin the least-delayed pair, offset first and drift once there are
`MIN_DRIFT_SPAN` seconds; re-anchoring when a device clock steps (a reset board), confirmed
over time so that a stalled host draining its backlog late is not taken for a step. Why a
lower envelope: `sensorlab.acquisition.clock`.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from sensorlab.acquisition.clock_mapping import (
    MIN_DRIFT_SPAN,
    MIN_ESTIMATE_BINS,
    ClockMapping,
    DriftEstimate,
    _line_drift,
    _percentile,
    _robust_line,
)

#: Bins the offset is taken from before drift can be fitted (see `ClockFit._fit`).
RECENT_BINS = 4
#: Before drift is fitted, the envelope line that finds the offset on a busy host is given at
#: most this slope (a crystal is within ~100 ppm; a wrong nominal rate is not corrected here).
MAX_EARLY_DRIFT = 300e-6

#: Default re-anchor tolerance (s) for device clocks that can step (serial devices): well above
#: transport jitter and the error of a fit that has not measured drift yet.
REANCHOR_TOLERANCE = 0.05
#: Host seconds a re-anchor keeps tightening onto later, less-delayed arrivals (see `ClockFit.step`).
REANCHOR_REFINE = 1.0
#: Host seconds (and at least 3 arrivals) a small `ClockFit.step` waits for its least-delayed arrival.
REANCHOR_SETTLE = 0.1
#: Host seconds every arrival must disagree with the fit, all the same way, before it re-anchors.
REANCHOR_CONFIRM = 0.25
#: The same for arrivals *later* than the fit of a device that stamps its own time: a host that
#: stalls (a loaded machine) and then drains its backlog slowly delivers every arrival late for
#: seconds, which `REANCHOR_CONFIRM` took for a clock step (stamps ended up 0.25-2 s late). A
#: real device clock rarely steps back without a reset (which restarts the fit anyway).
REANCHOR_CONFIRM_LATE = 5.0


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
    reanchor
        Tolerance in seconds, or None (never re-anchor). When every arrival for
        `REANCHOR_CONFIRM` seconds lies more than this far from the fit, all on the same side,
        the device clock has stepped (lines lost, a device pause, a clock jump): the fit is
        re-anchored onto the arrivals, keeping the drift it measured, and `reanchors` counts it.
        A transport delay spike never triggers it: the last sample of each read is fresh.
    late_confirm
        Host seconds arrivals must all be *late* before that re-anchor (early ones keep
        `REANCHOR_CONFIRM`): `REANCHOR_CONFIRM_LATE` for devices with their own clock, whose
        late arrivals are far more likely a stalled host draining its backlog than a clock step.

    Re-anchoring shifts the stored pairs by the step instead of forgetting them, so the drift
    (slope) estimate survives; `step` does the same at once when the caller knows the device
    clock may have jumped (a rate-clocked text stream that just threw away a garbage line).

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

    def __init__(
        self,
        bin_seconds: float = 0.5,
        window_bins: int = 240,
        fit_drift: bool = True,
        latency: float = 0.0,
        reanchor: float | None = None,
        late_confirm: float = REANCHOR_CONFIRM,
    ):
        self.bin_seconds = bin_seconds
        self.latency = latency
        self.fit_drift = fit_drift
        self.reanchor = reanchor
        self.late_confirm = late_confirm
        #: Re-anchors by more than ``reanchor`` seconds so far (device clock steps).
        self.reanchors = 0
        # (bin, device time, host time, segment): pairs of older segments are shifted by a re-anchor.
        self._bins: deque[tuple[int, float, float, int]] = deque(maxlen=window_bins)
        self._lock = threading.Lock()
        self._mapping: ClockMapping | None = None
        self._dirty = False
        # Bumped with every change of the bins: `drift_estimate` is worked out again only then
        # (the recorder asks for it twice a flush per stream, a robust line fit each time).
        self._version = 0
        self._drift: tuple[int, DriftEstimate | None] | None = None
        self._seg = 0
        self._step_pending = False
        self._refine_until = float("-inf")
        self._suspect: list[tuple[float, float, float]] = []  # (host time, error, device time) of consecutive disagreeing pairs
        self._frozen: ClockMapping | None = None  # the fit a settle/suspect run is measured against
        self._settle: list[tuple[float, float, float]] = []  # (host time, error, device time) of pairs since `step`

    def add(self, device_time: float, host_time: float) -> None:
        """Record that ``device_time`` was seen on the host at ``host_time`` (device thread)."""
        b = int(device_time // self.bin_seconds)
        host_time -= self.latency
        with self._lock:
            if self._bins and b >= self._bins[-1][0]:
                self._check_step(device_time, host_time)
            residual = host_time - device_time
            if self._bins and self._bins[-1][0] == b:
                _, d0, h0, _ = self._bins[-1]
                if residual < h0 - d0:
                    self._bins[-1] = (b, device_time, host_time, self._seg)
                    self._dirty = True
                    self._version += 1
            elif not self._bins or b > self._bins[-1][0]:
                self._bins.append((b, device_time, host_time, self._seg))
                self._dirty = True
                self._version += 1
            # A device time that goes backwards (device reset) restarts the fit.
            elif b < self._bins[-1][0]:
                self._bins.clear()
                self._bins.append((b, device_time, host_time, self._seg))
                self._dirty = True
                self._version += 1
                self._suspect.clear()

    def step(self) -> None:
        """The device clock may have jumped before the next pair (device thread).

        The next pairs re-anchor the fit (at once for a step beyond the tolerance, else after
        `REANCHOR_SETTLE` seconds, on the least delayed of them); pairs of the next `REANCHOR_REFINE` seconds
        that arrive earlier than the re-anchored line pull it earlier (the first pair after the
        step may itself have been delayed). Used when a rate-clocked text stream discarded a
        line: whether that garbage replaced real samples is only visible in arrival times.
        """
        with self._lock:
            self._step_pending = True

    def mapping(self) -> ClockMapping | None:
        """The current device→host mapping, or None before the first pair."""
        with self._lock:
            return self._current()

    def drift_estimate(self) -> DriftEstimate | None:
        """The drift measured so far and how uncertain it is, or None with too little data.

        Available after `MIN_ESTIMATE_BINS` bins over `MIN_ESTIMATE_SPAN` device seconds, long
        before the mapping starts using a slope (`MIN_DRIFT_SPAN`): a 3 s recording gets a
        figure with a wide error bar instead of nothing. None as well when the line is
        implausible (beyond `MAX_PLAUSIBLE_PPM`: arrivals in one burst, not a clock).
        """
        with self._lock:
            if not self.fit_drift or len(self._bins) < MIN_ESTIMATE_BINS:
                return None
            version = self._version
            if self._drift is not None and self._drift[0] == version:
                return self._drift[1]
            pts = np.array([(d, h) for _, d, h, _ in self._bins], dtype=np.float64)
            used = self._uses_slope(pts[:, 0])
        est = _line_drift(pts[:, 0], pts[:, 1], used)
        with self._lock:
            self._drift = (version, est)
        return est

    def _uses_slope(self, d: np.ndarray) -> bool:
        return self.fit_drift and len(d) >= 8 and d[-1] - d[0] >= MIN_DRIFT_SPAN

    def reset(self) -> None:
        with self._lock:
            self._bins.clear()
            self._version += 1
            self._mapping = None
            self._step_pending = False
            self._suspect.clear()
            self._settle.clear()
            self._frozen = None
            self._refine_until = float("-inf")

    # -- re-anchoring (called with the lock held) ------------------------------------------------
    def _current(self) -> ClockMapping | None:
        if self._dirty:
            self._mapping = self._fit()
            self._dirty = False
        return self._mapping

    def _check_step(self, d: float, h: float) -> None:
        # Errors of a settle or suspect run are measured against the fit from before it: the
        # run's own pairs already tilt the current fit.
        if self.reanchor is None and not self._step_pending and h >= self._refine_until:
            # Nothing below uses the fit then: do not refit at every pair (the recorder feeds
            # a fit like this every hand-over of a stream's first seconds, ~300 a second on the
            # demo rig, ~60 µs each of the writer thread's GIL time).
            return
        m = self._frozen or self._current()
        if m is None:
            return
        err = h - float(m.to_host(d))
        if self._step_pending:
            self._frozen = m
            # A big step is anchored at once (the delay of one arrival is small beside it). A
            # small one waits for a few arrivals and takes the least delayed: anchoring on one
            # late read would stamp samples later than they were taken.
            self._settle.append((h, err, d))
            if self.reanchor is None or abs(err) > self.reanchor:
                self._reanchor(err, h, d)
            elif len(self._settle) >= 3 and h - self._settle[0][0] >= REANCHOR_SETTLE:
                self._reanchor(min(e for _, e, _ in self._settle), h, self._settle[0][2])
        elif h < self._refine_until:
            if err < 0:  # a less-delayed arrival than the one the step was anchored on
                self._shift(err)
        elif self.reanchor is not None:
            cur = self._current()
            # A pair the current fit agrees with ends a run (the fit had just caught up).
            if abs(h - float(cur.to_host(d))) <= self.reanchor or abs(err) <= self.reanchor or (
                self._suspect and (err > 0) != (self._suspect[-1][1] > 0)
            ):
                self._suspect.clear()
                self._frozen = None
                err = h - float(cur.to_host(d))
            if abs(err) > self.reanchor:
                if self._frozen is None:
                    self._frozen = cur
                self._suspect.append((h, err, d))
                confirm = self.late_confirm if err > 0 else REANCHOR_CONFIRM
                if len(self._suspect) >= 3 and h - self._suspect[0][0] >= confirm:
                    # The least-delayed of the disagreeing arrivals is the best anchor.
                    self._reanchor(min(e for _, e, _ in self._suspect), h, self._suspect[0][2])

    def _reanchor(self, err: float, h: float, since: float) -> None:
        """Shift the pairs from before device time ``since`` by ``err``; later ones already
        follow the new anchor."""
        self._step_pending = False
        self._settle.clear()
        self._suspect.clear()
        self._frozen = None
        if self.reanchor is not None and abs(err) > self.reanchor:
            self.reanchors += 1
        self._seg += 1
        seg = self._seg
        self._bins = deque(
            ((b, d, hh, seg) if d >= since else (b, d, hh + err, s) for b, d, hh, s in self._bins),
            maxlen=self._bins.maxlen,
        )
        self._dirty = True
        self._version += 1
        self._refine_until = h + REANCHOR_REFINE

    def _shift(self, err: float) -> None:
        """Move the pairs from before the last re-anchor by ``err`` host seconds (keeps their slope)."""
        seg = self._seg
        self._bins = deque(((b, d, hh + err if s < seg else hh, s) for b, d, hh, s in self._bins), maxlen=self._bins.maxlen)
        self._dirty = True
        self._version += 1

    def _fit(self) -> ClockMapping | None:
        if not self._bins:
            return None
        pts = np.array([(d, h) for _, d, h, _ in self._bins], dtype=np.float64)
        d, h = pts[:, 0], pts[:, 1]
        # Drift needs a baseline: the bin minima scatter by ~0.1 ms, so over MIN_DRIFT_SPAN
        # seconds the slope is good to ~10 ppm; before that it would be mostly noise.
        if not self._uses_slope(d):
            # No drift estimate yet: an unmodelled drift tilts the residuals, so take the
            # lower envelope of the last few seconds only (100 ppm is 0.1 ms per second).
            offset = float((h - d)[-RECENT_BINS:].min())
            if self.fit_drift and len(d) >= 2 * RECENT_BINS:
                # On a busy host every arrival of those few seconds may have come late. The
                # lower-envelope line through all bins so far, read at the newest one, still
                # knows the floor; its slope is too uncertain to apply yet (the mapping keeps
                # slope 1), but near the newest bin, where samples are stamped, it is exact
                # to ~0.1 ms. Only ever moves the offset earlier.
                b, keep = _robust_line(d, h)
                b = float(np.clip(b, -MAX_EARLY_DRIFT, MAX_EARLY_DRIFT))
                r = (h - h[0]) - (d - d[0]) - b * (d - d[0])
                at_last = float(h[0] - d[0] + r[keep].min() + b * (d[-1] - d[0]))
                offset = min(offset, at_last)
            if self.fit_drift:
                # A stall that kept every arrival late for longer than those few seconds, early
                # on (too few bins for that line to outvote it), pulled the offset late by the
                # whole stall (10 ms in tests/acquisition/test_clock.py). No delay is negative and
                # no crystal drifts faster than MAX_EARLY_DRIFT, so an older bin's floor, moved
                # on by that much drift per second, bounds the offset now from above.
                offset = min(offset, float(((h - d) + MAX_EARLY_DRIFT * (d[-1] - d)).min()))
            return ClockMapping(offset=offset, slope=1.0)
        # A host stall longer than a bin (the kernel holding serial input back, a swapped-out
        # process) makes every arrival of that bin late: its minimum sits far above the line.
        # Plain least squares let one such bin tilt the slope by hundreds of ppm (timestamps
        # off by 3-30 ms seconds later), so those bins are left out of the line.
        b, keep = _robust_line(d, h)
        slope = 1.0 + b
        # Lower envelope: the least-delayed bins define the offset.
        residuals = (h - slope * d)[keep]
        offset = _percentile(residuals, 5) if len(residuals) >= 20 else float(residuals.min())
        return ClockMapping(offset=offset, slope=slope)
