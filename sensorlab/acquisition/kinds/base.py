"""What a device kind declares: its rig table, how to list and probe devices, how to build one.

A device kind is one module that defines a `DeviceConfig` subclass (the schema of its rig
table, with pydantic validators) and one `DeviceKind` instance. The rig loader, the device
dialog and ``sensorlab devices`` know nothing else about it: they find it in the registry
(`sensorlab.acquisition.kinds.registry`), which reads the ``sensorlab.device_kinds`` entry
points, so another package can add a kind without editing sensorlab (docs/ARCHITECTURE.md,
"How to add a device kind").

Everything here is Qt-free: the dialog turns `EditorField`s into widgets itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sensorlab.acquisition.names import stream_name_problem
from sensorlab.acquisition.source import Source, StreamInfo


class DeviceConfig(BaseModel):
    """One rig table entry (``[[camera]]`` …): the settings of one device.

    Subclasses redeclare ``name`` with their kind's default and add their own settings with
    ranges (``Field(ge=…, le=…)``): the rig loader turns a value out of range into
    ``rig.toml: camera[0].fps: must be from … to …, got …`` using those bounds.
    """

    # allow_inf_nan=False: `rate = inf` or `nan` is a mistake to report, not a number to use.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    #: True for a device that names its streams itself (an empty ``name`` is then allowed).
    allow_empty_name: ClassVar[bool] = False
    name: str = Field(min_length=1, pattern=r"^[^/]+$")

    # Subclasses redeclare `name` with their own default, which drops the Field constraints
    # above; this validator applies to all of them. The name becomes an HDF5 group.
    @field_validator("name", check_fields=False)
    @classmethod
    def _usable_stream_name(cls, v: str) -> str:
        if v == "" and cls.allow_empty_name:
            return v
        problem = stream_name_problem(v)
        if problem:
            raise ValueError(problem)
        return v


@dataclass(frozen=True)
class Found:
    """A device this machine has, as ``sensorlab devices`` and the device dialog show it."""

    line: str  # `sensorlab devices`: "0: 640x480 @ 30 fps"
    label: str  # the dialog's list of available devices: "camera 0: 640×480 @ 30 fps"
    config: DeviceConfig  # the rig entry that records it (added by the dialog)
    info: Any = None  # the kind's own record of the device (e.g. a `CameraDevice`)


def show_value(value: Any) -> str:
    """A setting as the editor shows it: nothing for None, ``30`` for 30.0."""
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def optional_float(text: str) -> float | None:
    return float(text) if text else None


def optional_int(text: str) -> int | None:
    return int(text) if text else None


def index_or_text(text: str) -> int | str:
    """A device given as an index (``0``) or a path / URL / name."""
    return int(text) if text.isdigit() else text


@dataclass(frozen=True)
class EditorField:
    """One setting the device dialog lets the user edit (after ``name``).

    A field with ``choices`` becomes a drop-down (``editable``: the user may also type a value),
    any other a text box. ``parse`` turns the text into the value validated by the config.
    """

    key: str
    parse: Callable[[str], Any] = str
    choices: Sequence[str] = ()
    editable: bool = False
    show: Callable[[Any], str] = show_value


@dataclass(frozen=True)
class TextEntry:
    """The dialog's "Add as <table>" button, for a device typed in rather than listed."""

    example: str  # placeholder text, e.g. "/dev/ttyACM0, socket://host:port"
    rank: int = 0  # position of the button among the kinds that have one


class DeviceKind:
    """A kind of device: subclass it, set the class attributes, implement `build`.

    Attributes
    ----------
    table
        The rig table (``thermo`` → ``[[thermo]]``); also the entry point's name.
    config
        The `DeviceConfig` subclass a table entry is validated into.
    title
        Heading in ``sensorlab devices`` and the dialog ("Cameras").
    hint
        How a listed device goes into a rig, shown in ``sensorlab devices``
        (``[[camera]] device = INDEX``).
    """

    table: ClassVar[str]
    config: ClassVar[type[DeviceConfig]]
    title: ClassVar[str]
    hint: ClassVar[str] = ""
    #: Position among the kinds (sensorlab's own: 10–40); ties go by table name.
    order: ClassVar[int] = 100
    #: False when `list_devices` is instant and touches no hardware (shown before a scan ends).
    scanned: ClassVar[bool] = True
    #: `sensorlab devices` line when nothing was found.
    none_found: ClassVar[str] = "(none)"
    #: Editable settings in the dialog, after the name.
    editor: ClassVar[tuple[EditorField, ...]] = ()
    #: Set to offer "Add as <table>" for a typed-in port, URL or file (see `from_text`).
    text_entry: ClassVar[TextEntry | None] = None

    # -- listing and probing ------------------------------------------------------------
    def list_devices(self) -> list[Found]:
        """The devices of this kind the machine has (may take seconds; never hangs).

        Raise `SourceError` with a one-line message naming the fix when listing is impossible
        (a missing driver); it is shown as a problem, and the other kinds are still listed."""
        return []

    def notes(self, found: list[Found], configs: list[DeviceConfig] | None = None) -> list[str]:
        """Hints to show after listing, e.g. that no camera was found and what else works.

        ``configs``: the rig's devices of this kind (None: no rig given), so a hint that
        matters only for some devices can be left out (the camera's "none at index 0-3" is
        useless to a rig filming a URL).
        """
        return []

    def listing_lines(self, found: list[Found]) -> list[str]:
        """This kind's lines in ``sensorlab devices``."""
        head = f"{self.title} (rig: {self.hint}):" if self.hint else f"{self.title}:"
        return [head, *([f"  {f.line}" for f in found] or [f"  {self.none_found}"])]

    def probe(self, config: DeviceConfig) -> str:
        """Open the device, describe the streams it reports, close it (a worker thread)."""
        source = self.build(config)
        source.open()
        try:
            return describe_streams(source.streams) or "no streams"
        finally:
            source.close()

    # -- the rig ------------------------------------------------------------------------
    def build(self, config: DeviceConfig) -> Source:
        """The source ``config`` describes, not opened. Import drivers here, lazily: reading
        a rig must stay cheap, and a missing driver only matters when the kind is used."""
        raise NotImplementedError

    def from_text(self, text: str) -> DeviceConfig:
        """A config for a device typed into the dialog (when `text_entry` is set)."""
        raise NotImplementedError

    def named(self, config: DeviceConfig) -> DeviceConfig:
        """``config`` with the stream name it will get spelled out (for display)."""
        return config

    def fixed_name(self, config: DeviceConfig) -> str | None:
        """Set when the device names its own streams: the dialog then shows this instead of
        an editable name (which would be ignored)."""
        return None

    def describe(self, config: DeviceConfig) -> str:
        """One line for the device in the dialog's rig list."""
        return f"{self.table} · {config.name}"

    def __repr__(self) -> str:
        return f"<device kind [[{self.table}]] {type(self).__module__}>"


def describe_streams(streams: Sequence[StreamInfo]) -> str:
    """What a probe shows: each stream's kind, rate, shape, dtype and channels."""
    lines = []
    for s in streams:
        rate = f"{s.nominal_rate:g} Hz" if s.regular else "irregular rate"
        units = s.units or ("",) * len(s.channel_names)
        chans = ", ".join(n + (f" [{u}]" if u else "") for n, u in zip(s.channel_names, units))
        lines.append(f"{s.name}: {s.kind.value}, {rate}, shape {s.sample_shape}, {s.dtype}" + (f"\n    channels: {chans}" if chans else ""))
    return "\n".join(lines)
