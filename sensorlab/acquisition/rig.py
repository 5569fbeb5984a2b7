"""Rig files: which devices to record, with which settings (TOML).

The same file drives ``sensorlab record --rig RIG.toml`` and the GUI's device dialog.
A mistake in it gets one line naming the field and the fix, never a traceback::

    rig.toml: serial[0].baud: must be one of 9600 … 2000000, got 'fast'

The device tables (``[[camera]]``, ``[[audio]]`` …) are not defined here: each device kind
declares its own schema (`sensorlab.acquisition.kinds`), and `rig_model` builds the rig
schema from the kinds registered, so a kind from another package is read like the built-in
ones. ``[[processor]]`` tables are defined here.

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

import difflib
import functools
import tomllib
import typing
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator, model_validator

from sensorlab.acquisition.kinds import DeviceConfig, DeviceKind, device_kinds, kind_of
from sensorlab.acquisition.kinds import problems as kind_problems

# sensorlab's own kinds' schemas, importable from here as before the registry existed.
from sensorlab.acquisition.kinds.audio import AudioConfig  # noqa: F401
from sensorlab.acquisition.kinds.camera import CameraConfig  # noqa: F401
from sensorlab.acquisition.kinds.emulated import EEG_VALUES_PER_S, EMULATED_RATES, MAX_DRIFT_PPM, EmulatedConfig  # noqa: F401
from sensorlab.acquisition.kinds.serial import BAUD_RATES, SerialConfig  # noqa: F401
from sensorlab.acquisition.lsl.config import LslOutletConfig
from sensorlab.acquisition.names import file_name_problem, prediction_stream_name
from sensorlab.acquisition.source import Source, close_sources

#: A rig file is a few hundred bytes; anything this big is a mistake (or an attack on the parser).
MAX_RIG_BYTES = 1_000_000


class RigError(ValueError):
    """A rig file that cannot be used; the message is one line naming the field and the fix."""


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
    name: str = Field(default="", pattern=r"^[^/]*$")  # output stream; default: names.prediction_stream_name
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
        return p.name or prediction_stream_name(p.path)
    return p.name or f"{p.input}_{'rms' if p.kind == 'rms' else 'events'}"


class RigBase(BaseModel):
    """A validated rig: its name, one list per device kind (``rig.camera``, ``rig.serial`` …,
    one per kind in the registry) and the processors. `rig_model` adds the kinds' lists."""

    model_config = ConfigDict(extra="forbid")
    #: The device kinds whose tables this model has, in order.
    kinds: typing.ClassVar[tuple[DeviceKind, ...]] = ()
    name: str = "rig"

    @field_validator("name")
    @classmethod
    def _usable_in_a_file_name(cls, v: str) -> str:
        problem = file_name_problem(v)  # `record` without -o writes <name>-<date>.h5
        if problem:
            raise ValueError(problem)
        return v

    def devices(self) -> list[DeviceConfig]:
        """Every device of the rig, kind by kind."""
        return [d for k in self.kinds for d in getattr(self, k.table)]

    def build_sources(self) -> list[Source]:
        """Create (not open) one source per configured device, then one per processor.

        `Acquisition` opens the processors (listed last) after the devices."""
        from sensorlab.acquisition.lsl.config import build_lsl_outlet
        from sensorlab.acquisition.processors import build_processor

        built: list = []
        try:
            for d in self.devices():
                built.append(kind_of(d).build(d))
            for p in self.processor:
                built.append(build_processor(p))
            for o in self.lsl_outlet:  # last: they may publish a processor's output
                built.append(build_lsl_outlet(o))
        except BaseException:
            close_sources(built)  # an emulated board exists from its build on: free those made so far
            raise
        return built

    def to_toml(self, defaults: bool = False) -> str:
        """The rig as TOML with only the keys that differ from their defaults (a rig file).

        Defaults written out would pin today's defaults into the file: rigs saved with every
        key kept ``dtype = "float32"`` for each serial entry after text streams became float64
        (~7 significant digits instead of 15). ``defaults``: every setting, as a session stores
        the rig it was recorded with (what was used, whatever the defaults become)."""
        import tomli_w

        data = self.model_dump(exclude_none=True, exclude_defaults=not defaults)
        return tomli_w.dumps({k: v for k, v in data.items() if v != []})

    def notes(self) -> list[str]:
        """Settings that are valid but probably not what was meant, each with how to change it."""
        out = []
        for i, d in enumerate(getattr(self, "serial", [])):
            if getattr(d, "protocol", "") == "text" and getattr(d, "dtype", None) == "float32":
                out.append(f"serial[{i}] ({d.name or d.port}): dtype = \"float32\" keeps ~7 significant digits (a GPS 473977418 "
                           "is stored as 473977408); remove the dtype line (text streams are float64 by default, "
                           "15 digits) or write dtype = \"float64\" to keep every digit the board prints")  # fmt: skip
        return out


def rig_model() -> type[RigBase]:
    """The rig schema for the device kinds registered now (`sensorlab.acquisition.kinds`)."""
    return _model_for(device_kinds())


@functools.lru_cache(maxsize=8)
def _model_for(kinds: tuple[DeviceKind, ...]) -> type[RigBase]:
    fields: dict[str, typing.Any] = {k.table: (list[k.config], []) for k in kinds}
    model = create_model("RigConfig", __base__=RigBase, __module__=__name__, **fields, processor=(list[ProcessorConfig], []),
                         lsl_outlet=(list[LslOutletConfig], []))  # fmt: skip
    model.kinds = kinds
    return model


def __getattr__(name: str):
    # `RigConfig` is always the schema of the kinds registered now, so `RigConfig(serial=[…])`
    # and `isinstance(rig, RigConfig)` keep working as kinds are added.
    if name == "RigConfig":
        return rig_model()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if typing.TYPE_CHECKING:
    RigConfig = RigBase


def _allowed_range(loc: tuple) -> str:
    """"from 1 to 64" for the field at ``loc`` (e.g. ``("audio", 0, "channels")``), "" if unbounded."""
    model: type[BaseModel] = rig_model()
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


def _did_you_mean(loc: tuple) -> str:
    """" (did you mean `baud`?)" for a misspelled setting or table at ``loc``, else ""."""
    model: type[BaseModel] = rig_model()
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        inner = typing.get_args(info.annotation) if info is not None else ()
        if not (inner and isinstance(inner[0], type) and issubclass(inner[0], BaseModel)):
            return ""  # e.g. a processor's kind tag in the path
        model = inner[0]
    name = str(loc[-1])
    # Other programs' names for a setting (pyserial's `baudrate`, sounddevice's `samplerate`):
    # spelling alone would suggest `rate` for `baudrate`.
    alias = {"baudrate": "baud", "baud_rate": "baud", "samplerate": "rate", "sample_rate": "rate", "port_name": "port"}
    close = [alias[name]] if alias.get(name) in model.model_fields else difflib.get_close_matches(name, list(model.model_fields), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _format_error(source: str, err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ""
    for part in first["loc"]:
        loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
    msg = first["msg"].replace("Input should be", "must be").removeprefix("Value error, ")
    kind = first["type"]
    example = {"rate": "48000", "baud": "921600", "fps": "30", "width": "640", "height": "480", "channels": "2"}
    if kind == "extra_forbidden" and len(first["loc"]) == 1 and loc in kind_problems():
        msg = kind_problems()[loc]  # a plugin's table whose package failed to load
    elif kind == "extra_forbidden":
        msg = f"unknown setting{_did_you_mean(first['loc'])}: remove it or check its spelling (see docs/RIG.md)"
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


def parse_rig(text: str, source: str = "rig") -> RigBase:
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
        rig = rig_model().model_validate(data)
    except ValidationError as e:
        raise RigError(_format_error(source, e)) from None
    except RecursionError:  # nesting tomllib survived but validation did not
        raise RigError(f"{source}: values nested too deeply to be a rig file; check the brackets") from None
    devices = rig.devices()
    if not devices:
        tables = [f"[[{k.table}]]" for k in rig.kinds]
        which = ", ".join(tables[:-1]) + f" or {tables[-1]}" if len(tables) > 1 else "".join(tables) or "a device"
        raise RigError(f"{source}: the rig names no devices; add a {which} table (see docs/RIG.md)")
    names = [d.name for d in devices if d.name] + [_output_name(p) for p in rig.processor]
    names += [f"{d.name}_lsl_clock" for d in getattr(rig, "lsl", [])]  # each LSL source's clock-offset stream
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RigError(f"{source}: device name {dupes[0]!r} is used twice: give each device (and processor) a unique name")
    return rig


def load_rig(path: str | Path) -> RigBase:
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


def save_rig(rig: RigBase, path: str | Path) -> None:
    Path(path).write_text(rig.to_toml())
