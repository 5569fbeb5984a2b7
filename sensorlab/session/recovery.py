"""Open session files that a crashed or still-running writer left flagged as open.

A SWMR file whose writer was SIGKILLed opens directly with ``swmr=True``. A file that was
not (yet) in SWMR mode when the writer died stays flagged "open for write" and HDF5 refuses
it; ``h5clear -s`` (hdf5-tools) clears that flag. We never modify the original: recovery
works on a copy, ``<name>.recovered.h5`` next to it (or in the temp dir if that folder is
read-only), and the reader says so.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

import h5py

from sensorlab.session.format import CHUNK_CACHE_BYTES

log = logging.getLogger(__name__)


class SessionFileError(OSError):
    """A session file cannot be opened; the message says what to try."""


def open_h5(path: str | Path, recover: bool = True) -> tuple[h5py.File, Path | None]:
    """Open ``path`` for reading; returns ``(file, recovered_copy_or_None)``.

    Tries, in order: SWMR read (a file being written, or a SWMR file whose writer crashed),
    a plain read (files written by other tools), then — with ``recover`` — `recover_copy`.

    Raises
    ------
    SessionFileError
        None of that worked; the message names the likely cause.
    FileNotFoundError
        No such file.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    errors = []
    for kwargs in ({"swmr": True, "libver": "latest"}, {}):
        try:
            return h5py.File(path, "r", rdcc_nbytes=CHUNK_CACHE_BYTES, **kwargs), None
        except OSError as e:
            errors.append(str(e))
    if not recover:
        raise SessionFileError(f"{path}: cannot open ({errors[-1]}); if its recorder crashed, run `h5clear -s` on a copy")
    copy = recover_copy(path)
    try:
        return h5py.File(copy, "r"), copy
    except OSError as e:
        raise SessionFileError(f"{path}: damaged beyond automatic recovery ({e}); the copy {copy} was cleared with h5clear -s but still does not open") from e


def recover_copy(path: str | Path, out: str | Path | None = None) -> Path:
    """Copy ``path`` and clear the copy's "open for write" flag with ``h5clear -s``.

    Returns
    -------
    Path
        The recovered copy (``out``, else ``<stem>.recovered.h5`` beside the original or in
        the temp dir).
    """
    path = Path(path)
    if out is None:
        out = path.with_name(f"{path.stem}.recovered{path.suffix}")
        try:
            out.touch()
        except OSError:
            out = Path(tempfile.gettempdir()) / out.name
    out = Path(out)
    exe = shutil.which("h5clear")
    if exe is None:
        raise SessionFileError(f"{path} is flagged as still open by a writer that crashed; install hdf5-tools (h5clear) to recover it")
    shutil.copyfile(path, out)
    res = subprocess.run([exe, "-s", str(out)], capture_output=True, text=True)
    if res.returncode != 0:
        raise SessionFileError(f"{path}: h5clear -s failed on the copy {out}: {res.stderr.strip() or res.stdout.strip()}")
    log.warning("%s was left open by a crashed writer; reading the recovered copy %s", path, out)
    return out
