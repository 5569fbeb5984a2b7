"""A pseudo-terminal that behaves like a microcontroller's UART link.

The emulator side writes the master fd; the app opens `PtyLink.port` (the slave's tty path)
with pyserial exactly as it would open ``/dev/ttyUSB0``. Two pty properties must be undone
to make it realistic (docs/TESTING.md, "Serial devices"):

- ptys ignore the baud rate and carry ~3 MB/s, so the link paces itself at ``baud / 10``
  bytes per second (8N1) with a token bucket;
- a pty never drops, it blocks the writer, and pyserial's ``write()`` busy-loops on a full
  buffer; so the master is non-blocking and bytes that do not fit are dropped and counted,
  as a real UART/USB bridge would drop them when nobody reads.
"""

from __future__ import annotations

import errno
import os
import threading
import tty
from collections import deque

from sensorlab.acquisition.clock import now


class PtyLink:
    """A paced, lossy-when-full byte link over a pseudo-terminal.

    Parameters
    ----------
    baudrate
        Emulated UART speed; the link carries at most ``baudrate / 10`` bytes per second.
    tx_buffer
        Bytes the device may queue before it drops whole packets (its TX ring buffer).

    Attributes
    ----------
    port
        Path of the tty to open with pyserial.
    sent_bytes, dropped_bytes, dropped_packets
        Bytes delivered into the pty, bytes lost because the pty was full (nobody reading),
        packets refused because the device's own TX buffer was full (link too slow).
    timing
        None, or (after `record_timing`) one ``(ready, due, written, start)`` host-time tuple per
        packet written: when the firmware finished it, when the UART would have sent its last
        byte, when the emulator really wrote that byte into the pty, and when its first byte
        went on the wire (``due - start`` is its wire time). ``written - due`` is
        the emulator's own pacing (its wake-ups; the USB-like bursts are part of it), which no
        host-side timestamping can see below (docs/performance/sync.md, "Timestamps").

    Thread-safety: `send`, `pump` and `receive` are called from the emulator's one thread;
    `close` may be called from another after that thread has stopped.
    """

    def __init__(self, baudrate: int = 921600, tx_buffer: int = 8192):
        self.baudrate = baudrate
        self.bytes_per_second = baudrate / 10.0
        self.tx_buffer = tx_buffer
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        # Raw on the master too, so no byte of ours is translated (CR/LF) on the way.
        tty.setraw(self._master)
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self._queue: deque[list] = deque()
        self._queued = 0
        self._wire_free = 0.0  # host time the wire finishes the packets already delivered
        self._blocked_until = float("-inf")  # see `block_until`
        self._lock = threading.Lock()  # guards the fds against close() racing the pump
        self.closed = False
        self.sent_bytes = 0
        self.dropped_bytes = 0
        self.dropped_packets = 0
        self.timing: list[tuple[float, float, float, float]] | None = None

    def record_timing(self) -> None:
        """Log every packet's ready, due and written times into `timing` from now on."""
        self.timing = []

    def send(self, packet: bytes, ready: float | None = None, urgent: bool = False) -> bool:
        """Queue one packet that the firmware finished building at host time ``ready``.

        It goes on the wire when the wire is free, and its bytes become readable at the
        pace of the baud rate (delivered by `pump`). Returns False (and counts it) when
        the TX buffer has no room. ``urgent`` puts it right behind the packet being
        transmitted (a command reply).
        """
        if self._queued + len(packet) > self.tx_buffer:
            # First deliver what the UART has finished by now: the emulator's thread may have been
            # kept off the CPU for a while (a loaded host) and now queues that whole stretch at
            # once, which a real board sent while it was produced. Counted as lost only when the
            # wire itself is too slow (or blocked) for it.
            self.pump()
        if self._queued + len(packet) > self.tx_buffer:
            self.dropped_packets += 1
            return False
        ready = now() if ready is None else ready
        # bytes, bytes delivered, earliest start, ready, urgent
        entry = [memoryview(bytes(packet)), 0, ready, ready, urgent]
        if urgent and len(self._queue) > 1:
            # Behind the packet on the wire and behind earlier urgent ones, in order: a reply of
            # several packets (a multi-part self-description) must not arrive reversed, which
            # the host's parser rightly takes for a new description each time part 0 comes.
            at = 1
            while at < len(self._queue) and self._queue[at][4]:
                at += 1
            self._queue.insert(at, entry)
        else:
            self._queue.append(entry)
        self._queued += len(packet)
        return True

    def block_until(self, t: float) -> None:
        """Carry nothing until host time ``t``, as when the host stops polling a USB device:
        the device keeps queueing into its TX buffer, and the backlog crosses the wire at the
        baud rate afterwards (for tests of a host that stalls and then drains slowly)."""
        self._blocked_until = t
        self._wire_free = max(self._wire_free, t)

    def pump(self, t: float | None = None) -> None:
        """Deliver every byte the UART has finished transmitting by host time ``t``.

        A byte is done ``1 / bytes_per_second`` after the previous one, and a packet cannot
        start before it was ready; so the last byte of a packet never arrives earlier than
        ``ready + len / bytes_per_second``, as on a real wire.
        """
        t = now() if t is None else t
        if t < self._blocked_until:
            return
        out = bytearray()
        finished: list[tuple[float, float, float]] = []  # (ready, due, start) of packets done
        while self._queue:
            entry = self._queue[0]
            view, done, ready = entry[0], entry[1], entry[2]
            if done == 0:
                entry[2] = ready = max(ready, self._wire_free)
            n = min(len(view), int((t - ready) * self.bytes_per_second))
            if n <= done:
                break
            out += view[done:n]
            self._queued -= n - done
            entry[1] = n
            if n < len(view):
                break
            self._queue.popleft()
            self._wire_free = ready + len(view) / self.bytes_per_second
            if self.timing is not None:
                finished.append((entry[3], self._wire_free, ready))
        if out:
            written = now()  # before the write: the reader may run before this thread returns
            self._write(bytes(out))
            if self.timing is not None:
                self.timing.extend((r, due, written, start) for r, due, start in finished)

    def receive(self) -> bytes:
        """Bytes the host wrote to the port since the last call (b"" if none)."""
        with self._lock:
            if self.closed:
                return b""
            try:
                return os.read(self._master, 4096)
            except OSError:  # EAGAIN: nothing; EIO: no reader has the port open
                return b""

    def _write(self, data: bytes) -> None:
        with self._lock:
            if self.closed:
                return
            try:
                n = os.write(self._master, data)
            except BlockingIOError:
                n = 0
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                n = 0
        self.sent_bytes += n
        self.dropped_bytes += len(data) - n

    def close(self) -> None:
        """Close both ends. Closing the master is what an unplug looks like to the reader."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            for fd in (self._master, self._slave):
                try:
                    os.close(fd)
                except OSError:
                    pass
