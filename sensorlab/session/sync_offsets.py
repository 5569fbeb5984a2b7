"""Per-stream time offsets of a session, kept in a sidecar (``run1.sync.json``), undoable.

A clap-to-sync calibration (`sensorlab.session.calibration`) measures how late each stream's
timestamps read compared to a reference stream. Applying it must never rewrite the recording:
HDF5 is not journaled, and a crash while rewriting timestamps in place could destroy the file.
So the offsets live beside it, like the labels sidecar, written atomically (temporary file,
fsync, rename; the previous version kept as ``.bak``), and `sensorlab.session.reader.Session`
applies them when reading: ``corrected = raw - offset``. The raw timestamps in the file never
change, ``Session.open(path, raw_times=True)`` reads them, and `undo` restores the previous
offsets (the sidecar keeps every earlier state).

Sidecar layout (version 1)::

    {"format": "sensorlab.sync", "version": 1,
     "offsets": {"cam": 0.0371, "imu": -0.0119},   # seconds; a stream not listed: 0
     "reference": "mic", "method": "clap onsets (5 events)", "applied_at": "2025-…",
     "details": {...},                               # what the estimate said (informative)
     "history": [ {earlier state without "history"}, … ]}
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime
from pathlib import Path
from typing import Any

FORMAT = "sensorlab.sync"
VERSION = 1
SUFFIX = ".sync.json"


class SyncFileError(ValueError):
    """The sync sidecar exists but cannot be used (damaged, another program's file)."""


def sidecar_path(session: str | Path) -> Path:
    """``run1.sync.json`` beside ``run1.h5``."""
    p = Path(session)
    return p.with_name(p.stem + SUFFIX)


def read_state(session: str | Path) -> dict[str, Any]:
    """The sidecar's content, or an empty state (no offsets) when there is none.

    Raises
    ------
    SyncFileError
        The sidecar is not valid JSON of this format; the message names the file and the fix.
    """
    path = sidecar_path(session)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"format": FORMAT, "version": VERSION, "offsets": {}, "history": []}
    try:
        state = json.loads(text)
        if state.get("format") != FORMAT:
            raise ValueError(f"format is {state.get('format')!r}")
        offsets = {str(k): float(v) for k, v in state.get("offsets", {}).items()}
        if not all(math.isfinite(v) for v in offsets.values()):
            raise ValueError("an offset is not a finite number")
    except (ValueError, AttributeError, TypeError) as e:
        raise SyncFileError(f"{path}: not a usable sync offsets file ({e}); delete it (or restore {path.name}.bak) to read raw times") from e
    state["offsets"] = offsets
    state.setdefault("history", [])
    return state


def load_offsets(session: str | Path) -> dict[str, float]:
    """Offsets (s) to subtract from each stream's timestamps; ``{}`` without a sidecar."""
    return dict(read_state(session)["offsets"])


def apply(session: str | Path, offsets: dict[str, float], reference: str = "", method: str = "", details: dict | None = None) -> Path:
    """Store ``offsets`` as the session's correction, keeping the current one for `undo`.

    Offsets replace the current ones (they are measured on raw times, not on corrected ones).
    Returns the sidecar path.
    """
    state = read_state(session)
    history = state.pop("history", [])
    if state.get("offsets") or history:
        history.append(state)
    new = {
        "format": FORMAT,
        "version": VERSION,
        "offsets": {str(k): float(v) for k, v in offsets.items()},
        "reference": reference,
        "method": method,
        "applied_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "details": details or {},
        "history": history,
    }
    return _write(sidecar_path(session), new)


def undo(session: str | Path) -> dict[str, float] | None:
    """Go back to the offsets before the last `apply`; returns them (``{}``: raw times), or
    None when there was nothing to undo. The sidecar is removed once no state is left."""
    path = sidecar_path(session)
    state = read_state(session)
    history = state.get("history", [])
    if not path.exists():
        return None
    if not history:
        _backup(path)
        path.unlink()
        return {}
    prev = history.pop()
    prev["history"] = history
    _write(path, prev)
    return dict(prev.get("offsets", {}))


def _backup(path: Path) -> None:
    if path.exists():
        bak = path.with_name(path.name + ".bak")
        bak.write_bytes(path.read_bytes())


def _write(path: Path, state: dict[str, Any]) -> Path:
    """Atomic replace: a crash leaves either the old or the new sidecar, never half of one."""
    _backup(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=1)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path
