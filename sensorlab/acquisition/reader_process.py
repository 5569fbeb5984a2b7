"""Reading a port in its own process: bytes and their arrival times, away from the GIL.

Why a process: a pty or a USB-CDC port buffers a few kilobytes, about 20 ms at 2 Mbaud. A
reader *thread* needs the GIL to take each read, and the recorder, the camera, the GUI and
the garbage collector hold it for longer than that on a busy machine (bench_loss.py: 400 to
3,700 lines lost per minute at 2 Mbaud beside two CPU hogs, even with the reader thread at
real-time priority). A child process has its own interpreter: it only waits for bytes, reads
them, stamps their arrival and queues them for the parent, so a stall of the parent delays
the *parsing*, never the reading, and the child's queue (not the kernel's few KB) absorbs it.

How:

- the child is a fresh interpreter running this file (``python -I -S``; a spawn, never a fork
  of a process that runs threads, which can deadlock). Not ``multiprocessing``'s spawn: that
  re-runs the parent's main module in the child, which fails for any script without an
  ``if __name__ == "__main__"`` guard and would re-import the studio for every port. The child
  inherits exactly three descriptors: the port (the parent keeps its own pyserial object on
  the same open file, for opening, describing, writing requests and reconnecting; only the
  child reads), the write end of a data pipe and the read end of a control pipe;
- arrival times are ``time.monotonic()`` (CLOCK_MONOTONIC on Linux, system-wide), the very
  clock `sensorlab.acquisition.clock.now` reads in the parent;
- the child asks for real-time scheduling (SCHED_FIFO, priority `RT_PRIORITY`) where the
  user may (root, ``CAP_SYS_NICE``, an ``rtprio`` limit), else runs at normal priority: all it
  does is sleep in ``poll()`` and copy, so it can never hog a core;
- records on the data pipe are ``kind, arrival, length`` then ``length`` bytes: data, "ready"
  (the child has set itself up; what arrived before waited in the kernel's buffer), "error" (a message; the child then
  exits) and "stats" (JSON: how many bytes it read and the most it held back for the parent);
- closing the control pipe (the parent stopping, or dying) makes the child hand over what it
  still holds and exit; the data pipe then reaches end-of-file;
- the child hands data over in batches (`HANDOVER_BATCH`): what it read within a few ms of the
  first unsent read goes into the pipe in one write, each read still its own record with its
  own arrival stamp, so the parent's thread wakes (and takes the GIL) once a batch instead of
  once a read (a board sending every 1-10 ms, a USB port every 1 ms frame) and parses the
  batch's reads in one go. Batching moves no timestamp: it only delays the hand-over, by at
  most `HANDOVER_BATCH`.

This module imports only the standard library, so the child starts quickly.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import time

_HEADER = struct.Struct("<Bdi")  # kind, arrival (host clock, s), payload length
DATA, READY, ERROR, STATS = 0, 1, 2, 3

#: Bytes the child may hold for a parent that does not take them; beyond that it stops reading
#: the port (the kernel's buffer then overflows and the parser counts the loss as host side).
MAX_PENDING = 64 << 20
#: Real-time priority the child asks for (SCHED_FIFO; low: audio servers use 5-20).
RT_PRIORITY = 5
#: Seconds `ReaderProcess.start` waits for the child to be ready (a loaded machine starts
#: an interpreter slowly).
START_TIMEOUT = 30.0
_READ_SIZE = 1 << 16
#: Seconds the child may hold data it read before handing it to the parent (with whatever
#: else it read meanwhile). Each of the parent's wake-ups then takes several reads: a wake-up
#: of a studio thread costs it a hand-over of the GIL and ~0.1-0.2 ms of CPU on a slow machine
#: (docs/performance/recording-and-loss.md,
#: "Serial hand-over in batches"). 5 ms is small beside the live view's frame (16-50 ms) and
#: live inference's ≤ hop + 20 ms; 0 hands every read over at once.
HANDOVER_BATCH = 0.005
#: Bytes held that end a batch early (a burst: no reason to wait for more).
_BATCH_BYTES = 1 << 16


class ReaderError(RuntimeError):
    """The port stopped working (message from the child), or the child itself failed."""


class ReaderProcess:
    """A child process reading ``fd`` (a serial port) and passing ``(bytes, arrival)`` blocks.

    Thread-safety: one thread (the source's reader thread) calls `start`, `read` and `stop`.

    Examples
    --------
    >>> import os
    >>> r, w = os.openpty()                                   # doctest: +SKIP
    >>> rp = ReaderProcess(w, "pty").start()                 # doctest: +SKIP
    >>> os.write(r, b"hello\\n"); rp.read(5.0)               # doctest: +SKIP
    [(b'hello\\n', 12345.678)]
    """

    def __init__(self, fd: int, name: str):
        self.fd = fd
        self.name = name
        self.realtime = False  # the child got SCHED_FIFO
        self.child_stats: dict = {}  # the child's last "stats" record
        self._proc = None
        self._data_r = self._ctl_w = -1
        self._buf = bytearray()
        self._eof = False

    def start(self, timeout: float = START_TIMEOUT) -> ReaderProcess:
        """`launch`, then `wait_ready`."""
        return self.launch().wait_ready(timeout)

    def launch(self, flush: bool = False) -> ReaderProcess:
        """Start the child and return at once: bytes arriving meanwhile wait in the port's
        kernel buffer until it reads (several ports start their children in parallel).
        ``flush``: the child first drops what queued up meanwhile (after a reconnect, where
        that backlog falls inside the gap and, read in one late burst, would mislead the
        clock fit's fresh start)."""
        data_r, data_w = os.pipe()
        ctl_r, ctl_w = os.pipe()
        self._data_r, self._ctl_w = data_r, ctl_w
        try:
            # A bigger pipe means fewer wake-ups of the child when the parent is slow (Linux).
            fcntl.fcntl(data_w, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        except OSError:
            pass
        # This file run as a script by the same interpreter: -I -S so that it imports nothing
        # but the standard library (neither the user's script nor sensorlab).
        argv = [sys.executable, "-I", "-S", __file__, str(self.fd), str(data_w), str(ctl_r), str(RT_PRIORITY), str(int(flush)),
                repr(float(HANDOVER_BATCH))]  # fmt: skip
        try:
            proc = subprocess.Popen(argv, pass_fds=(self.fd, data_w, ctl_r), stdin=subprocess.DEVNULL, close_fds=True)
        except (OSError, ValueError) as e:
            for fd in (data_r, data_w, ctl_r, ctl_w):
                os.close(fd)
            self._data_r = self._ctl_w = -1
            raise ReaderError(f"could not start a reader process for {self.name}: {type(e).__name__}: {e}") from None
        os.close(data_w)  # the child holds them now; our copies would hide its end-of-file
        os.close(ctl_r)
        self._proc = proc
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> ReaderProcess:
        """Wait until the child reads (`ReaderError` if it does not within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while not self._ready:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise ReaderError(f"the reader process for {self.name} did not start within {timeout:g} s (machine overloaded?)")
            self._fill(min(left, 0.5))
            self._records(ready_only=True)
            if self._eof and not self._ready:
                code = self._reap()
                raise ReaderError(f"the reader process for {self.name} exited while starting (exit code {code})")
        return self

    @property
    def running(self) -> bool:
        """The child was started and its data pipe is still open (it has not ended)."""
        return self._proc is not None and not self._eof and self._proc.poll() is None

    @property
    def _ready(self) -> bool:  # the child's "ready" record has come
        return "ready" in self.child_stats

    def read(self, timeout: float) -> list[tuple[bytes, float]]:
        """Blocks that arrived, waiting up to ``timeout`` s for the first. Raises `ReaderError`
        when the port stopped working or the child died; blocks before that are returned first."""
        blocks = self._records()
        if blocks:
            return blocks
        self._fill(timeout)
        blocks = self._records()
        if not blocks and self._eof:
            code = self._reap()
            raise ReaderError(f"the reader process for {self.name} exited unexpectedly (exit code {code})")
        return blocks

    def stop(self, timeout: float = 2.0) -> list[tuple[bytes, float]]:
        """Tell the child to stop; return what it still held (nothing is lost on stop)."""
        if self._ctl_w >= 0:
            os.close(self._ctl_w)
            self._ctl_w = -1
        blocks: list[tuple[bytes, float]] = []
        deadline = time.monotonic() + timeout
        while not self._eof and self._data_r >= 0 and time.monotonic() < deadline:
            self._fill(deadline - time.monotonic())
            try:
                blocks += self._records()
            except ReaderError:
                break  # the port went at the same time: what came before it is in blocks
        self._reap()
        return blocks

    # -- parent side ------------------------------------------------------------------------
    def _fill(self, timeout: float) -> None:
        if self._eof or self._data_r < 0:
            return
        r, _, _ = select.select([self._data_r], [], [], max(0.0, timeout))
        if not r:
            return
        chunk = os.read(self._data_r, 1 << 20)
        if chunk:
            self._buf += chunk
        else:
            self._eof = True

    def _records(self, ready_only: bool = False) -> list[tuple[bytes, float]]:
        out: list[tuple[bytes, float]] = []
        buf, pos, size = self._buf, 0, _HEADER.size
        try:
            while len(buf) - pos >= size:
                kind, t, n = _HEADER.unpack_from(buf, pos)
                if len(buf) - pos - size < n:
                    break
                payload = bytes(buf[pos + size : pos + size + n])
                pos += size + n
                if kind == DATA:
                    out.append((payload, t))
                elif kind == READY:
                    self.child_stats.update(json.loads(payload))
                    self.realtime = bool(self.child_stats.get("realtime"))
                    if ready_only:
                        break
                elif kind == STATS:
                    self.child_stats.update(json.loads(payload))
                elif kind == ERROR:
                    del buf[:pos]
                    pos = 0
                    if out:  # hand over what came before the error first; it is raised next call
                        buf[:0] = _HEADER.pack(kind, t, n) + payload
                        return out
                    raise ReaderError(payload.decode("utf-8", "replace"))
        finally:
            del buf[:pos]
        return out

    def _reap(self) -> int | None:
        proc, self._proc = self._proc, None
        for fd in (self._data_r, self._ctl_w):
            if fd >= 0:
                os.close(fd)
        self._data_r = self._ctl_w = -1
        if proc is None:
            return None
        try:
            return proc.wait(2.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait(2.0)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None


# -- the child ---------------------------------------------------------------------------
def _child_main(port: int, out: int, ctl: int, rt_priority: int, flush: int = 0, batch: float = 0.0) -> None:
    """Read ``port`` until ``ctl`` closes or the port fails; records to ``out``, data in
    batches of ``batch`` seconds (see `HANDOVER_BATCH`)."""
    realtime = False
    if rt_priority and hasattr(os, "sched_setscheduler"):
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(rt_priority))
            realtime = True
        except OSError:
            pass  # not allowed: normal priority still beats a thread behind the GIL
    pending = bytearray()
    read_total = most_pending = 0
    # The batch: `held_since` is the arrival of the oldest read not yet handed over; once a
    # batch is due (or a record other than data is queued) `flushing` writes until `pending`
    # is empty, whatever arrives meanwhile going with it.
    held_since = 0.0
    flushing = batch <= 0

    def record(kind: int, payload: bytes, t: float = 0.0) -> None:
        nonlocal held_since, flushing
        if kind != DATA:
            flushing = True
        elif not pending:
            held_since = t
        pending.extend(_HEADER.pack(kind, t, len(payload)))
        pending.extend(payload)

    def finish(error: str | None) -> None:
        if error is not None:
            record(ERROR, error.encode("utf-8", "replace"), time.monotonic())
        record(STATS, json.dumps({"read_bytes": read_total, "most_pending": most_pending}).encode())
        os.set_blocking(out, True)
        try:
            _write_all(out, pending)
        except OSError:
            pass  # the parent is gone

    # At start the parent flushed stale input before launching us, and what arrived since is
    # the stream's start; after a reconnect it is a backlog inside the gap (see `launch`).
    if flush:
        import termios

        try:
            termios.tcflush(port, termios.TCIFLUSH)
        except termios.error:
            pass
    os.set_blocking(port, False)
    os.set_blocking(out, False)
    record(READY, json.dumps({"ready": True, "realtime": realtime, "pid": os.getpid()}).encode())
    poller = select.poll()
    hangup = select.POLLHUP | select.POLLERR | select.POLLNVAL
    reading = True
    poller.register(port, select.POLLIN)
    poller.register(ctl, select.POLLIN)
    poller.register(out, select.POLLOUT)
    writing = True  # as registered above
    while True:
        want_read = len(pending) < MAX_PENDING
        if want_read != reading:
            poller.modify(port, select.POLLIN if want_read else 0)
            reading = want_read
        timeout = None
        if pending and not flushing:
            wait = held_since + batch - time.monotonic()
            if wait <= 0 or len(pending) >= _BATCH_BYTES:
                flushing = True
            else:
                timeout = wait * 1000.0  # ms: poll returns when the batch is due
        want_write = bool(pending) and flushing
        if want_write != writing:
            poller.modify(out, select.POLLOUT if want_write else 0)
            writing = want_write
        for fd, ev in poller.poll(timeout):
            if fd == port:
                try:
                    data = os.read(port, _READ_SIZE)
                except BlockingIOError:
                    continue
                except OSError as e:
                    return finish(f"{e.strerror or e} (errno {e.errno})")
                t = time.monotonic()
                if not data:
                    if ev & hangup or ev & select.POLLIN:
                        return finish("the device disconnected (end of file on the port)")
                    continue
                read_total += len(data)
                record(DATA, data, t)
                most_pending = max(most_pending, len(pending))
            elif fd == ctl:
                _drain_port(port, record)
                return finish(None)
            elif fd == out:
                if ev & hangup:
                    return  # the parent closed its end: nobody to deliver to
                try:
                    n = os.write(out, pending)
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    return
                del pending[:n]
                if not pending:
                    flushing = batch <= 0  # the next read starts a new batch


def _drain_port(port: int, record) -> None:
    """On stop: what already arrived is delivered too."""
    try:
        data = os.read(port, _READ_SIZE)
    except OSError:
        return
    if data:
        record(DATA, data, time.monotonic())


def _write_all(fd: int, data: bytearray) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


if __name__ == "__main__":
    _child_main(*(int(a) for a in sys.argv[1:6]), float(sys.argv[6]) if len(sys.argv) > 6 else 0.0)
