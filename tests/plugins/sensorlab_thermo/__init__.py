"""A third-party device kind, as another package would ship it: a bench thermometer.

Not imported by the test suite directly: the ``thermo_plugin`` fixture (tests/conftest.py)
copies this folder into a temporary directory next to a ``sensorlab_thermo-0.1.dist-info``
whose ``entry_points.txt`` names ``KIND`` in the ``sensorlab.device_kinds`` group, exactly
what ``pip install`` leaves behind. sensorlab must find it there, with no edit of its own.
"""

from __future__ import annotations

import math
import re

import numpy as np
from pydantic import Field, field_validator

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.kinds import DeviceConfig, DeviceKind, EditorField, Found
from sensorlab.acquisition.polling import PollingSource
from sensorlab.acquisition.source import Chunk, SourceError, StreamInfo, StreamKind

SENSORS = ("t0", "t1")


class ThermoConfig(DeviceConfig):
    name: str = "thermo"
    sensor: str = "t0"
    rate: float = Field(default=10.0, ge=1, le=100)

    @field_validator("sensor")
    @classmethod
    def _known_sensor(cls, v: str) -> str:
        if not re.fullmatch(r"t[0-9]", v):
            raise ValueError(f"must be a sensor id like t0 or t1 (see `sensorlab devices`), got {v!r}")
        return v


class ThermoSource(PollingSource):
    """One temperature per sample, 21.5 °C plus a slow wobble, at ``config.rate``."""

    def __init__(self, config: ThermoConfig):
        super().__init__(f"bench thermometer {config.sensor}")
        self.config = config
        self._next = 0.0

    def _open(self) -> None:
        if self.config.sensor not in SENSORS:
            raise SourceError(f"thermometer {self.config.sensor} is not connected; use one of {', '.join(SENSORS)}")
        self.streams = (StreamInfo(self.config.name, StreamKind.TIMESERIES, self.config.rate, ("temperature",), ("degC",),
                                   "float32", (1,), self.description),)  # fmt: skip

    def read_once(self) -> None:
        if not self._next:
            self._next = now()
        if not self._sleep_until(self._next):
            return
        t = self._next
        self._next += 1.0 / self.config.rate
        value = np.array([[21.5 + 0.1 * math.sin(t)]], np.float32)
        self._emit(self.config.name, Chunk(value, np.array([t])), now())


class ThermoKind(DeviceKind):
    table = "thermo"
    config = ThermoConfig
    title = "Thermometers"
    hint = "[[thermo]] sensor = ID"
    editor = (EditorField("sensor", choices=SENSORS), EditorField("rate", float))

    def list_devices(self) -> list[Found]:
        return [Found(f"{s}: bench thermometer", f"bench thermometer {s}", ThermoConfig(name=f"thermo_{s}", sensor=s)) for s in SENSORS]

    def build(self, config: ThermoConfig) -> ThermoSource:
        return ThermoSource(config)

    def describe(self, config: ThermoConfig) -> str:
        return f"thermo · {config.name} · {config.sensor} @ {config.rate:g} Hz"


KIND = ThermoKind()
