"""From parsed reads to chunks: the reader-thread half of `SerialSource` that turns what the
parser found in one read into one chunk per stream.

Each read's samples are stamped through the clock fit (`DeviceClock`), never later than the
read's arrival. The first `WARMUP` seconds of device time are held back and released as one
chunk: the first few arrivals alone would put the fit several ms late, and its later
correction would squeeze samples. One second, two of the fit's 0.5 s bins: when the first
bin arrives late as a whole (a link or a host slow for the first half second), the second
bin's least-delayed arrival still sets the offset the held samples are stamped with. Samples lost on the way (sequence gaps) and the first
samples after a lost port came back are recorded as gaps (``stats[...].gaps``), and parse
errors are counted per stream.

A recording that stops during the warm-up asks for the held samples first (`release_held`):
released only when the source stops, they would reach no recorder any more.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict

import numpy as np

from sensorlab.acquisition.clock import keep_increasing, now
from sensorlab.acquisition.serial.protocol import Samples
from sensorlab.acquisition.serial.reconnect import RECONNECT_FIRST
from sensorlab.acquisition.source import Chunk

#: Seconds of device time held back at the start while the clock fit finds the transport floor.
#: 0.5 s (one bin) stamped a board's first samples as late as its whole first bin came (30 ms in
#: tests/acquisition/test_serial_warmup_late_start.py), and in docs/performance/sync.md the
#: serial maxima above 0.5 ms all fell in the first second; a stream shows 0.5 s later for it.
WARMUP = 1.0

log = logging.getLogger(__name__)


class ReadsToChunks:
    """Mixin for `SerialSource` (reader thread only).

    Uses the source's ``parser``, ``clock``, ``stats``, ``streams``, ``port``, ``_running``,
    ``_thread``, ``_held``, ``_warm``, ``_first_device_time``, ``_rename``, ``_error_base``, ``_duplicate_base``,
    ``_outage``, ``_backoff``, ``_check_description`` (`Redescribing`), ``_emit`` and ``_fail``.
    """

    _release_now: threading.Event  # set by `release_held`: the warm-up holds nothing more
    _released: threading.Event  # set by the reader thread once it answered `release_held`

    def _begin_warmup(self) -> None:
        """Forget the warm-up: the next samples are a device's first (start, replug)."""
        self._held = []
        self._warm = False
        self._first_device_time = None
        self._release_now.clear()

    def release_held(self, timeout: float = 5.0) -> bool:
        """End the warm-up now: the reader thread stamps and delivers what it holds back before
        this returns (any thread; waits at most ``timeout`` s, False if it did not answer).

        A recording that stops within a device's first second of data calls this before it
        unsubscribes; otherwise those samples would be delivered at the source's stop, to no
        recorder. From then on nothing is held (until the device's next start or replug).
        """
        self._released.clear()
        self._release_now.set()  # first: what arrives from now on is not held
        thread = self._thread
        if not self._held or thread is None or not thread.is_alive():
            return True  # nothing held (or delivered already), or not reading: `stop` delivers it
        return self._released.wait(timeout)

    def _answer_release(self) -> None:
        """Reader thread, once per loop: deliver the held samples `release_held` asked for."""
        if self._release_now.is_set() and not self._released.is_set():
            if self._held:
                self._release_held()
            self._released.set()

    def _holding(self, arrival: float) -> bool:
        """Whether the warm-up keeps what arrived at ``arrival`` back (with what it holds)."""
        return self._warm and arrival - self._held[0][1] < WARMUP and self._running.is_set() and not self._release_now.is_set()

    def _handle(self, data: bytes, arrival: float, release: bool = True) -> None:
        """Parse one read and emit one chunk per stream (reader thread). ``release=False``:
        keep its samples for the next call's chunk (a backlog of reads, each with its own
        arrival time, becomes one chunk per stream rather than one per read)."""
        parser = self.parser
        breaks = getattr(parser, "clock_breaks", 0)
        runs = parser.feed(data)
        if getattr(parser, "clock_breaks", 0) != breaks:
            self._release_before_step()
            self.clock.fit.step()  # a line-count clock lost track: re-anchor on this read's arrival
        self._update_errors()
        self._backoff = RECONNECT_FIRST  # data flows: the next loss starts with a short wait
        if getattr(parser, "changed", None) or getattr(parser, "awaiting_description", False):
            # What came before the change (this read's runs too) is recorded; then the changed
            # streams stop (`Redescribing`): nothing after it is parsed under the old description.
            self._take_runs(runs, arrival, release=True)
            self._check_description()
            return
        self._take_runs(runs, arrival, release)

    def _take_runs(self, runs: list[Samples], arrival: float, release: bool) -> None:
        if not runs:
            if release and self._held and not self._holding(arrival):
                self._release_held()  # earlier reads of a backlog kept for this one
            return
        timed = [r for r in runs if r.device_times is not None]
        warming = False
        if timed:
            if any(r.restarted for r in runs):
                self._release_before_step()  # the board rebooted: its clock restarts with this read
            last = timed[-1]
            device_now = float(last.device_times[-1])
            self.clock.observe(device_now, arrival, last.wire_bytes)
            if self._first_device_time is None or device_now < self._first_device_time:
                # First samples, or the device clock went back behind them: the board reset
                # with the port still open (its reset button on a USB-UART bridge) or a 32-bit
                # µs column wrapped. The fit restarted on that step, so the warm-up starts
                # again from the earliest sample of this read. Measured from the old start it
                # lasted until the device clock caught up with it (its whole uptime before the
                # recording began): every chunk was held back a second, for the rest of it.
                self._first_device_time = min(float(r.device_times.min()) for r in timed)
            # Hold the first WARMUP seconds: the first few arrivals alone would put the fit
            # several ms late, and its later correction would squeeze samples.
            warming = device_now - self._first_device_time < WARMUP
        self._warm = warming
        by_stream: dict[str, list[Samples]] = defaultdict(list)
        for r in runs:
            by_stream[r.stream].append(r)
        self._held.append((by_stream, arrival))
        if release and not self._holding(arrival):
            self._release_held()

    def _release_before_step(self) -> None:
        """The device clock may jump with the read being handled: what earlier reads of the same
        hand-over (a batch of the reader process, a backlog) brought is stamped now, through the
        fit from before the jump, not through the re-anchored one (samples before a text board's
        garbage or a board's reboot would be stamped by the step late or early). Held for the
        warm-up, they stay held: the warm-up stamps with the fit of its end by design."""
        if self._held and not self._warm:
            self._release_held()

    def _release_if_quiet(self) -> None:
        """Nothing arrived in a read: a quiet device's first samples are not held back longer
        than `WARMUP` (the warm-up ends by device time, which stands still while it is quiet)."""
        if self._held and now() - self._held[0][1] >= WARMUP:
            self._release_held()
        self._check_description()  # a restarted board that went quiet is asked again, or given up

    def _release_held(self) -> None:
        per_stream: dict[str, list[tuple[Samples, float]]] = defaultdict(list)
        for groups, when in self._held:
            for stream, group in groups.items():
                per_stream[stream].extend((r, when) for r in group)
        try:
            for stream, group in per_stream.items():
                self._emit_group(self._rename.get(stream, stream), group)
        finally:
            # Emptied only once delivered: `release_held` (another thread) waits while it is not.
            self._held = []

    def _emit_group(self, name: str, items: list[tuple[Samples, float]]) -> None:
        """One chunk of consecutive runs, each stamped with the arrival of the read that brought it."""
        st = self.stats.get(name)
        if st is None:
            return
        group = [r for r, _ in items]
        arrival = items[-1][1]
        stamps = [self.clock.to_host(r.device_times, when) if r.device_times is not None else np.full(len(r.data), when) for r, when in items]
        prev = st.last_time
        if name in self._outage:  # the first samples since the device came back
            self._outage.discard(name)
            st.gaps.append((prev, float(stamps[0][0])))
        for r, ts in zip(group, stamps, strict=True):
            if r.restarted:  # the board rebooted with the port open: the time it took is a gap
                st.gaps.append((prev, float(ts[0])))
            if r.lost_before:
                st.dropped += r.lost_before
                st.dropped_in_transit += r.lost_in_transit
                st.gaps.append((prev, float(ts[0])))
            prev = float(ts[-1])
        one = len(group) == 1
        data = group[0].data if one else np.concatenate([r.data for r in group])
        timestamps = keep_increasing(stamps[0] if one else np.concatenate(stamps), st.last_time)
        device_times = None
        if group[0].device_times is not None:
            device_times = group[0].device_times if one else np.concatenate([r.device_times for r in group])
        arrivals = np.full(len(timestamps), arrival) if one else np.concatenate([np.full(len(r.data), when) for r, when in items])
        chunk = Chunk(data, timestamps, device_times, arrivals)
        self._emit(name, chunk, arrival)

    def _update_errors(self) -> None:
        misfit = getattr(self.parser, "misfit", None)  # a text rig whose `channels` the lines do not fit
        if self.streams and (st := self.stats.get(self.streams[0].name)) is not None and st.problem != (misfit or ""):
            st.problem = misfit or ""
            if misfit:
                log.warning("%s on %s: %s", self.streams[0].name, self.port, misfit)
        counters = self.parser.counters
        self._fold(counters.errors_by_stream, self._error_base, "parse_errors")
        self._fold(counters.duplicates_by_stream, self._duplicate_base, "duplicates")

    def _fold(self, counts: dict[str, int], base: dict[str, int], attr: str) -> None:
        """Add what the parser's per-stream ``counts`` grew by since ``base`` to each stream's ``attr``."""
        if not counts or not self.streams:
            return
        first = self.streams[0].name
        for raw_name, count in list(counts.items()):
            name = self._rename.get(raw_name, first) if raw_name else first
            st = self.stats.get(name)
            if st is None:
                continue
            # Counts are cumulative per key; several keys may fold onto the first stream.
            delta = count - base.get(raw_name, 0)
            if delta:
                setattr(st, attr, getattr(st, attr) + delta)
                base[raw_name] = count
