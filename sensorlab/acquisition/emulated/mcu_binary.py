"""Emulated boards sending binary COBS frames (docs/SERIAL-PROTOCOL.md): `BinaryMCU` for any mix of
`EmulatedStream`s, `BinaryIMU` (int16 with scale), `RadarMCU` (64×32 range-Doppler maps) and
both on one port (`imu_radar_mcu`); `true_sample_times` from a board's clock truth.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sensorlab.acquisition.emulated.mcu_board import (
    IMU_CHANNELS,
    IMU_SCALE,
    IMU_UNITS,
    EmulatedMCU,
    _Schedule,
)
from sensorlab.acquisition.emulated.world import World, shared_world
from sensorlab.acquisition.serial.binary import (
    TYPE_DESCRIBE,
    VERSION,
    FrameSplitter,
    encode_data,
    encode_description,
    unframe,
)
from sensorlab.acquisition.serial.description import (
    DeviceDescription,
    StreamDescription,
)


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

    def _flash(self, streams: Sequence[EmulatedStream] | None = None, device: str | None = None) -> None:
        """Boot firmware with other ``streams`` (another scale, dtype, rate…): it describes
        itself accordingly from now on."""
        if streams is not None:
            self.streams = list(streams)
        desc = self.description
        self.description = DeviceDescription(device or desc.device, tuple(s.description for s in self.streams), firmware=desc.firmware)

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
