"""Parser for line-oriented text sensors: what ``Serial.println`` firmware prints.

Accepted lines (``\\n`` or ``\\r\\n`` terminated): numbers separated by commas, tabs or
spaces (the Edge Impulse data forwarder's ``0.01,-0.98,0.12``); Arduino serial-plotter
``label:value`` pairs, ``ax:0.01,ay:-0.98 az:0.12`` (any order, the same set on every line);
an optional header naming the channels, ``ax,ay,az``, before the data. A header naming other
columns later (a board restarted with other firmware) stops the parser (``changed``).

Optionally the first column is a device timestamp (``"ms"``, ``"us"``, ``"s"``) or a sample
counter (``"counter"``, needs the nominal rate); counters also reveal lost lines. The number of columns is fixed by configuration (``channel_names``), by a header, or by the
first two consecutive data lines that agree. Requiring agreement matters because the first
line after opening a port is usually a fragment. Every line that does not fit is counted in
``counters.parse_errors`` and skipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sensorlab.acquisition.serial.protocol import ParserCounters, Samples
from sensorlab.acquisition.serial.text_header import HeaderLines

#: Divisors that turn a time column into seconds.
TIME_UNITS = {"s": 1.0, "ms": 1e3, "us": 1e6}
#: A text stream's values unless the rig names another dtype: a board prints decimal text, and
#: float64 stores it as printed to 15 significant digits. float32 (~7 digits) made two GPS fixes
#: 473977418 and 473977419 both 473977408, without a word.
TEXT_DTYPE = "float64"
#: ``millis()`` and ``micros()`` are 32-bit: they wrap after 49.7 days and 71.6 minutes.
WRAP32 = float(1 << 32)
#: A step back from the top of the 32-bit range that lands at most this many seconds on is the
#: counter wrapping; any other step back is the device restarting.
WRAP_WITHIN = 10.0
_SEPARATORS = bytes.maketrans(b",\t;", b"   ")


class TextLineParser(HeaderLines):
    """Turn text lines into samples of one stream.

    Parameters
    ----------
    stream
        Name of the stream the samples belong to.
    channel_names
        Names of the data columns (not counting a time column). Fixes the column count up
        front; otherwise a header line or the first two agreeing lines fix it.
    time_column
        None, or what the first column holds: ``"ms"``, ``"us"``, ``"s"`` (device time) or
        ``"counter"`` (sample index; ``nominal_rate`` converts it to seconds).
    nominal_rate
        Samples per second. Without a time column, the device time of each line is its index
        among the *good* lines divided by this rate, so timestamps come out regular rather than
        bursty. Lines that fail to parse do not advance this clock (line noise is not samples);
        whether they replaced real samples shows only in arrival times, so each one increments
        `clock_breaks` and `SerialSource` re-anchors the clock fit at the next arrival.
    max_line
        Lines longer than this many bytes are discarded (a device printing without newlines).
    dtype
        dtype of the emitted values. An integer dtype (raw counts) accepts only lines whose
        values are integers in its range; any other line is a parse error, never a wrapped or
        truncated sample.

    Examples
    --------
    >>> p = TextLineParser("imu")
    >>> out = p.feed(b"ax,ay\\n1,2\\n3,4\\n5")
    >>> p.channel_names, out[0].data.tolist()
    (('ax', 'ay'), [[1.0, 2.0], [3.0, 4.0]])
    """

    def __init__(
        self,
        stream: str = "serial",
        channel_names: Sequence[str] | None = None,
        time_column: str | None = None,
        nominal_rate: float = 0.0,
        max_line: int = 1024,
        dtype: str = TEXT_DTYPE,
    ):
        if time_column is not None and time_column != "counter" and time_column not in TIME_UNITS:
            raise ValueError(f"time_column must be None, 'counter', or one of {sorted(TIME_UNITS)}")
        if time_column == "counter" and nominal_rate <= 0:
            raise ValueError("a sample-counter column needs nominal_rate to turn counts into seconds")
        self.stream = stream
        self.time_column = time_column
        self.nominal_rate = float(nominal_rate)
        self.max_line = max_line
        self.dtype = np.dtype(dtype)
        # A value the stored dtype cannot hold (a flipped byte turning "1.5" into "1e50") would be
        # stored as inf or a wrapped integer: the line is garbage. Raw counts must be whole numbers.
        info = np.finfo(self.dtype) if self.dtype.kind == "f" else np.iinfo(self.dtype)
        self._lo, self._hi = float(info.min), float(info.max)
        self._integer = self.dtype.kind in "iu"
        self.counters = ParserCounters()
        self.channel_names: tuple[str, ...] | None = tuple(channel_names) if channel_names else None
        self._ncols = len(self.channel_names) if self.channel_names else None
        self._rig_columns = self._ncols is not None  # the rig's `channels` fix the columns (`misfit`)
        self._labels: dict[bytes, int] | None = None  # plotter mode: label -> column
        self._index: dict[bytes, int] | None = None  # configured names -> column
        # (time, values, label set, labels, bytes) of a first line awaiting confirmation.
        self._candidate: tuple | None = None
        self._buf = b""
        self._syncing = False
        self._slot = 0  # index of the next good data line, for the line-index clock
        #: Rate-clocked only: lines thrown away (or a device reboot) since opening; each may
        #: hide lost samples, so the consumer re-anchors its clock fit (see `ClockFit.step`).
        self.clock_breaks = 0
        self._next_counter: int | None = None
        # Output of the current feed call, split into runs at counter gaps.
        self._rows: list[list[float]] = []
        self._times: list[float] = []
        self._runs: list[Samples] = []
        self._lost = 0
        self._in_transit = 0
        # Counter clock: a line whose counter jumped forward, held until the next one confirms it.
        self._pending: tuple[float | None, list[float], int] | None = None
        # Input was thrown away since the last good line: a counter gap right after it was
        # sent by the device and cut on the way (a pty/UART buffer that overran), not skipped.
        self._damaged = False
        self._last_len = 0
        self._restarted = False  # the device restarted before the rows gathered now
        self._last_column: float | None = None  # the time column's previous value, as sent
        self._wrapped = 0.0  # added to the time column: 2**32 per wrap seen
        self._printed: tuple[str, ...] | None = None  # the columns the device's header named
        self.changed: dict[str, str] = {}  # stream → what changed (a header with other columns)
        self._halted = False  # since such a header: nothing more is parsed
        self._new_header: tuple[str, ...] | None = None

    # -- public ---------------------------------------------------------------------
    @property
    def channel_count(self) -> int | None:
        """Data columns per line once known (not counting a time column)."""
        return self._ncols

    @property
    def has_device_time(self) -> bool:
        return self.time_column is not None or self.nominal_rate > 0

    @property
    def clock_from_rate(self) -> bool:
        """True when device times are line index or counter ÷ the declared rate (see `StreamInfo`)."""
        return self.time_column in (None, "counter") and self.nominal_rate > 0

    def resync(self) -> None:
        """Drop any partial line and ignore input up to the next newline (not an error)."""
        self._buf = b""
        self._syncing = True
        self._candidate = None
        self._next_counter = None  # bytes were discarded: the next counter jump is no loss
        self._pending = None
        self._damaged = False

    def feed(self, data: bytes) -> list[Samples]:
        """Parse ``data`` (any split of the byte stream); returns the completed samples.

        Called on the serial reader thread. Never raises on bad input.
        """
        self.counters.bytes += len(data)
        buf = self._buf + data if self._buf else bytes(data)
        lines = buf.split(b"\n")
        rest = lines.pop()
        if self._syncing:
            if not lines:  # still inside the fragment we are skipping
                self._buf = b""
                return []
            lines = lines[1:]
            self._syncing = False
        if len(rest) > self.max_line:
            self._bad()
            rest = b""
            self._syncing = True
        self._buf = rest
        for line in lines:
            if self._halted:
                break
            self._line(line)
        return self._flush_run(final=True)

    # -- internals --------------------------------------------------------------------
    def _line(self, line: bytes) -> None:
        line = line.strip()
        if not line:
            return
        if len(line) > self.max_line:
            self._bad()
            return
        tokens = line.translate(_SEPARATORS).split()
        labels: tuple[bytes, ...] | None = None
        if b":" in line:
            try:
                pairs = [t.split(b":", 1) for t in tokens]
                labels = tuple(p[0] for p in pairs)
                tokens = [p[1] for p in pairs]
            except (IndexError, ValueError):
                self._bad()
                return
            if len(set(labels)) != len(labels) or not all(labels):
                self._bad()
                return
        try:
            values = [float(t) for t in tokens]
        except ValueError:
            if labels is None and self._header(tokens):
                return
            self._bad()
            return
        self._data(values, labels, len(line) + 1)

    def _data(self, values: list[float], labels: tuple[bytes, ...] | None, nbytes: int) -> None:
        t = None
        if self.time_column is not None:
            if not values:
                self._bad()
                return
            t, values = values[0], values[1:]
            if labels is not None:
                labels = labels[1:]
        if self._new_header is not None and self._columns_changed(values):
            return
        if self._ncols is None:
            # Lock only when two consecutive lines agree: the first line after opening a port
            # is often a fragment with too few columns.
            cand = self._candidate
            key = frozenset(labels) if labels is not None else None
            if cand is None or len(cand[1]) != len(values) or cand[2] != key or not values:
                if cand is not None:
                    self.counters.error(self.stream)
                self._candidate = (t, values, key, labels, nbytes)
                return
            self._lock(len(values), cand[3])
            self._candidate = None
            self._accept(cand[0], cand[1], cand[3], cand[4])
        self._accept(t, values, labels, nbytes)

    def _lock(self, ncols: int, labels: tuple[bytes, ...] | None) -> None:
        self._ncols = ncols
        if labels is not None:
            self._labels = {lab: i for i, lab in enumerate(labels)}
            if self.channel_names is None:
                self.channel_names = tuple(lab.decode("ascii", "replace") for lab in labels)
        elif self.channel_names is None:
            self.channel_names = tuple(f"ch{i}" for i in range(ncols))

    def _accept(self, t: float | None, values: list[float], labels: tuple[bytes, ...] | None, nbytes: int) -> None:
        self._note_width(len(values))
        if len(values) != self._ncols:
            self._bad()
            return
        if self._labels is not None:
            if labels is None or len(labels) != len(self._labels):
                self._bad()
                return
            row = [0.0] * len(values)
            try:
                for lab, v in zip(labels, values, strict=True):
                    row[self._labels[lab]] = v
            except KeyError:
                self._bad()
                return
            values = row
        elif labels is not None:
            # label:value lines with the names given up front: map labels onto those names.
            index = self._name_index()
            try:
                row = [0.0] * len(values)
                for lab, v in zip(labels, values, strict=True):
                    row[index[lab]] = v
            except KeyError:
                self._bad()
                return
            if len(set(labels)) != len(values):
                self._bad()
                return
            values = row
        if self.time_column is not None and (t is None or not math.isfinite(t)):
            self._bad()  # "nan", "inf" in the time column: no time, so no sample
            return
        if values and (max(values) > self._hi or min(values) < self._lo or (self._integer and not _whole(values))):
            self._bad()  # "1e50" for float32, "40000" or "1.5" for int16: storing it would change the value
            return
        if self.time_column == "counter":
            # A line whose counter jumps forward is only believed once the next line goes on
            # beyond it. When a pty or UART overruns, the head of a cut line runs into the next
            # line: "29" + "1436,0.1,…" parses as counter 291436, a jump of ~290 000 "lost"
            # samples (a 2 Mbaud bench stored 146 billion), followed by a jump back.
            count, pending = int(t), self._pending
            self._pending = None
            if pending is not None:
                if count > int(pending[0]):
                    self._take(*pending)  # the jump was real: samples were lost before it
                else:
                    self._bad()  # the counter went back: the jump line was two cut lines run together
            expected = self._next_counter
            if expected is not None and count > expected:
                self._pending = (t, values, nbytes)
                return
        self._take(t, values, nbytes)

    def _take(self, t: float | None, values: list[float], nbytes: int) -> None:
        device_time = self._device_time(t)
        self._slot += 1
        self._rows.append(values)
        self._times.append(device_time)
        self._last_len = nbytes
        self._damaged = False
        self.counters.units += 1

    def _name_index(self) -> dict[bytes, int]:
        if self._index is None:
            self._index = {n.encode("ascii", "replace"): i for i, n in enumerate(self.channel_names or ())}
        return self._index

    def _device_time(self, t: float | None) -> float:
        if self.time_column == "counter":
            count = int(t)  # type: ignore[arg-type]
            expected = self._next_counter
            if expected is not None and count != expected:
                if count > expected:
                    self._flush_run(final=False)
                    self._lost += count - expected
                    self.counters.lost_samples += count - expected
                    self.counters.gaps += 1
                    if self._damaged:
                        self._in_transit += count - expected
                        self.counters.lost_in_transit += count - expected
                else:  # the device restarted: start a new run so times stay monotonic within it
                    self._flush_run(final=False)
                    self.counters.resets += 1
                    self._restarted = True
            self._next_counter = count + 1
            return count / self.nominal_rate
        if self.time_column is not None:
            return self._unwrapped(t) / TIME_UNITS[self.time_column]  # type: ignore[arg-type]
        if self.nominal_rate > 0:
            return self._slot / self.nominal_rate
        return float("nan")

    def _unwrapped(self, t: float) -> float:
        """The time column made continuous across a 32-bit wrap (``micros()`` every 71.6 min,
        which used to restart the clock fit and the warm-up); any other step back is a device
        restart (its reset button, a watchdog), which starts a new run marked `restarted`."""
        last, self._last_column = self._last_column, t
        if last is None or t >= last:
            return t + self._wrapped
        span = WRAP_WITHIN * TIME_UNITS[self.time_column]  # type: ignore[index]
        if self.time_column != "s" and last < WRAP32 and t + WRAP32 - last <= span:
            self._wrapped += WRAP32
        else:
            self._flush_run(final=False)
            self.counters.resets += 1
            self._restarted = True
            self._wrapped = 0.0
        return t + self._wrapped

    def _bad(self) -> None:
        # Not a sample slot: 1 MB of line noise holds ~4000 "lines", and counting them as samples
        # stamped every later sample seconds early. A real line the noise ran into is lost, though:
        # the break tells the clock fit to re-anchor on arrival times.
        self._break()
        self._damaged = True
        self.counters.error(self.stream)

    def _break(self) -> None:
        if self.time_column is None and self.nominal_rate > 0 and self._ncols is not None:
            self.clock_breaks += 1

    def _flush_run(self, final: bool) -> list[Samples]:
        if self._rows:
            data = np.array(self._rows, dtype=self.dtype)
            times = np.array(self._times, dtype=np.float64) if self.has_device_time else None
            self._runs.append(Samples(self.stream, data, times, self._lost, self._last_len, self._in_transit, self._restarted))
            self.counters.samples += len(data)
            self._rows, self._times, self._lost, self._in_transit = [], [], 0, 0
            self._restarted = False
        if not final:
            return []
        runs, self._runs = self._runs, []
        return runs


def _whole(values: list[float]) -> bool:
    """True when every value is a whole number (what an integer dtype stores unchanged)."""
    return all(float(v).is_integer() for v in values)
