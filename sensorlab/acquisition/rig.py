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
    port = "/dev/ttyUSB0"          # or socket://host:port, rfc2217://host:port, loop://
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
import typing
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from sensorlab.acquisition.names import file_name_problem, stream_name_problem
from sensorlab.acquisition.serial.urls import check_port
from sensorlab.acquisition.source import Source

#: A rig file is a few hundred bytes; anything this big is a mistake (or an attack on the parser).
MAX_RIG_BYTES = 1_000_000
#: Allowed ranges of an emulated device's ``rate`` by kind (Hz), measured: above them the
#: emulated serial link overflows (samples dropped, or none recorded at all), below them a
#: binary device (10 samples per packet) sends nothing for seconds.
EMULATED_RATES = {
    "camera": (1.0, 120.0),
    "microphone": (8000.0, 192000.0),
    "imu-text": (1.0, 2000.0),
    "imu-binary": (10.0, 5000.0),
    "radar": (1.0, 40.0),
    "imu-radar": (10.0, 2000.0),
    "eeg": (10.0, 4000.0),
}
#: The emulated EEG's 2 Mbaud link carries at most this many int16 values per second (rate × channels).
EEG_VALUES_PER_S = 64_000
#: An emulated clock error beyond ±5 % is no real oscillator (crystals: ±100 ppm, RC: ±2 %).
MAX_DRIFT_PPM = 50_000.0

BAUD_RATES = (9600, 19200, 38400, 57600, 115200, 230400, 250000, 460800, 500000, 921600, 1000000, 1500000, 2000000)


class RigError(ValueError):
    """A rig file that cannot be used; the message is one line naming the field and the fix."""


class _Device(BaseModel):
    # allow_inf_nan=False: `rate = inf` or `nan` is a mistake to report, not a number to use.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str = Field(min_length=1, pattern=r"^[^/]+$")

    # Subclasses redeclare `name` with their own default, which drops the Field constraints
    # above; this validator applies to all of them. The name becomes an HDF5 group.
    @field_validator("name", check_fields=False)
    @classmethod
    def _usable_stream_name(cls, v: str) -> str:
        if v == "" and cls is EmulatedConfig:
            return v  # the emulated device's own default name
        problem = stream_name_problem(v)
        if problem:
            raise ValueError(problem)
        return v


class CameraConfig(_Device):
    name: str = "camera"
    device: int | str = 0
    width: int | None = Field(default=None, gt=0, le=16384)
    height: int | None = Field(default=None, gt=0, le=16384)
    fps: float | None = Field(default=None, gt=0, le=1000)
    loop: bool = True  # loop a video file at its end


class AudioConfig(_Device):
    name: str = "audio"
    device: int | str | None = None  # None: the system default input
    rate: int = Field(default=48000, ge=1000, le=768000)
    channels: int = Field(default=1, ge=1, le=64)
    blocksize: int = Field(default=480, ge=16, le=65536)


class SerialConfig(_Device):
    name: str = "serial"
    port: str
    baud: int = 115200
    protocol: Literal["text", "binary"] = "text"
    rate: float | None = Field(default=None, ge=0.1, le=100_000)  # nominal rate of a text stream, Hz
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


class EmulatedConfig(_Device):
    name: str = ""
    device: Literal["camera", "microphone", "imu-text", "imu-binary", "radar", "imu-radar", "eeg"]
    rate: float | None = Field(default=None, gt=0)
    channels: int | None = Field(default=None, ge=1, le=64)
    drift_ppm: float = Field(default=0.0, ge=-MAX_DRIFT_PPM, le=MAX_DRIFT_PPM)

    @field_validator("rate")
    @classmethod
    def _rate_in_range(cls, v: float | None, info: ValidationInfo) -> float | None:
        device = info.data.get("device")  # validated before `rate` (field order)
        if v is not None and device in EMULATED_RATES:
            lo, hi = EMULATED_RATES[device]
            if not lo <= v <= hi:
                raise ValueError(f"an emulated {device} runs at {lo:g} … {hi:g} Hz, got {v:g}")
        return v

    @field_validator("channels")
    @classmethod
    def _link_carries_it(cls, v: int | None, info: ValidationInfo) -> int | None:
        rate = info.data.get("rate") or 1000.0  # the EEG's default rate (builders.py)
        if v is not None and info.data.get("device") == "eeg" and v * rate > EEG_VALUES_PER_S:
            most = int(EEG_VALUES_PER_S // rate)
            raise ValueError(f"{v} channels at {rate:g} Hz exceed the emulated link; use at most {most} channels at this rate")
        return v


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


class ModelProcessorConfig(BaseModel):
    """An ONNX model on a stream (`sensorlab.inference.InferenceProcessor`, docs/INFERENCE.md).

    Built through `processors.register_kind` (the inference package registers it): the
    acquisition layer only validates the table."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    kind: Literal["model"]
    path: str = Field(min_length=1)  # .onnx file, relative to the rig file; "demo": the bundled demo model
    input: str = ""  # default: the stream the model's contract or mapping names
    name: str = Field(default="", pattern=r"^[^/]*$")  # output stream; default "<model stem>_pred"
    stale_after: float = Field(default=0.5, gt=0, le=60)
    smooth: int = Field(default=0, ge=0, le=1000)  # moving average over this many windows
    event_label: str = ""  # class whose probability makes an events stream "<name>_events"
    threshold: float | None = Field(default=None, ge=0, le=1)
    release: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _events(self) -> ModelProcessorConfig:
        if (self.threshold is None) != (not self.event_label):
            raise ValueError("events need both event_label and threshold")
        if self.release is not None and self.threshold is not None and self.release > self.threshold:
            raise ValueError(f"release ({self.release}) must not exceed threshold ({self.threshold})")
        return self


ProcessorConfig = Annotated[RmsProcessorConfig | ThresholdProcessorConfig | ModelProcessorConfig, Field(discriminator="kind")]


def _output_name(p: RmsProcessorConfig | ThresholdProcessorConfig | ModelProcessorConfig) -> str:
    if p.kind == "model":
        return p.name or f"{Path(p.path).stem.replace('.', '_')}_pred"
    return p.name or f"{p.input}_{'rms' if p.kind == 'rms' else 'events'}"


class RigConfig(BaseModel):
    """A validated rig: lists of devices per kind."""

    model_config = ConfigDict(extra="forbid")
    name: str = "rig"

    @field_validator("name")
    @classmethod
    def _usable_in_a_file_name(cls, v: str) -> str:
        problem = file_name_problem(v)  # `record` without -o writes <name>-<date>.h5
        if problem:
            raise ValueError(problem)
        return v
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


def _allowed_range(loc: tuple) -> str:
    """"from 1 to 64" for the field at ``loc`` (e.g. ``("audio", 0, "channels")``), "" if unbounded."""
    model: type[BaseModel] = RigConfig
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return ""  # e.g. a processor kind tag in the path: keep pydantic's own wording
        inner = typing.get_args(info.annotation)
        if inner and isinstance(inner[0], type) and issubclass(inner[0], BaseModel):
            model = inner[0]  # list[CameraConfig] and the like
    limits: dict[str, float] = {}
    for m in info.metadata if info is not None else ():
        limits.update({k: getattr(m, k) for k in ("ge", "gt", "le", "lt") if getattr(m, k, None) is not None})
    if "ge" in limits and "le" in limits:
        return f"from {limits['ge']:g} to {limits['le']:g}"
    low = f"at least {limits['ge']:g}" if "ge" in limits else f"above {limits['gt']:g}" if "gt" in limits else ""
    high = f"at most {limits['le']:g}" if "le" in limits else f"below {limits['lt']:g}" if "lt" in limits else ""
    return " and ".join(p for p in (low, high) if p)


def _format_error(source: str, err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ""
    for part in first["loc"]:
        loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
    msg = first["msg"].replace("Input should be", "must be").removeprefix("Value error, ")
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
        allowed = _allowed_range(first["loc"])  # both ends, not just the one crossed
        msg = f"{'must be ' + allowed if allowed else msg}, got {first.get('input')!r}"
    elif kind == "finite_number":
        msg = f"must be a finite number, got {first.get('input')!r}"
    return f"{source}: {loc or '(top level)'}: {msg}"


def parse_rig(text: str, source: str = "rig") -> RigConfig:
    """Parse and validate rig TOML text; raises `RigError` with one clear line."""
    if len(text) > MAX_RIG_BYTES:
        raise RigError(f"{source}: {len(text)} characters is far too large for a rig file (at most {MAX_RIG_BYTES}); is it the right file?")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RigError(f"{source}: not valid TOML ({e}); check quotes and brackets") from None
    except RecursionError:  # tomllib recurses per nesting level; fails within milliseconds
        raise RigError(f"{source}: arrays or tables nested too deeply to be a rig file; check the brackets") from None
    try:
        rig = RigConfig.model_validate(data)
    except ValidationError as e:
        raise RigError(_format_error(source, e)) from None
    except RecursionError:  # nesting tomllib survived but validation did not
        raise RigError(f"{source}: values nested too deeply to be a rig file; check the brackets") from None
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
        if path.is_dir():
            raise RigError(f"{path}: is a folder, not a rig file; give the .toml file inside it")
        with path.open("rb") as f:
            raw = f.read(MAX_RIG_BYTES + 1)  # never read a huge file (or /dev/zero) whole
    except FileNotFoundError:
        raise RigError(f"{path}: no such rig file; create one (see docs/RIG.md) or use --demo") from None
    except OSError as e:
        raise RigError(f"{path}: cannot read the rig file ({e.strerror or e})") from None
    if len(raw) > MAX_RIG_BYTES:
        raise RigError(f"{path}: far too large for a rig file (over {MAX_RIG_BYTES} bytes); is it the right file?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise RigError(f"{path}: not UTF-8 text (line {line}, byte 0x{raw[e.start]:02x}); save it as UTF-8 (TOML files must be)") from None
    rig = parse_rig(text, source=path.name)
    for p in rig.processor:  # model files are found beside the rig file, wherever it is run from
        if p.kind == "model" and p.path != "demo" and not Path(p.path).is_absolute():
            p.path = str(path.parent / p.path)
    return rig


def save_rig(rig: RigConfig, path: str | Path) -> None:
    Path(path).write_text(rig.to_toml())
