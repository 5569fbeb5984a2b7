"""Host vs device parity: the host model's class per window against the class the device reports.

A board that runs its own build of the model prints the class of each window it classified
on a serial events stream (``protocol = "events"``: ``clap``, or ``{"label": "clap"}``).
The host runs the float model on the same signal (a predictions stream). Their windows do not
line up exactly — the device has its own clock and window grid, and its line arrives some
time after its window ended — so a device report at host time ``t`` is taken to describe the
window ending at ``t - delay``, and two windows are "the same" when their ends are within
``tolerance`` seconds (default: one hop).

The rule, symmetric so that neither side's mistakes go unnoticed:

- a host window **agrees** when the device reported the host's class for a window within
  ``tolerance``; it is **divergent** otherwise;
- a device report whose class no host window within ``tolerance`` has marks the host window
  nearest to it divergent too (the device saw a clap the host did not).

At a class change (the first or last window of a clap) a report within ``tolerance`` of the
change is given the benefit of the doubt. Host windows the device said nothing about are not
compared (``silent``); reports with no host window near (``device_only``: the host skipped
windows, or the model started later) neither. A report more than half a hop before the host's
first window or after its last one describes a window the host never ran (the model started
later, or the recording stopped first): it is ``device_only`` too, and never makes the first or
last host window divergent. Within half a hop it still counts among what the device said about
the edge window, but as next to a skipped window it cannot make it divergent on its own (the
host window that would agree is the one never run). While running live, a report beyond the
newest host window is not decided until the host has moved past it.

`DeviceParity` does this live: it is fed the predictions and the device's events
(`subscriber` for `Acquisition.subscribe`), decides each window once both streams have moved
``settle`` seconds past it (so late reports still count; a device silent for `QUIET` seconds
is not waited for), counts agreements and divergences,
keeps the divergent windows, and keeps the last ``trace`` windows for an overlay: the host's
probabilities and the device's class (one-hot) per host window (`trace_arrays`, the same form
as `ParityTap.trace_arrays`). `compare_device` does the same over recorded arrays, `attach`
feeds one from a running acquisition, and `sensorlab.inference.session_parity` from a recorded
session.
"""

from __future__ import annotations

import json
import math
import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from sensorlab.acquisition.clock import now
from sensorlab.inference.parity import Divergence, ParityReport, TraceRing

#: Seconds of margin, beyond ``delay + 2 * tolerance``, before a window is decided: how late
#: a device's line or the host's prediction may arrive (serial bursts, the model's own lag).
SETTLE_MARGIN = 0.6
#: A device that sent nothing for this many seconds (wall clock) is taken as silent: the
#: host's windows are decided (as "device silent") rather than waited for.
QUIET = 5.0


def parse_report(text: str, key: str = "label") -> str:
    """The class a device reported: ``key`` of a JSON object, a JSON string, or the line itself."""
    try:
        v = json.loads(text)
    except (ValueError, TypeError):
        return str(text).strip()
    if isinstance(v, dict):
        return str(v.get(key, "")).strip()
    return str(v).strip()


@dataclass
class DeviceReport(ParityReport):
    """`ParityReport` (``windows`` compared, ``divergent``) plus the device side's own counts."""

    reports: int = 0  # device lines received
    silent: int = 0  # host windows decided with no device report within tolerance
    device_only: int = 0  # device reports with no host window within tolerance
    unknown: int = 0  # device reports naming a class the model does not have

    def summary(self) -> str:
        if not self.windows:
            return f"no window compared yet ({self.reports} device reports, {self.silent} host windows without one)"
        line = f"{self.divergent} divergent of {self.windows} windows · {self.windows - self.divergent} agree ({100 * self.agreement:.1f} %)"
        extra = [f"device silent on {self.silent}" if self.silent else "", f"{self.device_only} device reports unmatched" if self.device_only else "",
                 f"{self.unknown} reports of unknown classes" if self.unknown else ""]  # fmt: skip
        return " · ".join([line, *(e for e in extra if e)])


class DeviceParity:
    """Live comparison of a predictions stream with a device's reported classes.

    Parameters
    ----------
    labels
        The model's classes (the predictions stream's channel names).
    hop
        Seconds between host windows; the default ``tolerance``.
    tolerance
        Two windows are the same when their ends are this close (seconds; default ``hop``).
    delay
        Seconds between the end of a device window and the arrival of its line.
    key
        JSON key holding the class in the device's lines.
    keep, trace
        How many divergent windows, and how many host windows for the overlay, are kept.
    """

    def __init__(self, labels, hop: float, tolerance: float | None = None, delay: float = 0.0, key: str = "label", keep: int = 500, trace: int = 3000):
        self.labels = [str(x) for x in labels]
        self.hop = float(hop)
        self.tolerance = float(tolerance) if tolerance is not None else self.hop
        if not self.tolerance > 0 or not math.isfinite(self.tolerance):
            raise ValueError(f"tolerance must be a positive number of seconds, got {tolerance}")
        self.delay = float(delay)
        self.key = key
        self.settle = self.delay + 2 * self.tolerance + SETTLE_MARGIN
        self.report = DeviceReport()
        self.error = ""  # parity has no failure of its own; kept for the view's common interface
        self._host: deque[tuple[float, float, np.ndarray, int]] = deque(maxlen=trace)  # start, end, probs, verdict
        self._dev: deque[tuple[float, str]] = deque(maxlen=4 * trace)  # window end (arrival − delay), class
        self._kept: deque[Divergence] = deque(maxlen=keep)
        # The same host windows and reports again as arrays, for `trace_arrays` (the view's
        # refresh, 5 times a second): (window ends, probabilities) and (report times, class index).
        self._host_trace, self._dev_trace = TraceRing(trace), TraceRing(4 * trace)
        self._index = {c: k for k, c in enumerate(self.labels)}
        self._decided = -math.inf  # host windows ending at or before this are decided
        self._dev_counted = -math.inf  # reports up to this (window end) were checked for a host window
        self._dev_seen = -math.inf  # wall clock of the last report received
        self._first = math.inf  # end of the first host window ever added (reports well before it are device-only)
        # Host window ends and device reports each in time order so far (a clock step clears
        # it): `update` then only walks the newest end of each.
        self._ordered = self._dev_ordered = True
        #: Host windows and device reports the last `update` looked at (its work, for tests).
        self.scanned = 0
        self._lock = threading.Lock()
        #: Stops feeding it (set by `attach`).
        self.detach = lambda: None

    # -- input (any thread) -----------------------------------------------------------------
    def add_predictions(self, starts, ends, probs) -> None:
        p = np.asarray(probs, dtype=np.float64)
        ends = np.asarray(ends, np.float64)
        with self._lock:
            if len(ends):
                self._first = min(self._first, float(ends.min()))
            for s, e, row in zip(np.asarray(starts, np.float64).tolist(), ends.tolist(), p):
                if self._host and e < self._host[-1][1]:
                    self._ordered = False
                self._host.append((s, e, row, -1))  # -1: not decided yet
            if p.ndim == 2:
                self._host_trace.extend(ends, p)

    def add_reports(self, times, texts) -> None:
        classes = [parse_report(t, self.key) for t in texts]
        times = np.asarray(times, np.float64)
        with self._lock:
            if len(classes):
                self._dev_trace.extend(times - self.delay, np.array([self._index.get(c, -1) for c in classes], np.int64))
            for t, c in zip(times.tolist(), classes):
                if self._dev and t - self.delay < self._dev[-1][0]:
                    self._dev_ordered = False
                self._dev.append((t - self.delay, c))
                self._dev_seen = now()
                self.report.reports += 1
                if c not in self.labels:
                    self.report.unknown += 1

    def subscriber(self, predictions: str, events: str):
        """A callback for `Acquisition.subscribe` feeding this comparison from the two streams
        (it only copies; deciding happens in `update`)."""

        def on_chunk(stream: str, chunk) -> None:
            if stream == predictions:
                starts = chunk.device_times if chunk.device_times is not None else chunk.timestamps - self.hop
                self.add_predictions(starts, chunk.timestamps, chunk.data)
            elif stream == events:
                self.add_reports(chunk.timestamps, [str(x) for x in chunk.data])

        return on_chunk

    # -- deciding --------------------------------------------------------------------------
    def update(self, final: bool = False) -> DeviceReport:
        """Decide every window both streams have moved ``settle`` seconds past (all of them
        with ``final``); returns the report (also `report`)."""
        with self._lock:
            if not self._host:
                return self.report
            # The slower stream sets the pace (a late line still counts), unless the device is quiet.
            host_last = self._host[-1][1]
            quiet = not self._dev or now() - self._dev_seen > QUIET
            last = host_last if quiet else min(host_last, self._dev[-1][0])
            horizon = math.inf if final else last - self.settle
            tol = self.tolerance
            # Only the tail of the trace can matter (windows ending after the last decided one,
            # and their context 3 tolerances back): walk it from the newest end instead of
            # copying and scanning all `trace` windows and 4× as many reports 5 times a second
            # (~1 ms of GIL per call at a full trace). Out of time order (a clock step), scan all.
            stop = self._decided - 3 * tol - 1e-9 if self._ordered else -math.inf
            host = []
            for h in reversed(self._host):
                if h[1] < stop:
                    break
                host.append(h)
            host.reverse()
            base = len(self._host) - len(host)
            todo = [i for i, h in enumerate(host) if h[3] < 0 and self._decided < h[1] <= horizon]
            self.scanned = len(host)
            if not todo:
                return self.report
            # Context: every window and report that can touch the ones decided now.
            lo_t, hi_t = host[todo[0]][1] - 3 * tol, host[todo[-1]][1] + 3 * tol
            ctx = [i for i, h in enumerate(host) if lo_t <= h[1] <= hi_t]
            # (From the first host window on, every earlier report is in: all of them are the device's alone.)
            lo_d = -math.inf if host[todo[0]][1] <= self._first else lo_t - tol
            hi_d = math.inf if final else hi_t + tol
            dev = []
            for d in reversed(self._dev):
                if d[0] < lo_d and self._dev_ordered:
                    break
                if lo_d <= d[0] <= hi_d:
                    dev.append(d)
            dev.reverse()
            self.scanned += len(dev)
            ends = np.array([host[i][1] for i in ctx])
            hclass = [self.labels[int(np.argmax(host[i][2]))] for i in ctx]
            # The host's edges: its first window ever, and (only when final) its last one; live, a
            # report beyond the newest host window is simply not decided yet.
            edges = (self._first, host_last if final else math.inf)
            verdict, notes, dev_side = _match(ends, hclass, np.array([d[0] for d in dev]), [d[1] for d in dev], tol, self.hop, edges)
            pos = {i: k for k, i in enumerate(ctx)}
            r = self.report
            for i in todo:
                k = pos[i]
                s, e, probs, _ = host[i]
                v = int(verdict[k])
                host[i] = self._host[base + i] = (s, e, probs, v)
                if v == 0:
                    r.silent += 1
                    continue
                r.windows += 1
                if v == 2:
                    r.divergent += 1
                    r.top_mismatch += 1
                    self._kept.append(Divergence(s, e, probs, _onehot(notes[k][1], self.labels), note=notes[k][0]))
            self._decided = host[todo[-1]][1]
            until = math.inf if final else self._decided
            r.device_only += sum(1 for j, d in enumerate(dev) if dev_side[j] and self._dev_counted < d[0] <= until)
            self._dev_counted = until
            r.kept = list(self._kept)
            return r

    def trace_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(window ends (n,), host probabilities (n, k), device class one-hot (n, k))`` of the
        last windows; a window the device said nothing about has a NaN row."""
        with self._lock:
            host, dev, first = self._host_trace.arrays(), self._dev_trace.arrays(), self._first
        if host is None:
            return np.empty(0), np.empty((0, 0)), np.empty((0, 0))
        ends, pa = host
        pb = np.full(pa.shape, np.nan)
        if dev is not None:
            # As when deciding: a report more than half a hop outside the host's windows is drawn nowhere.
            d, cls = dev
            inside = (d >= first - self.hop / 2 - 1e-9) & (d <= ends[-1] + self.hop / 2 + 1e-9)
            d, cls = d[inside], cls[inside]
        if dev is not None and len(d):
            order = np.argsort(d, kind="stable")
            d, cls = d[order], cls[order]
            j = np.clip(np.searchsorted(d, ends), 1, len(d) - 1) if len(d) > 1 else np.zeros(len(ends), int)
            if len(d) > 1:
                j = np.where(np.abs(d[j - 1] - ends) <= np.abs(d[j] - ends), j - 1, j)
            near = np.abs(d[j] - ends) <= self.tolerance
            k = np.where(near, cls[j], -1)
            known = k >= 0
            pb[near & ~known] = 0.0  # a class the model does not have: the device spoke, matching no class
            pb[known] = np.eye(len(self.labels))[k[known]]
        return ends, pa, pb

    def summary(self) -> str:
        return self.report.summary()


def _match(ends: np.ndarray, hclass: list[str], dtimes: np.ndarray, dclass: list[str], tol: float, hop: float,
           edges: tuple[float, float] = (-math.inf, math.inf)):  # fmt: skip
    """Per host window: 0 no report within ``tol``, 1 agrees, 2 divergent; a note and the
    device's nearest class for each; and per report whether no host window was near it
    (none within ``tol``, the host's grid of windows broken there: skipped or lost, or the
    report more than half a hop outside ``edges``, the host's first and last window ends)."""
    dtimes = np.asarray(dtimes, np.float64)
    inside = (dtimes >= edges[0] - hop / 2 - 1e-9) & (dtimes <= edges[1] + hop / 2 + 1e-9)
    if not inside.all():
        # A report outside the host's span describes a window the host never ran: it is the
        # device's alone, and neither agrees nor disagrees with the edge window next to it.
        keep = np.flatnonzero(inside)
        verdict, notes, back = _match(ends, hclass, dtimes[keep], [dclass[j] for j in keep], tol, hop, edges)
        alone = np.ones(len(dtimes), bool)
        alone[keep] = back
        return verdict, notes, alone
    order = np.argsort(dtimes, kind="stable")
    dt = dtimes[order]
    dc = [dclass[j] for j in order]
    lo = np.searchsorted(dt, ends - tol - 1e-9, "left")
    hi = np.searchsorted(dt, ends + tol + 1e-9, "right")
    verdict = np.where(hi > lo, 1, 0)
    notes: list[tuple[str, str]] = [("", "")] * len(ends)
    for i in np.flatnonzero(hi > lo):
        said = dc[lo[i] : hi[i]]
        nearest = dc[lo[i] + int(np.argmin(np.abs(dt[lo[i] : hi[i]] - ends[i])))]
        seen = list(dict.fromkeys(said))
        notes[i] = (f"host says {hclass[i]}, device says {' / '.join(seen)}", nearest)
        if hclass[i] not in said:
            verdict[i] = 2
    # The device's side: a report that no nearby host window agrees with.
    lo2 = np.searchsorted(ends, dt - tol - 1e-9, "left")
    hi2 = np.searchsorted(ends, dt + tol + 1e-9, "right")
    alone = np.zeros(len(dt), bool)
    for j in range(len(dt)):
        # The host windows around the report, with one more each side: a step over 1.5 hops
        # among them is a window the host skipped or never cut, which may be the one that agrees.
        around = ends[max(lo2[j] - 1, 0) : hi2[j] + 1]
        if hi2[j] <= lo2[j] or (len(around) > 1 and np.diff(around).max() > 1.5 * hop):
            alone[j] = True
            continue
        if dt[j] < edges[0] or dt[j] > edges[1]:
            # Beyond the host's first or last window (within half a hop): the report is heard by
            # the edge window (its `said`), but the host window that may agree with it is the one
            # never run, as next to a skipped window: it does not make the edge window divergent.
            continue
        near = range(lo2[j], hi2[j])
        if dc[j] not in {hclass[i] for i in near}:
            i = min(near, key=lambda i: abs(ends[i] - dt[j]))
            if verdict[i] != 2:
                verdict[i] = 2
                notes[i] = (f"host says {hclass[i]}, device says {dc[j]} at {dt[j] - ends[i]:+.3f} s", dc[j])
    back = np.empty(len(dt), bool)
    back[order] = alone
    return verdict, notes, back


def _onehot(label: str, labels: list[str]) -> np.ndarray:
    return np.array([1.0 if x == label else 0.0 for x in labels])


def compare_device(starts, ends, probs, labels, report_times, report_texts, hop: float | None = None, tolerance: float | None = None,
                   delay: float = 0.0, key: str = "label", keep: int = 100_000) -> tuple[DeviceReport, DeviceParity]:  # fmt: skip
    """Recorded predictions (window ``starts``, ``ends``, ``probs``) against a device's recorded
    reports; returns the report and the `DeviceParity` holding the trace."""
    ends = np.asarray(ends, np.float64)
    if hop is None:
        hop = float(np.median(np.diff(ends))) if len(ends) > 1 else 1.0
    dp = DeviceParity(labels, hop, tolerance, delay, key, keep=keep, trace=max(len(ends), 1))
    dp.add_predictions(starts, ends, probs)
    dp.add_reports(report_times, report_texts)
    return dp.update(final=True), dp


def attach(acq, predictions: str, events: str, tolerance: float | None = None, delay: float = 0.0, key: str = "label") -> DeviceParity:
    """A `DeviceParity` of two running streams of ``acq`` (an `Acquisition`), fed from now on.

    Raises ValueError (one line naming the stream and the fix) when ``predictions`` is no
    predictions stream or ``events`` no events stream."""
    from sensorlab.acquisition.source import StreamKind
    from sensorlab.inference.engine import is_predictions

    streams = acq.streams
    preds = [n for n, i in streams.items() if is_predictions(i)]
    evs = [n for n, i in streams.items() if i.kind is StreamKind.EVENTS]
    if predictions not in preds:
        raise ValueError(f"{predictions!r} is not a model's predictions stream (running: {', '.join(preds) or 'none; load a model first'})")
    if events not in evs:
        raise ValueError(f"{events!r} is not an events stream (events streams: {', '.join(evs) or 'none'}); "
                         "add the device to the rig with protocol = \"events\"")  # fmt: skip
    info = streams[predictions]
    dp = DeviceParity(info.channel_names, 1.0 / info.nominal_rate, tolerance, delay, key)
    dp.detach = acq.subscribe(dp.subscriber(predictions, events), name=f"parity {predictions} vs {events}")
    return dp


def compare_events(pred_ends: np.ndarray, probs: np.ndarray, labels: list[str], event_times: np.ndarray, event_texts: list[str],
                   tolerance: float | None = None, delay: float = 0.0, key: str = "label") -> ParityReport:  # fmt: skip
    """Host predictions vs a device's own reports (JSON events with a ``label``, or plain class
    names): `compare_device` with each window ending at its prediction and a hop of their median step."""
    ends = np.asarray(pred_ends, np.float64)
    hop = float(np.median(np.diff(ends))) if len(ends) > 1 else 1.0
    report, _ = compare_device(ends - hop, ends, probs, labels, event_times, event_texts, hop=hop, tolerance=tolerance, delay=delay, key=key)
    return report


__all__ = ["SETTLE_MARGIN", "DeviceParity", "DeviceReport", "attach", "compare_device", "compare_events", "parse_report"]
