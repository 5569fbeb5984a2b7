"""`SerialSource`: a microcontroller on a serial port (or any pyserial URL) as a `Source`.

The port string goes straight to ``serial.serial_for_url``, so ``/dev/ttyUSB0``, ``COM3``,
a pty from the emulators, ``loop://`` and ``socket://host:port`` all work the same way.
One reader thread per port reads whatever has arrived, stamps it with ``now()``, hands the
bytes to a parser object (`TextLineParser` or `BinaryParser`), maps device times onto the
host clock (`DeviceClock`) and emits one chunk per stream per read.

We use our own small thread rather than ``serial.threaded.ReaderThread``: ReaderThread
reads ``in_waiting`` outside its ``try`` (an unplug can then raise ``OSError`` that kills the
thread silently) and offers no place to stamp arrival before parsing.

A port that stops working mid-stream (a board unplugged, reset, or its USB bridge
re-enumerated) is reopened by the reader thread, trying again after 0.2 s, 0.4 s, … up to
every 2 s, for as long as the source runs. Meanwhile ``stats[...].lost`` is True and ``lost_at`` says
since when it is gone; when it is back, ``stats[...].reconnects`` counts it and the missing stretch is a gap
(``stats[...].gaps``). A device that comes back has usually rebooted: its clock restarts from
0, so the parser, the clock fit and the warm-up start afresh.

The class is assembled from one mixin per concern, each in its own module: opening the port
and waiting for the device (`serial/opening.py`), parsed reads to chunks with the warm-up and
gaps (`serial/reads_to_chunks.py`), reopening a lost port (`serial/reconnect.py`), a device
that describes itself differently after a restart (`serial/redescription.py`) and reading
through a child process (`serial/process_reading.py`). This module holds the lifecycle
(open, start, stop, close) and the reader thread's loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import serial

from sensorlab.acquisition.clock import REANCHOR_CONFIRM, REANCHOR_CONFIRM_LATE, REANCHOR_TOLERANCE, ClockFit, now
from sensorlab.acquisition.serial.binary import BinaryParser, encode_request
from sensorlab.acquisition.serial.events import EventLineParser
from sensorlab.acquisition.serial.opening import READ_TIMEOUT, PortOpening, open_error_message
from sensorlab.acquisition.serial.process_reading import ProcessReading, ReaderError, wants_process
from sensorlab.acquisition.serial.protocol import Parser, Samples
from sensorlab.acquisition.serial.reads_to_chunks import WARMUP, ReadsToChunks
from sensorlab.acquisition.serial.reconnect import RECONNECT_FIRST, Reconnecting
from sensorlab.acquisition.serial.redescription import Redescribing
from sensorlab.acquisition.serial.text import TEXT_DTYPE
from sensorlab.acquisition.serial.timing import DeviceClock
from sensorlab.acquisition.source import SourceBase, SourceError

log = logging.getLogger(__name__)

JOIN_TIMEOUT = 5.0  # a reader process hands over what it still holds when stopped


class SerialSource(PortOpening, ReadsToChunks, Reconnecting, Redescribing, ProcessReading, SourceBase):
    """A serial device speaking the text, the binary or the events protocol.

    Parameters
    ----------
    port
        Device path (``/dev/ttyUSB0``, ``COM3``) or pyserial URL (``loop://``, ``socket://…``).
    baudrate
        Line speed. Also used to correct arrival times for the wire time of long packets.
    protocol
        ``"text"`` (lines of numbers, see `TextLineParser`) or ``"binary"`` (see
        ``docs/SERIAL-PROTOCOL.md``; the streams come from the device's self-description), or
        ``"events"`` (each line one event of an EVENTS stream, stamped on arrival, see
        `EventLineParser`: e.g. the class a device's own model reports).
    name
        Text and events protocols: the stream name. Binary: a prefix for the device's stream names.
    channel_names, units
        Text protocol: channel names (else taken from a header line or ``ch0…``) and units.
    dtype, scale, offset
        Text protocol: the values' dtype (``"float64"``, the default: it holds what a board
        prints to 15 significant digits; ``"float32"`` halves the bytes but keeps only ~7, so
        ``473977418`` is stored as ``473977408``; or an integer type such as
        ``"int16"`` for raw counts, which are then stored as such; a line with a value that is
        not such an integer is a parse error) and ``physical = value * scale + offset`` (one
        number or one per channel; `StreamInfo.scale`).
    nominal_rate
        Text protocol: samples per second. Timestamps then follow the line index through a
        clock fit, so they come out regular instead of bursty.
    time_column
        Text protocol: ``None``, ``"ms"``, ``"us"``, ``"s"`` or ``"counter"`` in column 0.
    open_timeout
        Seconds `open` waits for the self-description (binary) or for the first parseable
        lines (text, when ``channel_names`` is not given).
    uart
        True when the link really runs at ``baudrate`` (a USB-UART bridge): arrival times
        are corrected for each packet's transmit time. False for native-USB CDC boards.
    apply_scale
        Binary protocol: give streams the device's scale/offset (`StreamInfo.scale`), so
        consumers get physical values while chunks and files keep the counts as sent. False:
        counts everywhere.
    latency
        Known constant transport delay in seconds (a USB-UART bridge's polling, ~0.5–1 ms),
        subtracted from arrivals by the clock fit; constant delays cannot be measured.
    reconnect
        Reopen the port when it stops working mid-stream (True), or fail the stream (False).
    reader
        ``"process"``: read the port in a child process that only reads and stamps arrivals,
        so a busy host (the GIL, a CPU hog) delays parsing but loses no bytes (see
        `sensorlab.acquisition.serial.process_reading`; started by `open`, which returns once it
        reads); ``"thread"``: a reader thread in this process; ``"auto"`` (default): the process
        from 460,800 baud on and for ``uart=False``.
        Ports that are URLs, and non-POSIX systems, always use the thread.

    Examples
    --------
    >>> from sensorlab.acquisition.emulated.mcu import TextIMU, BinaryIMU
    >>> with TextIMU(rate=200) as mcu, SerialSource(mcu.port, mcu.baudrate, nominal_rate=200,
    ...                                             name="imu") as src:   # doctest: +SKIP
    ...     src.start(lambda stream, chunk: print(stream, chunk.data.shape))
    >>> with BinaryIMU() as mcu, SerialSource(mcu.port, mcu.baudrate, "binary") as src:  # doctest: +SKIP
    ...     print(src.streams[0].name, src.streams[0].sample_shape)
    imu (6,)
    """

    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        protocol: str = "text",
        *,
        name: str = "",
        channel_names: Sequence[str] | None = None,
        units: Sequence[str] = (),
        dtype: str = TEXT_DTYPE,
        scale: Sequence[float] | float = (),
        offset: Sequence[float] | float = (),
        nominal_rate: float = 0.0,
        time_column: str | None = None,
        open_timeout: float = 3.0,
        uart: bool = True,
        apply_scale: bool = True,
        latency: float = 0.0,
        reconnect: bool = True,
        reader: str = "auto",
    ):
        if protocol not in ("text", "binary", "events"):
            raise ValueError(f"protocol must be 'text', 'binary' or 'events', not {protocol!r}")
        super().__init__(description=f"{protocol} serial device on {port} @ {baudrate}")
        self.port = port
        self.baudrate = baudrate
        self.protocol = protocol
        self.name = name or ("" if protocol == "binary" else "serial")
        self.channel_names = tuple(channel_names) if channel_names else None
        self.units = tuple(units)
        self.dtype, self.scale, self.offset = dtype, scale, offset
        self.nominal_rate = float(nominal_rate)
        self.time_column = time_column
        self.open_timeout = open_timeout
        self.apply_scale = apply_scale
        self.reconnect = reconnect
        self._use_process = wants_process(reader, port, baudrate, uart)
        self.seconds_per_byte = 10.0 / baudrate if uart else 0.0
        self.parser: Parser | None = None  # any `Parser`: only feed/resync/counters are used generically
        # A device that stamps its own time (binary, or a time column) loses no clock with lost
        # samples: late arrivals there are a stalled host, not a step. A line-count clock falls
        # behind with every line lost, which shows exactly as late arrivals.
        own_clock = protocol == "binary" or time_column is not None
        fit = ClockFit(latency=latency, reanchor=REANCHOR_TOLERANCE, late_confirm=REANCHOR_CONFIRM_LATE if own_clock else REANCHOR_CONFIRM)
        self.clock = DeviceClock(self.seconds_per_byte, fit)
        self._serial: serial.SerialBase | None = None
        self._pty: tuple[int, int] | None = None  # the pty last opened (see `_open_port`)
        self._thread: threading.Thread | None = None
        self._rename: dict[str, str] = {}
        self._error_base: dict[str, int] = {}
        self._duplicate_base: dict[str, int] = {}
        self._held: list[tuple[dict[str, list[Samples]], float]] = []  # warm-up (reader thread)
        self._first_device_time: float | None = None
        self._wake = threading.Event()  # set by stop: ends a reconnect wait at once
        self._backoff = RECONNECT_FIRST  # reader thread: next wait before reopening a lost port
        self._outage: set[str] = set()  # reader thread: streams whose next chunk ends a gap
        self._warm = False  # reader thread: the last read was still in the warm-up
        self._release_now = threading.Event()  # see `release_held`
        self._released = threading.Event()
        self._reader = None  # a reader process started by `open` (or `_start`) for the reader thread
        self._start_mark: float | None = None  # reader thread: blocks that arrived before are stale
        self.reader_info: dict = {}  # see `ProcessReading.reader_info`

    # -- SourceBase ------------------------------------------------------------------------
    def _open(self) -> None:
        if self._serial is not None:
            return
        self._serial = self._open_port()
        try:
            # The reader process starts here, before anything is asked of the device: it reads
            # from now on, so however long it takes to start (an interpreter on a loaded machine),
            # a request is sent only once it reads (its answer cannot be flushed or missed), the
            # open timeout counts from then, and nothing that arrives after `start` waits in the
            # port's few-KB kernel buffer for a child still starting.
            if self._use_process:
                rp = self._launch_reader(flush=True)
                self._reader = self._ready_reader(rp) if rp is not None else None
            if self.protocol == "binary":
                self._open_binary()
            elif self.protocol == "events":
                self._open_events()
            else:
                self._open_text()
        except BaseException:
            self._stop_idle_reader()
            self._close_port()
            raise

    def _start(self) -> None:
        ser, parser = self._serial, self.parser
        if ser is None or parser is None:
            raise SourceError(f"{self.port} is not open")
        # Whatever queued up since open() is stale; drop it and start clean, so the first
        # chunk is neither a burst of old samples nor a fake sequence gap. A reader process
        # started by `open` holds it: its blocks stamped before now are dropped instead.
        self._start_mark = now()
        reader = self._reader
        if reader is None or not reader.running:
            self._stop_idle_reader()  # it died meanwhile: a fresh one below
            try:
                ser.reset_input_buffer()
            except (serial.SerialException, OSError) as e:
                raise SourceError(self._lost_message(e)) from None
        parser.resync()
        self.clock.reset()
        self._begin_warmup()
        self._error_base = dict(parser.counters.errors_by_stream)
        self._duplicate_base = dict(parser.counters.duplicates_by_stream)
        self._wake.clear()
        self._outage = set()
        # Started again after a stop: the reader process is launched here without waiting for it
        # (several sources start in parallel); it starts reading from a clean port once it runs
        # (`reader_info` then has its pid). What arrives before that is lost, as on a reconnect.
        if self._use_process and self._reader is None:
            self._reader = self._launch_reader(flush=True)
        self._thread = threading.Thread(target=self._run, name=f"serial {self.port}", daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        self._wake.set()
        ser = self._serial
        if ser is not None:
            try:
                ser.cancel_read()
            except (AttributeError, NotImplementedError, serial.SerialException, OSError):
                pass  # loop:// and socket:// lack cancel_read; the short read timeout ends the thread
        self._join()
        self._release_held()  # a stop during warm-up still delivers what arrived

    def _close(self) -> None:
        self._join()
        self._stop_idle_reader()  # opened, never started
        self._close_port()
        self._pty = None  # opened again by the user's choice: whatever the path leads to then

    def _stop_idle_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.stop(0.5)

    # -- the reader thread -------------------------------------------------------------------
    def _run(self) -> None:
        """Reader thread: read, stamp, parse, emit; reopen a lost port. Never lets an exception escape."""
        try:
            while self._running.is_set():
                try:
                    self._read_loop()
                except (serial.SerialException, OSError, TypeError, AttributeError, ReaderError) as e:
                    # TypeError/AttributeError: pyserial touching its fd after close() on stop.
                    if not self._running.is_set():
                        return
                    if not self.reconnect:
                        self._fail(self._lost_message(e))
                        return
                    self._lose(e)
                    if not self._reopen():
                        return
        except Exception as e:  # a bug (ours or a consumer's) must not kill the thread silently
            log.exception("serial reader on %s", self.port)
            if self._running.is_set():
                self._fail(f"internal error while reading {self.port}: {type(e).__name__}: {e}")

    def _read_loop(self) -> None:
        reader, self._reader = self._reader, None
        if reader is None and self._use_process:  # reopened after a loss
            reader = self._launch_reader(flush=True)
        if reader is not None:
            reader = self._ready_reader(reader)
        if reader is not None:
            return self._read_loop_process(reader, READ_TIMEOUT)
        ser = self._serial
        while self._running.is_set():
            self._answer_release()
            data = ser.read(max(1, ser.in_waiting))
            if not data:
                self._release_if_quiet()
                continue
            waiting = ser.in_waiting
            if waiting:
                data += ser.read(waiting)
            self._handle(data, now())

    def _restart_parsing(self) -> None:
        """A fresh parser, clock fit and warm-up: a device that comes back has usually reset,
        so its clock and counters restart from 0 and the old fit would misplace every sample."""
        old = self.parser
        try:
            # What queued up before we reopened arrives in one late burst; the warm-up counts
            # device time, so such a backlog would end it at once and leave the fit late by
            # milliseconds. Dropped, as at start: it falls inside the gap anyway.
            self._serial.reset_input_buffer()
        except (serial.SerialException, OSError):
            pass  # the read loop will notice
        if self.protocol == "binary":
            parser = BinaryParser(old.description, apply_scale=False)
            parser.resync()
            parser.expect_description()  # a different firmware must not pass unnoticed
            self._send_request()
            self._awaited_since = None
        elif self.protocol == "events":
            parser = EventLineParser(self.name)
            parser.resync()
        else:
            parser = self._new_text_parser(old.channel_names)
        self.parser = parser
        self.clock.reset()
        self._begin_warmup()
        self._error_base = {}
        self._duplicate_base = {}

    def _send_request(self) -> None:
        try:
            self._serial.write(encode_request())
        except (serial.SerialException, OSError):
            pass  # the read loop will notice

    # -- helpers -----------------------------------------------------------------------------
    def _lost_message(self, e: BaseException) -> str:
        if isinstance(e, ReaderError) and "reader process" in str(e):
            return f"{e}: the samples recorded so far are kept; restart the stream (serial port {self.port})."
        return (
            f"serial port {self.port} stopped working ({e}): was the device unplugged or reset? "
            "Check the cable, then `sensorlab devices`, and restart the stream."
        )

    def _join(self) -> None:
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(JOIN_TIMEOUT)
            if t.is_alive():
                log.warning("serial reader on %s did not stop within %s s", self.port, JOIN_TIMEOUT)
            self._thread = None

    def _close_port(self) -> None:
        ser, self._serial = self._serial, None
        if ser is not None:
            try:
                ser.close()
            except (serial.SerialException, OSError):
                pass


__all__ = ["READ_TIMEOUT", "WARMUP", "SerialSource", "open_error_message"]
