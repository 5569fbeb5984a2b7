"""Device kinds: one module per kind declares its rig table, listing, probing and building.

The API a kind (sensorlab's own or another package's) uses:

- `DeviceConfig`: base of a kind's rig-table schema (a pydantic model).
- `DeviceKind`: subclass it; one instance per kind, named by an entry point in the
  ``sensorlab.device_kinds`` group.
- `Found`, `EditorField`, `TextEntry`: what listing returns and what the dialog edits.

and the registry: `device_kinds`, `kind_named`, `kind_of`, `problems`, `refresh`.
"""

from sensorlab.acquisition.kinds.base import (
    DeviceConfig,
    DeviceKind,
    EditorField,
    Found,
    TextEntry,
    describe_streams,
    index_or_text,
    optional_float,
    optional_int,
    show_value,
)
from sensorlab.acquisition.kinds.registry import GROUP, device_kinds, kind_named, kind_of, problems, refresh

__all__ = [
    "GROUP",
    "DeviceConfig",
    "DeviceKind",
    "EditorField",
    "Found",
    "TextEntry",
    "describe_streams",
    "device_kinds",
    "index_or_text",
    "kind_named",
    "kind_of",
    "optional_float",
    "optional_int",
    "problems",
    "refresh",
    "show_value",
]
