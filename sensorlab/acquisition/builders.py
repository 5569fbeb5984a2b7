"""Turn a validated rig entry (`sensorlab.acquisition.rig`) into an unopened source.

Each device kind builds its own sources (`DeviceKind.build`, in `acquisition/kinds/`); this
module only finds the kind. The emulated helpers are re-exported for existing callers.
"""

from __future__ import annotations

from sensorlab.acquisition.kinds import DeviceConfig, kind_of
from sensorlab.acquisition.kinds.emulated import EMULATED_NAMES, build_emulated, eeg_stream  # noqa: F401
from sensorlab.acquisition.source import Source


def build_source(config: DeviceConfig) -> Source:
    """Create the source a rig entry describes (not opened), through its device kind."""
    return kind_of(config).build(config)
