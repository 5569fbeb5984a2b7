"""Processors: nodes of the stream graph that derive new streams from running ones.

See `base.ProcessorBase` for the contract and `examples` for the two that ship (moving RMS,
threshold events). `Acquisition.add_processor` runs one; a rig's ``[[processor]]`` tables
(`sensorlab.acquisition.rig`) build them with `build_processor`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sensorlab.acquisition.processors.base import Processor, ProcessorBase
from sensorlab.acquisition.processors.examples import MovingRMS, ThresholdEvents


#: Builders for processor kinds that live in higher layers (``"model"``: `sensorlab.inference`
#: registers it when imported), so the rig can name them without acquisition importing them.
_BUILDERS: dict[str, Callable[[Any], ProcessorBase]] = {}


def register_kind(kind: str, builder: Callable[[Any], ProcessorBase]) -> None:
    """Let rig files build ``[[processor]] kind = <kind>`` tables with ``builder(config)``."""
    _BUILDERS[kind] = builder


def build_processor(config: Any) -> ProcessorBase:
    """The processor a validated rig ``[[processor]]`` entry describes (not opened)."""
    if config.kind in _BUILDERS:
        return _BUILDERS[config.kind](config)
    if config.kind == "model":
        raise ValueError("processor kind 'model' needs sensorlab.inference; import it before building the rig")
    if config.kind == "rms":
        return MovingRMS(config.input, window=config.window, hop=config.hop, name=config.name)
    if config.kind == "threshold":
        return ThresholdEvents(config.input, above=config.above, below=config.below, channel=config.channel, name=config.name)
    raise ValueError(f"unknown processor kind {config.kind!r}")


__all__ = ["MovingRMS", "Processor", "ProcessorBase", "ThresholdEvents", "build_processor", "register_kind"]
