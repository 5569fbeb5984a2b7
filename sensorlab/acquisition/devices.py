"""List the devices this machine has, kind by kind (``sensorlab devices``, the device dialog).

Every registered device kind (`sensorlab.acquisition.kinds`) lists its own devices. Listing
never hangs and never raises: the kinds are listed in parallel, each within `LIST_TIMEOUT`,
and a kind that fails (a missing PortAudio, a broken plugin) becomes one line in
``problems`` while the others are still listed.

Examples
--------
>>> found = list_devices()                          # doctest: +SKIP
>>> [f.line for f in found.of("camera")], found.problems
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sensorlab.acquisition.kinds import DeviceConfig, DeviceKind, Found, device_kinds, kind_of
from sensorlab.acquisition.kinds import problems as kind_problems
from sensorlab.acquisition.kinds.audio import AudioDevice, list_audio_inputs  # noqa: F401  (listers, as before)
from sensorlab.acquisition.kinds.camera import CameraDevice, list_cameras  # noqa: F401
from sensorlab.acquisition.kinds.serial import SerialPortInfo, list_serial_ports  # noqa: F401
from sensorlab.acquisition.source import SourceError

#: Seconds one kind may take to list its devices (the camera lister alone may take 4 × 2 s).
LIST_TIMEOUT = 15.0


@dataclass
class Devices:
    kinds: tuple[DeviceKind, ...] = ()
    found: dict[str, list[Found]] = field(default_factory=dict)  # by rig table
    problems: list[str] = field(default_factory=list)  # one line each, naming the fix

    def of(self, table: str) -> list[Found]:
        return self.found.get(table, [])

    # The built-in kinds' own records, as before kinds were plugins.
    @property
    def cameras(self) -> list[CameraDevice]:
        return [f.info for f in self.of("camera")]

    @property
    def audio(self) -> list[AudioDevice]:
        return [f.info for f in self.of("audio")]

    @property
    def serial(self) -> list[SerialPortInfo]:
        return [f.info for f in self.of("serial")]

    def describe(self) -> list[str]:
        """Lines for ``sensorlab devices``, with the rig-file value to use for each device."""
        lines = [line for k in self.kinds for line in k.listing_lines(self.of(k.table))]
        if self.problems:
            lines.append("Notes:")
            lines += [f"  {p}" for p in self.problems]
        return lines


def list_devices(timeout: float = LIST_TIMEOUT, rig: list[DeviceConfig] | None = None) -> Devices:
    """Every kind's devices; a lister that fails or does not finish adds a line to ``problems``.

    ``rig``: the devices of the rig being set up (None: no rig), so a kind's hints fit it
    (no "no camera found at index 0-3" for a rig whose camera is a stream URL or a file).
    """
    kinds = device_kinds()
    out = Devices(kinds=kinds)
    results: dict[str, list[Found] | str] = {}

    def run(kind: DeviceKind) -> None:
        try:
            results[kind.table] = list(kind.list_devices())
        except SourceError as e:
            results[kind.table] = str(e)
        except Exception as e:  # a broken driver or plugin must not hide the other devices
            results[kind.table] = f"listing {kind.title.lower()} failed: {type(e).__name__}: {e}"

    # In parallel, each in a daemon thread: a wedged driver cannot hold up the others or the caller.
    threads = [threading.Thread(target=run, args=(k,), daemon=True, name=f"list-{k.table}") for k in kinds]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    for kind in kinds:
        result = results.get(kind.table, f"listing {kind.title.lower()} did not finish within {timeout:g} s; is a driver stuck?")
        if isinstance(result, str):
            out.problems.append(result)
            result = []
        out.found[kind.table] = result
        mine = None if rig is None else [c for c in rig if kind_of(c).table == kind.table]
        out.problems += kind.notes(result, mine)
    out.problems += kind_problems().values()
    return out
