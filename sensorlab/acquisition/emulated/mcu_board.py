"""The emulated board every variant builds on (`EmulatedMCU`): a pty, a drifting device clock, a
regular sample grid in that clock (`_Schedule`), bursty sending paced at the baud rate, loss
and corruption on purpose, unplugging and replugging. The IMU's channels and full scales,
shared by the text and binary IMUs, are here too. Overview: `sensorlab.acquisition.emulated.mcu`.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.emulated.pty import PtyLink
from sensorlab.acquisition.emulated.world import World, shared_world

IMU_CHANNELS = ("ax", "ay", "az", "gx", "gy", "gz")
IMU_UNITS = ("g", "g", "g", "deg/s", "deg/s", "deg/s")
#: int16 full scales of a typical MEMS IMU set to ±8 g and ±500 deg/s.
IMU_SCALE = (8 / 32768,) * 3 + (500 / 32768,) * 3


class EmulatedMCU:
    """Base class: a pty, a drifting device clock, bursty paced sending, fault injection.

    Parameters
    ----------
    baudrate
        Emulated UART speed (the app should open the port with the same value).
    drift_ppm
        Device clock error: ``device_time = (host - t_boot) * (1 + drift_ppm * 1e-6)``.
    world
        What the sensors observe (`shared_world()` by default).
    burst_ms
        Range of the random interval between bursts, like USB bulk transfers.
    hiccup
        ``(probability, max_ms)``: chance per burst of an extra random delay up to max_ms.
    loss, corrupt
        Probability that a packet (binary) or line (text) is dropped / has one byte flipped.
    seed
        Seeds burst timing and fault injection.
    link_path
        A stable port path: a symlink to the pty, repointed by `replug` (as udev's
        ``/dev/serial/by-id/…`` links follow a board that re-enumerates). Default: the pty itself.

    Attributes
    ----------
    port
        tty path to open with pyserial.
    t_boot
        Host time at which the device clock read 0.
    sent_packets, lost_packets, corrupted_packets
        What the device did (lost/corrupted count only injected faults; link overflows are
        in ``link.dropped_packets`` / ``link.dropped_bytes``).

    Examples
    --------
    >>> with TextIMU(rate=100) as mcu:                                  # doctest: +SKIP
    ...     src = SerialSource(mcu.port, baudrate=mcu.baudrate, nominal_rate=100)
    """

    def __init__(
        self,
        *,
        baudrate: int = 921600,
        drift_ppm: float = 100.0,
        world: World | None = None,
        burst_ms: tuple[float, float] = (1.0, 10.0),
        hiccup: tuple[float, float] = (0.02, 20.0),
        loss: float = 0.0,
        corrupt: float = 0.0,
        seed: int = 0,
        tx_buffer: int = 8192,
        link_path: str | None = None,
    ):
        self.baudrate = baudrate
        self.drift = drift_ppm * 1e-6
        self.world = world if world is not None else shared_world()
        self.burst_ms = burst_ms
        self.hiccup = hiccup
        self.loss = loss
        self.corrupt = corrupt
        self._rng = np.random.default_rng(seed)
        self.tx_buffer = tx_buffer
        self.link_path = link_path
        self.link = PtyLink(baudrate, tx_buffer)
        self.port = self.link.port
        if link_path is not None:
            _point(link_path, self.link.port)
            self.port = link_path
        self.t_boot = now()
        self.boots = [self.t_boot]  # host time of every (re)boot: the device clock restarts at 0
        self.sent_packets = 0
        self.lost_packets = 0
        self.corrupted_packets = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- clock --------------------------------------------------------------------------
    def device_time(self, host: float | np.ndarray) -> float | np.ndarray:
        return (host - self.t_boot) * (1.0 + self.drift)

    def host_time(self, device: float | np.ndarray) -> float | np.ndarray:
        """The true host time at which the device clock read ``device``."""
        return self.t_boot + np.asarray(device) / (1.0 + self.drift)

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> EmulatedMCU:
        if self._thread is None:
            self._begin(now())
            self._thread = threading.Thread(target=self._run, name=f"mcu {self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    def close(self) -> None:
        self.stop()
        self.link.close()

    @property
    def closed(self) -> bool:
        """Its pty is closed (`close`, `vanish`): the port path may now be another program's."""
        return self.link.closed

    def vanish(self) -> None:
        """Unplug: stop sending and close the pty, so a reader sees the port disappear."""
        if self.link_path is not None:
            # Removed first, as udev removes the by-id link with the device: a link left to the
            # closed pty would lead to whichever program gets its number next.
            try:
                os.unlink(self.link_path)
            except FileNotFoundError:
                pass
        self.close()

    def replug(self) -> EmulatedMCU:
        """Plug back in after `vanish`: a new pty behind the same ``link_path``, and a device
        that rebooted (its clock and sample counters restart from 0). Needs ``link_path``."""
        if self.link_path is None:
            raise ValueError("replug needs a link_path: a pty never comes back at the same path")
        self.stop()
        # The new pty exists and the link points to it before the old one closes: the link never
        # leads to a freed pty number, which the kernel may have given to another program.
        old, self.link = self.link, PtyLink(self.baudrate, self.tx_buffer)
        _point(self.link_path, self.link.port)
        old.close()
        self.t_boot = now()
        self.boots.append(self.t_boot)
        self._stop = threading.Event()
        return self.start()

    def reboot(self, pause: float = 0.3, **firmware) -> EmulatedMCU:
        """Reset with the port open (its reset button, a watchdog, an OTA update): silent for
        ``pause`` s, then its clock and sample counters restart from 0. ``firmware``: what the
        firmware it boots changes (`BinaryMCU` takes ``streams``, `TextIMU` ``channels``)."""
        self.stop()
        threading.Event().wait(pause)  # rebooting: nothing sent
        self._flash(**firmware)
        self.t_boot = now()
        self.boots.append(self.t_boot)
        self._stop = threading.Event()
        return self.start()

    def __enter__(self) -> EmulatedMCU:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the firmware loop ----------------------------------------------------------------
    def _run(self) -> None:
        lo, hi = self.burst_ms
        p_hiccup, hiccup_ms = self.hiccup
        while not self._stop.is_set():
            delay = self._rng.uniform(lo, hi) * 1e-3
            if self._rng.random() < p_hiccup:
                delay += self._rng.uniform(0, hiccup_ms) * 1e-3
            if self._stop.wait(delay):
                break
            t = now()
            incoming = self.link.receive()
            if incoming:
                self._on_receive(incoming)
            for ready, packet in self._produce(t):
                self._send(packet, ready)
            # Deliver what the wire has finished by *now*, not by the wake-up time ``t``:
            # building the packets takes 0.2-0.5 ms on a busy machine, and a byte written that
            # much after it was due looked to the host like a transport floor it cannot
            # measure (timestamps were biased late by it; see docs/performance/sync.md, "Timestamps").
            self.link.pump()

    def _send(self, packet: bytes, ready: float) -> bool:
        """Queue one packet on the link; False if it never will cross it (an injected loss, or
        the TX buffer full)."""
        if self.loss and self._rng.random() < self.loss:
            self.lost_packets += 1
            return False
        if self.corrupt and self._rng.random() < self.corrupt and len(packet) > 1:
            b = bytearray(packet)
            i = int(self._rng.integers(0, len(b) - 1))  # never the final delimiter/newline
            b[i] ^= int(self._rng.integers(1, 256))
            packet = bytes(b)
            self.corrupted_packets += 1
        if not self.link.send(packet, ready):
            return False
        self.sent_packets += 1
        return True

    # -- for subclasses -------------------------------------------------------------------
    def _begin(self, t: float) -> None:
        """Called once, just before the thread starts, with the host time."""

    def _flash(self, **firmware) -> None:
        """`reboot` into other firmware: change what it sends."""
        if firmware:
            raise TypeError(f"{type(self).__name__} cannot change {', '.join(firmware)} on reboot")

    def _produce(self, t: float) -> list[tuple[float, bytes]]:
        """``(host time it was ready, packet or line)`` for everything completed by ``t``."""
        raise NotImplementedError

    def _on_receive(self, data: bytes) -> None:
        """Bytes the host sent."""


def _point(link: str, target: str) -> None:
    """Make ``link`` a symlink to ``target``, replacing an old link atomically."""
    tmp = f"{link}.new"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, link)


class _Schedule:
    """Regular sample grid in the device clock: which sample indices are due by a time."""

    def __init__(self, rate: float, d0: float):
        self.rate = rate
        self.d0 = d0
        self.next = 0

    def due(self, device_now: float, multiple: int = 1) -> np.ndarray:
        """Indices of samples taken by ``device_now``, in whole groups of ``multiple``."""
        last = int(np.floor((device_now - self.d0) * self.rate)) + 1
        n = (last - self.next) // multiple * multiple
        if n <= 0:
            return np.empty(0, dtype=np.int64)
        k = np.arange(self.next, self.next + n, dtype=np.int64)
        self.next += n
        return k

    def device_times(self, k: np.ndarray) -> np.ndarray:
        return self.d0 + k / self.rate
