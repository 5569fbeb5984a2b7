"""Emulated microcontrollers on real pseudo-terminals, for tests, demos and benchmarks.

Each emulator runs a background thread in this process and writes to a pty (`PtyLink`);
the app opens ``mcu.port`` with pyserial like any USB serial adapter. Like real firmware:

- it has its own clock, ``device_time = (host - t_boot) * (1 + drift)``, and samples on a
  regular grid in that clock; each sample's value comes from the shared `World` at the
  sample's *true* host time, so claps line up across devices;
- it sends in bursts every 1–10 ms with occasional USB-like hiccups, paced at baud / 10
  bytes per second, and drops what does not fit;
- it can lose or corrupt packets on purpose (``loss``, ``corrupt``) for tests.

Variants: `TextIMU` (Edge-Impulse-style CSV lines), `BinaryIMU` (int16 with scale),
`RadarMCU` (64×32 range-Doppler maps), and `BinaryMCU` for any mix of binary streams.

Run one standalone for a demo (prints the port to open, runs until Ctrl-C)::

    python -m sensorlab.acquisition.emulated.mcu text-imu --rate 200
    python -m sensorlab.acquisition.emulated.mcu imu-radar --baud 2000000
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.emulated.pty import PtyLink
from sensorlab.acquisition.emulated.world import World, shared_world
from sensorlab.acquisition.serial.binary import (
    TYPE_DESCRIBE,
    VERSION,
    FrameSplitter,
    encode_data,
    encode_description,
    unframe,
)
from sensorlab.acquisition.serial.description import DeviceDescription, StreamDescription

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

    def vanish(self) -> None:
        """Unplug: stop sending and close the pty, so a reader sees the port disappear."""
        self.close()
        if self.link_path is not None:
            try:
                os.unlink(self.link_path)  # udev removes the by-id link with the device
            except FileNotFoundError:
                pass

    def replug(self) -> EmulatedMCU:
        """Plug back in after `vanish`: a new pty behind the same ``link_path``, and a device
        that rebooted (its clock and sample counters restart from 0). Needs ``link_path``."""
        if self.link_path is None:
            raise ValueError("replug needs a link_path: a pty never comes back at the same path")
        self.stop()
        self.link.close()
        self.link = PtyLink(self.baudrate, self.tx_buffer)
        self.t_boot = now()
        self.boots.append(self.t_boot)
        self._stop = threading.Event()
        _point(self.link_path, self.link.port)
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
            # measure (timestamps were biased late by it; see docs/PERFORMANCE.md, "Timestamps").
            self.link.pump()

    def _send(self, packet: bytes, ready: float) -> None:
        if self.loss and self._rng.random() < self.loss:
            self.lost_packets += 1
            return
        if self.corrupt and self._rng.random() < self.corrupt and len(packet) > 1:
            b = bytearray(packet)
            i = int(self._rng.integers(0, len(b) - 1))  # never the final delimiter/newline
            b[i] ^= int(self._rng.integers(1, 256))
            packet = bytes(b)
            self.corrupted_packets += 1
        if self.link.send(packet, ready):
            self.sent_packets += 1

    # -- for subclasses -------------------------------------------------------------------
    def _begin(self, t: float) -> None:
        """Called once, just before the thread starts, with the host time."""

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


class TextIMU(EmulatedMCU):
    """A 6-axis IMU printing text lines (``ax,ay,az,gx,gy,gz``).

    Parameters
    ----------
    rate
        Samples (lines) per second, 100–1000 is typical.
    time_column
        None, ``"counter"`` (sample index) or ``"ms"`` (``millis()``) as a first column.
    plotter
        Print Arduino-plotter ``ax:0.1,ay:...`` pairs instead of bare numbers.
    header
        Print a header line (``ax,ay,...``) at boot (lost if nobody listens yet, as usual).
    **kwargs
        See `EmulatedMCU`.
    """

    def __init__(self, rate: float = 100.0, time_column: str | None = None, plotter: bool = False, header: bool = True, **kwargs):
        kwargs.setdefault("baudrate", 115200 if rate <= 200 else 921600)
        super().__init__(**kwargs)
        self.rate = rate
        self.time_column = time_column
        self.plotter = plotter
        self.header = header
        self.channel_names = IMU_CHANNELS
        self._schedule: _Schedule | None = None

    def _begin(self, t: float) -> None:
        self._schedule = _Schedule(self.rate, float(self.device_time(t)))
        if self.header:
            names = (("t",) if self.time_column else ()) + self.channel_names
            self.link.send((",".join(names) + "\n").encode(), t)

    def true_host_times(self, device_times: np.ndarray) -> np.ndarray:
        """True host times of the samples whose time column read ``device_times`` (seconds,
        as `TextLineParser` reports them); for tests. Needs a time column."""
        sched = self._schedule
        t = np.asarray(device_times, dtype=np.float64)
        if self.time_column == "counter":
            k = np.round(t * self.rate)
        elif self.time_column == "ms":  # millis() truncates: the sample is at most 1 ms later
            k = np.ceil((t - sched.d0) * self.rate - 1e-6)
        else:
            raise ValueError("without a time column the lines carry no device time")
        return self.host_time(sched.device_times(k))

    def _produce(self, t: float) -> list[tuple[float, bytes]]:
        sched = self._schedule
        k = sched.due(float(self.device_time(t)))
        if not len(k):
            return []
        d = sched.device_times(k)
        host = self.host_time(d)
        values = self.world.imu(host)
        lines = []
        for i, row in enumerate(values):
            cols = [f"{v:.4f}" for v in row]
            if self.plotter:
                cols = [f"{n}:{c}" for n, c in zip(self.channel_names, cols, strict=True)]
            if self.time_column == "counter":
                cols.insert(0, str(int(k[i])))
            elif self.time_column == "ms":
                cols.insert(0, str(int(d[i] * 1000) & 0xFFFFFFFF))
            lines.append((float(host[i]), (",".join(cols) + "\r\n").encode()))
        return lines


@dataclass
class EmulatedStream:
    """One binary stream of a `BinaryMCU`.

    ``measure(host_times) -> (n, *shape) physical values``; values are divided by ``scale``
    (and rounded) for integer dtypes before sending.
    """

    description: StreamDescription
    measure: Callable[[np.ndarray], np.ndarray]
    samples_per_packet: int = 1


def imu_stream(world: World, stream_id: int = 0, name: str = "imu", rate: float = 1000.0, samples_per_packet: int = 10) -> EmulatedStream:
    """A 6-axis int16 IMU stream with the `IMU_SCALE` full scales."""
    desc = StreamDescription(
        stream_id, name, "timeseries", rate, "int16", (6,), IMU_CHANNELS, IMU_UNITS, IMU_SCALE
    )
    return EmulatedStream(desc, world.imu, samples_per_packet)


def radar_stream(
    world: World, stream_id: int = 1, name: str = "radar", rate: float = 20.0, shape: tuple[int, int] = (64, 32), dtype: str = "int16"
) -> EmulatedStream:
    """A range-Doppler map stream, one map per packet (int16 with scale 1e-3, or float32)."""
    scale = (1e-3,) if dtype != "float32" else None
    desc = StreamDescription(stream_id, name, "frames", rate, dtype, tuple(shape), (), ("a.u.",), scale)

    def measure(t: np.ndarray) -> np.ndarray:
        return np.stack([world.radar(float(ti), *shape) for ti in t])

    return EmulatedStream(desc, measure, 1)


class BinaryMCU(EmulatedMCU):
    """A device speaking the binary protocol with any number of streams.

    Parameters
    ----------
    streams
        The streams (see `imu_stream`, `radar_stream`).
    device
        Name reported in the self-description.
    answer_describe
        Reply to DESCRIBE requests (False emulates a device with the wrong firmware).
    micros_at_boot
        Value of the 32-bit microsecond counter at ``t_boot``; set near 2**32 to test wraparound.
    **kwargs
        See `EmulatedMCU`.
    """

    def __init__(
        self,
        streams: Sequence[EmulatedStream],
        device: str = "sensorlab emulated MCU",
        answer_describe: bool = True,
        micros_at_boot: int = 0,
        **kwargs,
    ):
        biggest = max(_packet_size(s) for s in streams)
        kwargs.setdefault("tx_buffer", max(8192, 3 * biggest))
        super().__init__(**kwargs)
        self.streams = list(streams)
        self.description = DeviceDescription(device, tuple(s.description for s in streams), firmware="emulated")
        self.answer_describe = answer_describe
        self.micros_at_boot = micros_at_boot
        self.describe_requests = 0
        self._rx = FrameSplitter(4096)
        self._schedules: list[_Schedule] = []

    def _begin(self, t: float) -> None:
        d = float(self.device_time(t))
        self._schedules = [_Schedule(s.description.rate, d) for s in self.streams]

    def true_host_times(self, device_times: np.ndarray, stream: int = 0) -> np.ndarray:
        """True host times of samples of ``stream`` (index) whose decoded device times are
        ``device_times`` (seconds, unwrapped, as `BinaryParser` reports them); for tests."""
        return true_sample_times(self.clock_truth(), device_times, stream)

    def clock_truth(self) -> dict:
        """What `true_host_times` needs, as plain numbers: a board in another process
        (`emulated/board_host.py`) hands it over so its parent can compute the truth."""
        return {
            "t_boot": self.t_boot, "drift": self.drift, "micros_at_boot": self.micros_at_boot,
            "schedules": [(s.d0, s.rate) for s in self._schedules],
        }  # fmt: skip

    def _on_receive(self, data: bytes) -> None:
        for encoded in self._rx.feed(data):
            body = unframe(encoded)
            if body is not None and body[:2] == bytes((VERSION, TYPE_DESCRIBE)):
                self.describe_requests += 1
                if self.answer_describe:
                    for packet in encode_description(self.description):
                        self.link.send(packet, urgent=True)  # ready now

    def _produce(self, t: float) -> list[tuple[float, bytes]]:
        device_now = float(self.device_time(t))
        packets: list[tuple[float, bytes]] = []
        for stream, sched in zip(self.streams, self._schedules, strict=True):
            k = sched.due(device_now, stream.samples_per_packet)
            if not len(k):
                continue
            d = sched.device_times(k)
            host = self.host_time(d)
            values = stream.measure(host)
            raw = _to_wire(values, stream.description)
            m = stream.samples_per_packet
            for i in range(0, len(k), m):
                t_us = (int(round(d[i] * 1e6)) + self.micros_at_boot) & 0xFFFFFFFF
                packets.append((float(host[i + m - 1]), encode_data(stream.description.id, int(k[i]), t_us, raw[i : i + m])))
        packets.sort(key=lambda p: p[0])  # interleave streams in the order samples were taken
        return packets


def true_sample_times(truth: dict, device_times: np.ndarray, stream: int = 0) -> np.ndarray:
    """`BinaryMCU.true_host_times` from its `BinaryMCU.clock_truth`."""
    d0, rate = truth["schedules"][stream]
    d = np.asarray(device_times, dtype=np.float64) - truth["micros_at_boot"] * 1e-6
    k = np.round((d - d0) * rate)
    return truth["t_boot"] + (d0 + k / rate) / (1.0 + truth["drift"])


class BinaryIMU(BinaryMCU):
    """A 6-axis IMU speaking binary: int16 with scale, ``rate`` Hz, ``samples_per_packet``."""

    def __init__(self, rate: float = 1000.0, samples_per_packet: int = 10, name: str = "imu", world: World | None = None, **kwargs):
        world = world if world is not None else shared_world()
        super().__init__([imu_stream(world, 0, name, rate, samples_per_packet)], device="sensorlab emulated IMU", world=world, **kwargs)


class RadarMCU(BinaryMCU):
    """A radar sending ``shape`` range-Doppler maps at ``rate`` Hz (int16 scaled or float32).

    64×32 float32 maps at 20 Hz need ~170 kB/s, more than 921 600 baud carries, so the
    default baud rate is 2 000 000 (CP2102N/FT232H bridges and native USB manage it).
    """

    def __init__(
        self, rate: float = 20.0, shape: tuple[int, int] = (64, 32), dtype: str = "int16", name: str = "radar", world: World | None = None, **kwargs
    ):
        world = world if world is not None else shared_world()
        kwargs.setdefault("baudrate", 2_000_000)
        super().__init__([radar_stream(world, 0, name, rate, shape, dtype)], device="sensorlab emulated radar", world=world, **kwargs)


def imu_radar_mcu(imu_rate: float = 1000.0, radar_rate: float = 20.0, world: World | None = None, **kwargs) -> BinaryMCU:
    """One device carrying an IMU (stream 0) and a radar (stream 1) on one link."""
    world = world if world is not None else shared_world()
    kwargs.setdefault("baudrate", 2_000_000)
    streams = [imu_stream(world, 0, "imu", imu_rate), radar_stream(world, 1, "radar", radar_rate)]
    return BinaryMCU(streams, device="sensorlab emulated IMU + radar", world=world, **kwargs)


def _to_wire(values: np.ndarray, desc: StreamDescription) -> np.ndarray:
    dtype = np.dtype(desc.dtype)
    if dtype.kind == "f":
        return values.astype(dtype)
    x = np.asarray(values, dtype=np.float64)
    if desc.offset is not None:
        x = x - np.asarray(desc.offset)
    if desc.scale is not None:
        x = x / np.asarray(desc.scale)
    info = np.iinfo(dtype)
    return np.clip(np.round(x), info.min, info.max).astype(dtype)


def _packet_size(stream: EmulatedStream) -> int:
    d = stream.description
    payload = stream.samples_per_packet * d.values_per_sample * np.dtype(d.dtype).itemsize
    return 16 + payload + 4 + payload // 254 + 3


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: start one emulated device and print its port."""
    ap = argparse.ArgumentParser(prog="python -m sensorlab.acquisition.emulated.mcu", description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=["text-imu", "binary-imu", "radar", "imu-radar"])
    ap.add_argument("--rate", type=float, default=None, help="sample rate of the (first) stream")
    ap.add_argument("--baud", type=int, default=None, help="emulated baud rate")
    ap.add_argument("--drift-ppm", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0 = until Ctrl-C)")
    args = ap.parse_args(argv)
    kw: dict = {"drift_ppm": args.drift_ppm}
    if args.baud:
        kw["baudrate"] = args.baud
    if args.kind == "text-imu":
        mcu: EmulatedMCU = TextIMU(rate=args.rate or 100.0, **kw)
    elif args.kind == "binary-imu":
        mcu = BinaryIMU(rate=args.rate or 1000.0, **kw)
    elif args.kind == "radar":
        mcu = RadarMCU(rate=args.rate or 20.0, **kw)
    else:
        mcu = imu_radar_mcu(imu_rate=args.rate or 1000.0, **kw)
    with mcu:
        print(f"{args.kind} on {mcu.port} at {mcu.baudrate} baud (Ctrl-C to stop)", flush=True)
        try:
            if args.seconds:
                time.sleep(args.seconds)
            else:
                while True:
                    time.sleep(1.0)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
