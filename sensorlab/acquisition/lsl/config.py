"""Rig tables for the LSL bridge: ``[[lsl]]`` (a stream to record) and ``[[lsl_outlet]]``.

``[[lsl]]`` is a device kind like the others (`sensorlab.acquisition.kinds.lsl` registers
this config, the builder and the lister); ``[[lsl_outlet]]`` is a rig table of its own, like
``[[processor]]``. No pylsl import here: reading a rig stays cheap.

Example::

    [[lsl]]
    name = "eeg"                # the sensorlab stream name (HDF5 group)
    type = "EEG"                # find the LSL stream by type …
    # lsl_name = "BioSemi"      # … and/or by its LSL name (default: `name`, when no type/source_id)
    # source_id = "biosemi-1234"
    timeout = 5                 # seconds to wait for it to appear

    [[lsl_outlet]]
    stream = "imu"              # a stream of this rig, or "labels" for the live labels
    # name = "sensorlab-imu"    # LSL stream name (default: sensorlab-<stream>)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sensorlab.acquisition.kinds.base import DeviceConfig
from sensorlab.acquisition.lsl.runtime import CLOCK_INTERVAL
from sensorlab.acquisition.names import LIVE_LABELS_STREAM, stream_name_problem



class LslConfig(DeviceConfig):
    """An LSL stream to record, found by LSL name, type and/or source_id."""

    name: str = "lsl"
    lsl_name: str | None = Field(default=None, min_length=1)
    type: str | None = Field(default=None, min_length=1)
    source_id: str | None = Field(default=None, min_length=1)
    timeout: float = Field(default=5.0, gt=0, le=600)
    clock_interval: float = Field(default=CLOCK_INTERVAL, ge=0.5, le=600)

    @field_validator("lsl_name", "type", "source_id")
    @classmethod
    def _no_quotes(cls, v: str | None) -> str | None:
        # They go into an XPath predicate: a quote would end the string early.
        if v is not None and ("'" in v or "\x00" in v):
            raise ValueError(f"{v!r} contains a single quote or NUL, which LSL queries cannot hold")
        return v

    def query(self) -> dict[str, str]:
        """The LSL properties to match: lsl_name/type/source_id, else the name itself."""
        props = {"name": self.lsl_name, "type": self.type, "source_id": self.source_id}
        props = {k: v for k, v in props.items() if v is not None}
        return props or {"name": self.name}

    def predicate(self) -> str:
        """The XPath 1.0 predicate `pylsl.resolve_bypred` takes."""
        return " and ".join(f"{k}='{v}'" for k, v in self.query().items())


class LslOutletConfig(BaseModel):
    """Publish one stream of the rig (or the live labels) as an LSL outlet."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    stream: str = Field(min_length=1)
    name: str | None = Field(default=None, min_length=1)  # LSL name; default sensorlab-<stream>
    type: str | None = Field(default=None, min_length=1)  # LSL type; default from the stream kind
    source_id: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _stream_name(self) -> LslOutletConfig:
        if self.stream != LIVE_LABELS_STREAM:
            problem = stream_name_problem(self.stream)
            if problem:
                raise ValueError(f"stream {problem}")
        return self


def build_lsl_source(config: LslConfig):
    """The (unopened) source a ``[[lsl]]`` entry describes."""
    from sensorlab.acquisition.lsl.inlet import LslSource

    return LslSource(config.query(), name=config.name, timeout=config.timeout, clock_interval=config.clock_interval)


def build_lsl_outlet(config: LslOutletConfig):
    """The (unopened) outlet node an ``[[lsl_outlet]]`` entry describes."""
    from sensorlab.acquisition.lsl.outlet import LslOutlet

    return LslOutlet(config.stream, lsl_name=config.name, lsl_type=config.type, source_id=config.source_id)


def add_outlets(rig, streams: list[str]) -> list:
    """Outlets for ``streams`` (``--lsl-outlet``), also added to ``rig`` so the session's rig lists them.

    Raises ``ValueError`` naming a stream that cannot be published."""
    from pydantic import ValidationError

    out = []
    for stream in streams:
        try:
            config = LslOutletConfig(stream=stream)
        except ValidationError as e:
            raise ValueError(f"{stream!r}: {e.errors()[0]['msg'].removeprefix('Value error, ')}") from None
        rig.lsl_outlet.append(config)
        out.append(build_lsl_outlet(config))
    return out
