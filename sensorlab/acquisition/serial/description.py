"""The JSON self-description a binary-protocol device sends on request.

It tells the host, per stream id, what the packets carry: name, kind, rate, dtype, sample
shape, channel names, units and the scale that turns integer counts into physical units.
The schema is documented in ``docs/SERIAL-PROTOCOL.md`` (section "Self-description").
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sensorlab.acquisition.names import stream_name_problem
from sensorlab.acquisition.source import StreamInfo, StreamKind

#: Payload type codes on the wire (byte 3 of a data packet) and their NumPy dtypes.
DTYPE_CODES: dict[int, str] = {
    1: "uint8",
    2: "int8",
    3: "uint16",
    4: "int16",
    5: "uint32",
    6: "int32",
    7: "float32",
    8: "float64",
}
CODE_OF_DTYPE: dict[str, int] = {v: k for k, v in DTYPE_CODES.items()}
KINDS = ("timeseries", "frames")
#: Highest nominal rate a device may declare: a 2 Mbaud link carries at most 200 kB/s.
MAX_RATE = 1_000_000.0


class DescriptionError(ValueError):
    """The device's self-description is malformed; the message says which field."""


@dataclass(frozen=True)
class StreamDescription:
    """One stream of a binary-protocol device.

    Parameters
    ----------
    id
        Stream id byte used in data packets (0–255).
    name
        Stream name (unique per device, no ``/``).
    kind
        ``"timeseries"`` (shape ``[channels]``) or ``"frames"`` (any shape, e.g. ``[64, 32]``).
    rate
        Nominal samples per second in the device clock (0 = irregular: one sample per packet).
    dtype
        Wire dtype of one value, a key of `CODE_OF_DTYPE`.
    shape
        Shape of one sample.
    channels, units
        Channel names (timeseries: one per channel) and units (one, or one per channel).
    scale, offset
        ``physical = raw * scale + offset``; one number, or one per channel (last axis).
    """

    id: int
    name: str
    kind: str
    rate: float
    dtype: str
    shape: tuple[int, ...]
    channels: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    scale: tuple[float, ...] | None = None
    offset: tuple[float, ...] | None = None

    @property
    def values_per_sample(self) -> int:
        return math.prod(self.shape)  # per data packet: np.prod cost ~35 µs of the reader thread's GIL

    @property
    def wire_dtype(self) -> np.dtype:
        return np.dtype(self.dtype).newbyteorder("<")

    @property
    def scaled(self) -> bool:
        return self.scale is not None or self.offset is not None

    def to_physical(self, raw: np.ndarray) -> np.ndarray:
        """Apply ``scale``/``offset`` (float32 result); raw values unchanged when unscaled."""
        if not self.scaled:
            return raw
        out = raw.astype(np.float32)
        if self.scale is not None:
            out *= np.asarray(self.scale, dtype=np.float32)
        if self.offset is not None:
            out += np.asarray(self.offset, dtype=np.float32)
        return out

    def to_info(self, device: str = "", prefix: str = "", apply_scale: bool = True) -> StreamInfo:
        """The `StreamInfo` of this stream as the host records it: the wire dtype (the counts
        the device sent), with ``scale``/``offset`` so consumers get physical values.
        ``apply_scale`` False drops the scale (counts everywhere, e.g. to debug firmware)."""
        return StreamInfo(
            name=prefix + self.name,
            kind=StreamKind.TIMESERIES if self.kind == "timeseries" else StreamKind.FRAMES,
            nominal_rate=self.rate,
            channel_names=self.channels,
            units=self.units,
            dtype=self.dtype,
            sample_shape=self.shape,
            device=device,
            has_device_time=True,
            scale=(self.scale or ()) if apply_scale else (),
            offset=(self.offset or ()) if apply_scale else (),
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "rate": self.rate,
            "dtype": self.dtype,
            "shape": list(self.shape),
        }
        for key in ("channels", "units", "scale", "offset"):
            value = getattr(self, key)
            if value:
                d[key] = list(value)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StreamDescription:
        def need(key: str) -> Any:
            if key not in d:
                raise DescriptionError(f"stream {d.get('id', '?')} lacks the required field {key!r}")
            return d[key]

        try:
            sid = int(need("id"))
            name = str(need("name"))
            kind = str(d.get("kind", "timeseries"))
            dtype = str(need("dtype"))
            shape = tuple(int(s) for s in need("shape"))
            rate = float(d.get("rate", 0.0))
        except (TypeError, ValueError, OverflowError) as e:  # OverflowError: int(1e999)
            raise DescriptionError(f"stream {d.get('id', '?')}: {e}") from None
        if not 0 <= sid <= 255:
            raise DescriptionError(f"stream id {sid} is not a byte (0-255)")
        if kind not in KINDS:
            raise DescriptionError(f"stream {sid}: kind {kind!r} is not one of {KINDS}")
        if dtype not in CODE_OF_DTYPE:
            raise DescriptionError(f"stream {sid}: dtype {dtype!r} is not one of {sorted(CODE_OF_DTYPE)}")
        if not shape or any(s <= 0 for s in shape) or math.prod(shape) > 0xFFFF:  # math.prod: no int64 wrap
            raise DescriptionError(f"stream {sid}: shape {list(shape)} must be positive, at most 65535 values")
        if kind == "timeseries" and len(shape) != 1:
            raise DescriptionError(f"stream {sid}: a timeseries has shape [channels], not {list(shape)}")
        # The name becomes an HDF5 group: no '/', '.', '..', NUL, nor the reserved 'labels'.
        problem = stream_name_problem(name)
        if problem:
            raise DescriptionError(f"stream {sid}: name {problem}")
        if not (math.isfinite(rate) and 0.0 <= rate <= MAX_RATE):
            raise DescriptionError(f"stream {sid}: rate {rate!r} must be a number from 0 (irregular) to {MAX_RATE:g} Hz")
        channels = _strings(d.get("channels"), f"stream {sid} channels")
        if kind == "timeseries" and channels and len(channels) != shape[0]:
            raise DescriptionError(f"stream {sid}: {len(channels)} channel names for {shape[0]} channels")
        if kind == "timeseries" and not channels:
            channels = tuple(f"ch{i}" for i in range(shape[0]))
        return cls(
            id=sid,
            name=name,
            kind=kind,
            rate=rate,
            dtype=dtype,
            shape=shape,
            channels=channels,
            units=_strings(d.get("units"), f"stream {sid} units"),
            scale=_numbers(d.get("scale"), shape, f"stream {sid} scale"),
            offset=_numbers(d.get("offset"), shape, f"stream {sid} offset"),
        )


@dataclass(frozen=True)
class DeviceDescription:
    """Everything a device says about itself: a name and its streams."""

    device: str
    streams: tuple[StreamDescription, ...] = field(default_factory=tuple)
    protocol: int = 1
    firmware: str = ""

    def by_id(self) -> dict[int, StreamDescription]:
        return {s.id: s for s in self.streams}

    def to_json(self) -> str:
        d: dict[str, Any] = {"protocol": self.protocol, "device": self.device}
        if self.firmware:
            d["firmware"] = self.firmware
        d["streams"] = [s.to_dict() for s in self.streams]
        return json.dumps(d, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> DeviceDescription:
        """Parse and validate; raises `DescriptionError` naming the offending field."""
        try:
            d = json.loads(text)
        except (ValueError, UnicodeDecodeError) as e:
            raise DescriptionError(f"self-description is not valid JSON: {e}") from None
        if not isinstance(d, dict) or not isinstance(d.get("streams"), list) or not d["streams"]:
            raise DescriptionError("self-description needs a non-empty 'streams' list")
        if not all(isinstance(s, dict) for s in d["streams"]):
            raise DescriptionError("each entry of 'streams' must be an object")
        streams = tuple(StreamDescription.from_dict(s) for s in d["streams"])
        ids = [s.id for s in streams]
        names = [s.name for s in streams]
        if len(set(ids)) != len(ids) or len(set(names)) != len(names):
            raise DescriptionError(f"stream ids {ids} and names {names} must be unique")
        try:
            protocol = int(d.get("protocol", 1))
        except (TypeError, ValueError):
            raise DescriptionError("'protocol' must be an integer") from None
        return cls(
            device=_printable(d.get("device", "")), streams=streams, protocol=protocol, firmware=_printable(d.get("firmware", ""))
        )


def _printable(value: Any) -> str:
    # Free text for humans (stored as HDF5 attributes, which cannot hold NUL): keep it, minus
    # control characters, and bounded.
    return "".join(c if c.isprintable() else "?" for c in str(value))[:200]


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, Sequence):
        raise DescriptionError(f"{what} must be a list of strings")
    items = (value,) if isinstance(value, str) else tuple(str(v) for v in value)
    # Stored as HDF5 string attributes, which cannot hold NUL; control characters garble tables.
    if any(ord(c) < 32 or c == "\x7f" for item in items for c in item):
        raise DescriptionError(f"{what} contain a NUL or control character")
    return items


def _numbers(value: Any, shape: tuple[int, ...], what: str) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        values = (float(value),) if isinstance(value, int | float) else tuple(float(v) for v in value)
    except (TypeError, ValueError, OverflowError):
        raise DescriptionError(f"{what} must be a number or a list of numbers") from None
    if not all(math.isfinite(v) for v in values):
        raise DescriptionError(f"{what} must be finite numbers, got {list(values)}")
    if len(values) not in (1, shape[-1]):
        raise DescriptionError(f"{what} has {len(values)} entries; give one, or one per channel ({shape[-1]})")
    return values
