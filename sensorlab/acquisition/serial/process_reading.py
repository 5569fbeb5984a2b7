"""Reading a serial port in a child process: the parent half of `SerialSource`'s ``reader="process"``.

The child (`sensorlab.acquisition.reader_process`) only reads bytes and stamps their arrival
on the host clock; parsing, the clock fit and emitting stay here, on the source's reader
thread, which now waits on a pipe instead of the port. A stall of this process (the GIL held
by the recorder, the camera, the GUI; a CPU hog keeping it off the CPU) then delays parsing,
while the child keeps emptying the port's few-KB kernel buffer.

Why it is chosen automatically from 460,800 baud (`PROCESS_MIN_BAUD`) and for native-USB
boards (``uart=False``, which send as fast as USB carries whatever the baud): a pty or a USB-CDC
port holds a few kilobytes, ~20 ms at 2 Mbaud, less than the stalls a busy machine gives a
thread (bench/bench_loss.py beside two CPU hogs at load average 13-17: the 2 Mbaud text port
read by a thread lost 10,599 lines in 30 s, the 921,600-baud IMU 640 samples, with the longest
gap between two reads 0.75-0.9 s). A reader process stamps arrivals with less jitter too (its
wake-up, not this process's GIL), which tightens the clock fit (docs/performance/sync.md, "Timestamps").
At 230,400 baud and below a port holds seconds of data, so the thread is kept there and a
process per port (its startup, ~0.1-0.5 s, and ~10 MB) is not paid for nothing.
Ports that are not file descriptors (``socket://``, ``loop://``) and non-POSIX systems always
use the thread.
"""

from __future__ import annotations

import logging
import os

from sensorlab.acquisition.reader_process import ReaderError, ReaderProcess

log = logging.getLogger(__name__)

#: ``reader="auto"`` reads in a child process from this baud rate on (and for ``uart=False``).
PROCESS_MIN_BAUD = 460_800
READERS = ("auto", "thread", "process")


def wants_process(reader: str, port: str, baudrate: int, uart: bool) -> bool:
    """Whether a port is read in a child process (see the module docstring)."""
    if reader not in READERS:
        raise ValueError(f"reader must be one of {', '.join(READERS)}, not {reader!r}")
    possible = os.name == "posix" and "://" not in port
    if reader == "auto":
        return possible and (baudrate >= PROCESS_MIN_BAUD or not uart)
    return reader == "process" and possible


class ProcessReading:
    """Mixin for `SerialSource` (reader thread only): the read loop with a child reader.

    Uses the source's ``_serial``, ``port``, ``_running``, ``_start_mark``, ``_handle``,
    ``_release_if_quiet``, ``parser`` and ``_send_request``.
    """

    #: The last child's facts (for diagnosis and the bench): its pid, real-time or not, bytes
    #: read, the most bytes it held for a slow parent; a new dict per child (set in __init__).
    reader_info: dict

    def _launch_reader(self, flush: bool = False) -> ReaderProcess | None:
        """A child for the open port, launched (not yet waited for); None, and the thread from
        now on, where no child can be started (a frozen app, no resources)."""
        try:
            return ReaderProcess(self._serial.fileno(), self.port).launch(flush)
        except ReaderError as e:
            return self._no_process(e)

    def _ready_reader(self, rp: ReaderProcess) -> ReaderProcess | None:
        """Wait until ``rp`` reads; None (and the thread) if it never does."""
        try:
            rp.wait_ready()
        except ReaderError as e:
            return self._no_process(e)
        self.reader_info = dict(rp.child_stats)
        if not rp.realtime:
            log.debug("serial reader process for %s runs at normal priority (no permission for real time)", self.port)
        return rp

    def _no_process(self, e: ReaderError) -> None:
        log.warning("%s; reading %s in a thread instead", e, self.port)
        self._use_process = False
        self.reader_info = {"fallback": str(e)}
        return None

    def _read_loop_process(self, rp: ReaderProcess, timeout: float) -> None:
        """Until stop: blocks from the child, parsed here. Raises `ReaderError` when the port
        stopped working or the child died (the caller reconnects as for a lost port)."""
        if getattr(self.parser, "awaiting_description", False):
            self._send_request()  # the child flushed what came before it started
        try:
            while self._running.is_set():
                self._answer_release()
                blocks = rp.read(timeout)
                if not blocks:
                    self._release_if_quiet()
                    continue
                self._take(blocks)
        except ReaderError:
            rp.stop(0.5)
            self.reader_info.update(rp.child_stats)
            raise
        rest = rp.stop()  # stopping: what the child still held is recorded too
        self.reader_info.update(rp.child_stats)
        if rest:
            self._take(rest)

    def _take(self, blocks: list[tuple[bytes, float]]) -> None:
        mark = self._start_mark
        if mark is not None:  # read between open and start: stale, as the thread's flush at start
            blocks = [b for b in blocks if b[1] >= mark]
            if not blocks:
                return
            self._start_mark = None
        last = len(blocks) - 1
        for i, (data, arrival) in enumerate(blocks):
            self._handle(data, arrival, release=i == last)


__all__ = ["PROCESS_MIN_BAUD", "READERS", "ProcessReading", "ReaderError", "wants_process"]
