"""The registry of device kinds, read from the ``sensorlab.device_kinds`` entry points.

An entry point's name is the rig table and its value a `DeviceKind` (an instance, or a class
to instantiate)::

    [project.entry-points."sensorlab.device_kinds"]
    thermo = "sensorlab_thermo:KIND"

sensorlab declares its own kinds the same way (pyproject.toml). They are also listed in
`BUILTIN_KINDS`, which is used for any of them whose entry point is missing: running from
a source checkout, or an install whose metadata predates a kind. A test keeps the two lists
equal.

A kind that fails to load never stops sensorlab: it is left out, and `problems` says why
(``sensorlab devices`` and the device dialog show it; a rig using its table gets that reason).
"""

from __future__ import annotations

import importlib
import re
import threading
from importlib.metadata import entry_points

from sensorlab.acquisition.kinds.base import DeviceConfig, DeviceKind

GROUP = "sensorlab.device_kinds"
BUILTIN_KINDS = {
    "camera": "sensorlab.acquisition.kinds.camera:KIND",
    "audio": "sensorlab.acquisition.kinds.audio:KIND",
    "serial": "sensorlab.acquisition.kinds.serial:KIND",
    "emulated": "sensorlab.acquisition.kinds.emulated:KIND",
    "lsl": "sensorlab.acquisition.kinds.lsl:KIND",
}
#: Top-level rig keys that are not device tables.
RESERVED = frozenset({"name", "processor", "lsl_outlet"})
_TABLE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

_lock = threading.RLock()  # re-entrant: a plugin that asks for the kinds while loading gets an error, not a hang
_kinds: tuple[DeviceKind, ...] | None = None
_problems: dict[str, str] = {}


def device_kinds() -> tuple[DeviceKind, ...]:
    """Every usable kind, in display order (cached; `refresh` re-reads the entry points)."""
    global _kinds
    with _lock:
        if _kinds is None:
            _kinds, problems = _discover()
            _problems.clear()
            _problems.update(problems)
        return _kinds


def problems() -> dict[str, str]:
    """Table name → one line saying why that kind could not be loaded."""
    device_kinds()
    return dict(_problems)


def refresh() -> None:
    """Forget the kinds found; the next call re-reads the entry points (after installing a
    package into a running process, or in tests)."""
    global _kinds
    importlib.invalidate_caches()  # new sys.path entries and dist-info folders are seen
    with _lock:
        _kinds = None


def kind_named(table: str) -> DeviceKind | None:
    return next((k for k in device_kinds() if k.table == table), None)


def kind_of(config: DeviceConfig) -> DeviceKind:
    """The kind whose config class ``config`` is."""
    for k in device_kinds():
        if type(config) is k.config:
            return k
    raise TypeError(f"{type(config).__name__} is no registered device kind's config")


def _discover() -> tuple[tuple[DeviceKind, ...], dict[str, str]]:
    found: dict[str, DeviceKind] = {}
    problems: dict[str, str] = {}
    targets: dict[str, tuple[str, str, object]] = {}
    for ep in entry_points(group=GROUP):
        dist = ep.dist.name if ep.dist else "?"
        builtin = BUILTIN_KINDS.get(ep.name)
        if builtin is not None and ep.value != builtin:
            # An entry point named like a built-in but pointing elsewhere never replaces it,
            # whichever comes first on sys.path.
            problems[f"{ep.name}@{dist}"] = (
                f"device kind [[{ep.name}]] of package {dist} is ignored: sensorlab has its own; "
                "rename that package's entry point"
            )
            continue
        if ep.name in targets and targets[ep.name][0] != ep.value:
            problems[f"{ep.name}@{dist}"] = (
                f"device kind [[{ep.name}]] is declared by both {targets[ep.name][1]} and {dist}; "
                f"uninstall one of them ({dist}'s is ignored)"
            )
            continue
        targets.setdefault(ep.name, (ep.value, dist, ep))
    for table, value in BUILTIN_KINDS.items():
        targets.setdefault(table, (value, "sensorlab", None))
    for table, (value, dist, ep) in targets.items():
        try:
            if not _TABLE.match(table) or table in RESERVED:
                raise ValueError(f"{table!r} cannot be a rig table; use lowercase letters, digits and _ (not name, processor or lsl_outlet)")
            obj = ep.load() if ep is not None else _load(value)
            kind = obj() if isinstance(obj, type) else obj
            if not isinstance(kind, DeviceKind):
                raise TypeError(f"{value} is a {type(kind).__name__}, not a DeviceKind")
            if getattr(kind, "table", None) != table:
                raise ValueError(f"its table is {getattr(kind, 'table', None)!r} but its entry point is named {table!r}")
            if not (isinstance(kind.config, type) and issubclass(kind.config, DeviceConfig)):
                raise TypeError(f"its config {kind.config!r} is not a DeviceConfig subclass")
        except Exception as e:  # a broken plugin must not take sensorlab down with it
            problems[table] = f"device kind [[{table}]] (package {dist}) could not be loaded: {type(e).__name__}: {e}; reinstall or remove that package"
            continue
        found[table] = kind
    return tuple(sorted(found.values(), key=lambda k: (k.order, k.table))), problems


def _load(value: str):
    module, _, attr = value.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj
