"""The ``[[serial]]`` device kind: a microcontroller on a serial port (text, binary or events protocol)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sensorlab.acquisition.kinds.base import DeviceConfig, DeviceKind, EditorField, Found, TextEntry, optional_float
from sensorlab.acquisition.serial.listing import SerialPortInfo, list_serial_ports  # noqa: F401  (listed here before)
from sensorlab.acquisition.serial.text import TEXT_DTYPE
from sensorlab.acquisition.serial.urls import check_port

BAUD_RATES = (9600, 19200, 38400, 57600, 115200, 230400, 250000, 460800, 500000, 921600, 1000000, 1500000, 2000000)


class SerialConfig(DeviceConfig):
    name: str = "serial"
    port: str
    baud: int = 115200
    # "events": each line is one event (e.g. the class the device's own model reports).
    protocol: Literal["text", "binary", "events"] = "text"
    rate: float | None = Field(default=None, ge=0.1, le=100_000)  # nominal rate of a text stream, Hz
    channels: list[str] | None = None  # channel names of a text stream (else header/auto)
    units: list[str] | None = None
    # A text stream of raw counts: the integer dtype it is stored in, and physical = value *
    # scale + offset (one number or one per channel). A binary device says this itself.
    # Unset: float64, which holds every value a board prints to 15 digits (float32 stored a
    # GPS latitude of 473977418 as 473977408, 47.3977418 as 47.397743). Rigs the studio saved
    # before spell out the old default, "float32", for binary entries too: that is no setting.
    dtype: Literal["float32", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32"] | None = None
    scale: float | list[float] | None = None
    offset: float | list[float] | None = None
    # A text stream's first column is the device's time (ms/us/s) or a sample counter:
    # it gives exact timestamps and reveals lost lines (docs/SERIAL-PROTOCOL.md).
    time_column: Literal["ms", "us", "s", "counter"] | None = None
    # false for native-USB boards (USB CDC: ESP32-S2/S3, RP2040, SAMD, nRF52840 USB), which
    # ignore `baud`: arrivals are then not corrected for a transmit time at that rate.
    uart: bool = True
    # Read the port in a child process ("process"), a thread ("thread"), or choose ("auto":
    # the process from 460800 baud on and for uart = false, where a busy host would lose bytes).
    reader: Literal["auto", "thread", "process"] = "auto"

    @model_validator(mode="after")
    def _counts_only_for_text(self) -> SerialConfig:
        if self.protocol == "binary" and (self.dtype not in (None, "float32") or self.scale is not None or self.offset is not None):
            raise ValueError("dtype, scale and offset are for protocol = \"text\": a binary device describes its own streams")
        for key in ("scale", "offset"):
            v = getattr(self, key)
            if v is not None and not all(math.isfinite(x) for x in (v if isinstance(v, list) else [v])):
                raise ValueError(f"{key} must be finite numbers, got {v}")
        return self

    @field_validator("baud")
    @classmethod
    def _known_baud(cls, v: int) -> int:
        if v not in BAUD_RATES:
            raise ValueError(f"must be one of {BAUD_RATES[0]} … {BAUD_RATES[-1]} (e.g. 115200 or 921600), got {v}")
        return v

    @field_validator("port")
    @classmethod
    def _allowed_port(cls, v: str) -> str:
        return check_port(v)  # only device paths, socket://, rfc2217://, loop:// (serial/urls.py)

    @field_validator("channels", "units")
    @classmethod
    def _no_control_characters(cls, v: list[str] | None) -> list[str] | None:
        for item in v or ():
            if not item or any(ord(c) < 32 or c == "\x7f" for c in item):
                raise ValueError(f"{item!r} must be a non-empty name without NUL or control characters")
        return v


class SerialKind(DeviceKind):
    table = "serial"
    config = SerialConfig
    title = "Serial ports"
    hint = "[[serial]] port = PORT; pseudo-terminals and URLs are not listed"
    order = 30
    editor = (
        EditorField("port"),
        EditorField("protocol", choices=("text", "binary", "events")),
        EditorField("baud", int, choices=tuple(str(b) for b in BAUD_RATES)),
        EditorField("rate", optional_float),
    )
    text_entry = TextEntry("/dev/ttyACM0, socket://host:port", rank=0)

    def list_devices(self) -> list[Found]:
        return [Found(f"{p.port}: {p.description}" + (f" [{p.hwid}]" if p.hwid else ""), f"{p.port} — {p.description}",
                      SerialConfig(name="serial", port=p.port), p)
                for p in list_serial_ports()]  # fmt: skip

    def build(self, config: SerialConfig):
        from sensorlab.acquisition.serial.port import SerialSource

        return SerialSource(
            config.port,
            config.baud,
            config.protocol,
            name=config.name if config.protocol != "binary" else "",  # a binary device names its streams
            channel_names=config.channels,
            units=config.units or (),
            dtype=config.dtype or TEXT_DTYPE,
            scale=config.scale if config.scale is not None else (),
            offset=config.offset if config.offset is not None else (),
            nominal_rate=config.rate or 0.0,
            time_column=config.time_column,
            uart=config.uart,
            reader=config.reader,
        )

    def from_text(self, text: str) -> SerialConfig:
        return SerialConfig(name="serial", port=text)

    def describe(self, config: SerialConfig) -> str:
        return f"serial · {config.name} · {config.port} @ {config.baud} ({config.protocol})"


KIND = SerialKind()
