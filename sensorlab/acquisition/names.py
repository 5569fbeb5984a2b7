"""Rules for names that end up in file paths and HDF5 group names.

A rig's ``name`` becomes part of a file name (``sensorlab record`` without ``-o`` writes
``<name>-<date>.h5``), and every stream name becomes an HDF5 group under ``/streams``. Both
come from files a user may have downloaded, and stream names also from a device's own
self-description, so neither may reach outside where it belongs:

- a stream name is not empty, not ``.`` or ``..``, has no ``/``, NUL or other control
  characters, and is not a name the session reserves (``labels``, the live-labels stream
  every recording has: a device called ``labels`` would replace it);
- a name used in a file name has no path separators, drive colons or control characters
  and is not ``.``/``..``; `safe_file_stem` turns any text into such a name.
"""

from __future__ import annotations

import re

#: The EVENTS stream every session has for live labels (``sensorlab.session.recorder.LABELS``;
#: defined here too because acquisition may not import the session layer).
LIVE_LABELS_STREAM = "labels"
#: Stream names a device may not use.
RESERVED_STREAM_NAMES = frozenset({LIVE_LABELS_STREAM})
#: Longer names are refused: they only come from mistakes or hostile input, and they break tables.
MAX_NAME_LENGTH = 100

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def stream_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a stream name, or None if it can.

    Examples
    --------
    >>> stream_name_problem("imu") is None
    True
    >>> stream_name_problem("labels")
    "'labels' is reserved for the session's live labels: choose another name"
    """
    if not isinstance(name, str) or not name:
        return "must be a non-empty text"
    if len(name) > MAX_NAME_LENGTH:
        return f"is {len(name)} characters long; use at most {MAX_NAME_LENGTH}"
    if name in (".", ".."):
        return f"{name!r} is not a usable name: use letters, digits, '-' or '_'"
    if "/" in name:
        return f"{name!r} contains '/': use letters, digits, '-' or '_'"
    if _CONTROL.search(name):
        return f"{name!r} contains a NUL or control character: use letters, digits, '-' or '_'"
    if name in RESERVED_STREAM_NAMES:
        return f"{name!r} is reserved for the session's live labels: choose another name"
    return None


def check_stream_name(name: str) -> str:
    """Return ``name`` if it is a valid stream name, else raise ValueError saying why."""
    problem = stream_name_problem(name)
    if problem:
        raise ValueError(problem)
    return name


def file_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be used inside a file name, or None if it can.

    Examples
    --------
    >>> file_name_problem("../../x/evil")
    "'../../x/evil' contains a path separator: use letters, digits, '-' or '_'"
    """
    if not isinstance(name, str) or not name.strip():
        return "must be a non-empty text"
    if len(name) > MAX_NAME_LENGTH:
        return f"is {len(name)} characters long; use at most {MAX_NAME_LENGTH}"
    if "/" in name or "\\" in name:
        return f"{name!r} contains a path separator: use letters, digits, '-' or '_'"
    if ":" in name:  # "C:x" is a drive-relative path on Windows
        return f"{name!r} contains ':': use letters, digits, '-' or '_'"
    if _CONTROL.search(name):
        return f"{name!r} contains a NUL or control character: use letters, digits, '-' or '_'"
    if name.strip() in (".", ".."):
        return f"{name!r} is not a usable name: use letters, digits, '-' or '_'"
    return None


def safe_file_stem(name: str, default: str = "session") -> str:
    """A version of ``name`` safe inside a file name in the current folder.

    Letters (any script), digits, ``-``, ``_`` and ``.`` are kept; everything else (``/``,
    ``\\``, ``:``, spaces, control characters) becomes ``-``; leading dots and dashes are
    dropped so the result is neither hidden nor ``..``, nor mistaken for an option.

    Examples
    --------
    >>> safe_file_stem("../../x/evil")
    'x-evil'
    >>> safe_file_stem("/etc/cron.d/job")
    'etc-cron.d-job'
    >>> safe_file_stem("Küche 2")
    'Küche-2'
    >>> safe_file_stem("..")
    'session'
    """
    stem = re.sub(r"[^\w.-]+", "-", name, flags=re.UNICODE).strip("-.")
    return stem[:MAX_NAME_LENGTH] or default


__all__ = [
    "LIVE_LABELS_STREAM",
    "MAX_NAME_LENGTH",
    "RESERVED_STREAM_NAMES",
    "check_stream_name",
    "file_name_problem",
    "safe_file_stem",
    "stream_name_problem",
]


def prediction_stream_name(model_path: str) -> str:
    """The default name of a model's predictions stream: ``<model file stem>_pred``.

    A sensorlab export is always called ``model…`` (``model.onnx``, ``model.int8.onnx``,
    ``model_int8.tflite``) inside its run folder, so every run's model came out as
    ``model_pred`` and two runs, or two builds of one run, could not be told apart in the
    live view; those are named after the run folder and the build instead.

    Examples
    --------
    >>> prediction_stream_name("motion.onnx")
    'motion_pred'
    >>> prediction_stream_name("runs/kws-audio/model.onnx")
    'kws-audio_pred'
    >>> prediction_stream_name("runs/kws-audio/model.int8.onnx")
    'kws-audio_int8_pred'
    """
    from pathlib import PurePath

    path = PurePath(model_path)
    stem = path.stem.replace(".", "_")
    run = path.parent.name
    if re.fullmatch(r"model(_.*)?", stem) and run not in ("", ".", ".."):
        stem = run + stem[len("model"):]
    return f"{stem}_pred"
