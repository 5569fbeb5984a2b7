"""Rig files: which devices to record, with which settings (TOML).

The same file drives ``sensorlab record --rig RIG.toml`` and the GUI's device dialog.
A mistake in it gets one line naming the field and the fix, never a traceback::

    rig.toml: serial[0].baud: must be one of 9600 … 2000000, got 'fast'

Example rig::

    name = "bench"                 # optional

    [[camera]]
    name = "cam"
    device = 0                     # index, video file or URL (e.g. an ESP32-CAM MJPEG stream)
    width = 640
    height = 480
    fps = 30

    [[audio]]
    name = "mic"
    device = "default"
    rate = 48000
    channels = 2

    [[serial]]
    name = "imu"
    port = "/dev/ttyUSB0"          # or any pyserial URL: socket://host:port, loop://
    baud = 921600
    protocol = "text"              # "text" (CSV / Arduino plotter) or "binary" (docs/SERIAL-PROTOCOL.md)
    rate = 1000                    # nominal rate of a text stream, Hz
    channels = ["ax", "ay", "az", "gx", "gy", "gz"]
    time_column = "counter"        # optional: first column is a counter or ms/us/s device time

    [[emulated]]
    device = "imu-binary"          # camera | microphone | imu-text | imu-binary | radar | imu-radar | eeg

    [[processor]]                  # a derived stream, recorded and plotted like a device's
    kind = "rms"                   # "rms" (moving RMS) | "threshold" (events on crossings)
    input = "mic"                  # a stream of a device above, or of an earlier processor
    window = 0.1                   # rms: seconds per window
    hop = 0.05                     # rms: seconds between outputs
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sensorlab.acquisition.source import Source

BAUD_RATES = (9600, 19200, 38400, 57600, 115200, 230400, 250000, 460800, 500000, 921600, 1000000, 1500000, 2000000)


class RigError(ValueError):
    """A rig file that cannot be used; the message is one line naming the field and the fix."""


class _Device(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, pattern=r"^[^/]+$")


class CameraConfig(_Device):
    name: str = "camera"
    device: int | str = 0
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    fps: float | None = Field(default=None, gt=0, le=1000)
    loop: bool = True  # loop a video file at its end


class AudioConfig(_Device):
    name: str = "audio"
    device: int | str | None = None  # None: the system default input
    rate: int = Field(default=48000, gt=0)
    channels: int = Field(default=1, ge=1, le=64)
    blocksize: int = Field(default=480, ge=16)


class SerialConfig(_Device):
    name: str = "serial"
    port: str
    baud: int = 115200
    protocol: Literal["text", "binary"] = "text"
    rate: float | None = Field(default=None, gt=0)  # nominal rate of a text stream
    channels: list[str] | None = None  # channel names of a text stream (else header/auto)
    units: list[str] | None = None
    # A text stream's first column is the device's time (ms/us/s) or a sample counter:
    # it gives exact timestamps and reveals lost lines (docs/SERIAL-PROTOCOL.md).
    time_column: Literal["ms", "us", "s", "counter"] | None = None
    # false for native-USB boards (USB CDC: ESP32-S2/S3, RP2040, SAMD, nRF52840 USB), which
    # ignore `baud`: arrivals are then not corrected for a transmit time at that rate.
    uart: bool = True

    @field_validator("baud")
    @classmethod
    def _known_baud(cls, v: int) -> int:
        if v not in BAUD_RATES:
            raise ValueError(f"must be one of {BAUD_RATES[0]} … {BAUD_RATES[-1]} (e.g. 115200 or 921600), got {v}")
        return v


class EmulatedConfig(_Device):
    name: str = ""
    device: Literal["camera", "microphone", "imu-text", "imu-binary", "radar", "imu-radar", "eeg"]
    rate: float | None = Field(default=None, gt=0)
    channels: int | None = Field(default=None, ge=1, le=64)
    drift_ppm: float = 0.0


class RmsProcessorConfig(BaseModel):
    """A moving RMS of ``input`` (`sensorlab.acquisition.processors.MovingRMS`)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["rms"]
    input: str = Field(min_length=1)
    name: str = Field(default="", pattern=r"^[^/]*$")  # output stream; default "<input>_rms"
    window: float = Field(default=0.1, gt=0)
    hop: float = Field(default=0.05, gt=0)


class ThresholdProcessorConfig(BaseModel):
    """Events when a channel of ``input`` crosses ``above`` (`processors.ThresholdEvents`)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["threshold"]
    input: str = Field(min_length=1)
    name: str = Field(default="", pattern=r"^[^/]*$")  # output stream; default "<input>_events"
    above: float
    below: float | None = None  # hysteresis: the "below" event fires under this (default: above)
    channel: int | str = 0

    @model_validator(mode="after")
    def _order(self) -> ThresholdProcessorConfig:
        if self.below is not None and self.below > self.above:
            raise ValueError(f"below ({self.below}) must not exceed above ({self.above})")
        return self


ProcessorConfig = Annotated[RmsProcessorConfig | ThresholdProcessorConfig, Field(discriminator="kind")]


def _output_name(p: RmsProcessorConfig | ThresholdProcessorConfig) -> str:
    return p.name or f"{p.input}_{'rms' if p.kind == 'rms' else 'events'}"


class RigConfig(BaseModel):
    """A validated rig: lists of devices per kind."""

    model_config = ConfigDict(extra="forbid")
    name: str = "rig"
    camera: list[CameraConfig] = []
    audio: list[AudioConfig] = []
    serial: list[SerialConfig] = []
    emulated: list[EmulatedConfig] = []
    processor: list[ProcessorConfig] = []

    def build_sources(self) -> list[Source]:
        """Create (not open) one source per configured device, then one per processor.

        `Acquisition` opens the processors (listed last) after the devices."""
        from sensorlab.acquisition.builders import build_source
        from sensorlab.acquisition.processors import build_processor

        devices = [build_source(d) for d in [*self.camera, *self.audio, *self.serial, *self.emulated]]
        return [*devices, *(build_processor(p) for p in self.processor)]

    def to_toml(self) -> str:
        import tomli_w

        data = self.model_dump(exclude_none=True, exclude_defaults=False)
        return tomli_w.dumps({k: v for k, v in data.items() if v != []})


def _format_error(source: str, err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ""
    for part in first["loc"]:
        loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
    msg = first["msg"].replace("Input should be", "must be")
    kind = first["type"]
    example = {"rate": "48000", "baud": "921600", "fps": "30", "width": "640", "height": "480", "channels": "2"}
    if kind == "extra_forbidden":
        msg = "unknown setting: remove it or check its spelling (see docs/RIG.md)"
    elif kind == "missing":
        msg = "missing: add it"
    elif kind == "list_type" and len(first["loc"]) == 1:
        msg = f"write [[{loc}]] with double brackets: one table per device"
    elif kind in ("int_parsing", "float_parsing", "int_type", "float_type", "int_from_float"):
        last = next((p for p in reversed(first["loc"]) if isinstance(p, str)), "")
        msg = f"must be a number, e.g. {last} = {example.get(last, '1')}, got {first.get('input')!r}"
    elif kind.startswith(("greater_than", "less_than")):
        msg = f"{msg}, got {first.get('input')!r}"
    return f"{source}: {loc or '(top level)'}: {msg}"


def parse_rig(text: str, source: str = "rig") -> RigConfig:
    """Parse and validate rig TOML text; raises `RigError` with one clear line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RigError(f"{source}: not valid TOML ({e}); check quotes and brackets") from None
    try:
        rig = RigConfig.model_validate(data)
    except ValidationError as e:
        raise RigError(_format_error(source, e)) from None
    devices = [*rig.camera, *rig.audio, *rig.serial, *rig.emulated]
    if not devices:
        raise RigError(f"{source}: the rig names no devices; add a [[camera]], [[audio]], [[serial]] or [[emulated]] table (see docs/RIG.md)")
    names = [d.name for d in devices if d.name] + [_output_name(p) for p in rig.processor]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RigError(f"{source}: device name {dupes[0]!r} is used twice: give each device (and processor) a unique name")
    return rig


def load_rig(path: str | Path) -> RigConfig:
    """Read a rig file. Raises `RigError` naming the problem and the fix."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise RigError(f"{path}: no such rig file; create one (see docs/RIG.md) or use --demo") from None
    return parse_rig(text, source=path.name)


def save_rig(rig: RigConfig, path: str | Path) -> None:
    Path(path).write_text(rig.to_toml())
