"""Open session files safely: finished, live (SWMR), crashed, flagged open, or damaged.

HDF5 itself is a poor judge of a damaged file: opened in SWMR-read mode, a truncated or
corrupted file makes it retry metadata reads (sleeping between attempts) for many minutes.
So before HDF5 sees a file we read its superblock ourselves (`inspect`):

- no HDF5 signature → `SessionError` "not an HDF5 session file" (text files, directories);
- the superblock's end-of-file address lies beyond the file's size → the file was cut off
  (interrupted copy/download, full disk): `SessionError` "truncated or damaged", at once;
- status flags clear → a plain read-only open (never SWMR, so no retry loops);
- flags "SWMR writer" → a SWMR read (a recording still running, or one whose writer was
  SIGKILLed: both open directly with the data up to the last flush);
- flags "open for write" without SWMR (the writer died outside SWMR mode) → recovery: a
  copy ``<name>.recovered.h5`` (or in the temp dir) cleared with ``h5clear -s``; the copy is
  deleted again if that fails. The original is never modified.

Only these flagged files are ever copied. Whatever HDF5 raises while opening becomes a
`SessionError` naming the file and what to try.
"""

from __future__ import annotations

import logging
import os
import shutil
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import h5py

from sensorlab.session.format import CHUNK_CACHE_BYTES

log = logging.getLogger(__name__)

#: The 8-byte HDF5 signature; it sits at offset 0, 512, 1024, 2048, … (after a user block).
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: Superblock status flags (HDF5 file format spec, superblock versions 2 and 3).
FLAG_WRITE = 0x1
FLAG_SWMR_WRITE = 0x4
#: A live writer may be between growing the file and flushing the superblock; re-check a
#: SWMR-flagged file this often before calling it truncated.
LIVE_RECHECKS = 5
LIVE_RECHECK_SECONDS = 0.1

_TRY = "try `h5clear -s` on a copy, or restore the file from a backup"


class SessionError(ValueError):
    """A file cannot be read as a session; the message names the file and what to try."""


#: Former name, kept for callers that still import it.
SessionFileError = SessionError


@dataclass(frozen=True)
class Superblock:
    """What `inspect` read from the file's HDF5 superblock."""

    version: int
    flags: int
    end_of_file: int  # address of the end of the file, relative to base (0 if unknown)
    base: int
    size: int  # actual size of the file in bytes

    @property
    def truncated(self) -> bool:
        return self.end_of_file > 0 and self.base + self.end_of_file > self.size

    @property
    def open_for_write(self) -> bool:
        return bool(self.flags & FLAG_WRITE)

    @property
    def swmr_writer(self) -> bool:
        return bool(self.flags & FLAG_SWMR_WRITE)


def inspect(path: str | Path) -> Superblock:
    """Read the HDF5 superblock of ``path`` without HDF5.

    Raises
    ------
    FileNotFoundError
        No such file.
    SessionError
        A directory, or no HDF5 signature.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise SessionError(f"{path} is a directory, not an HDF5 session file")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        offset = 0
        while offset + 64 <= max(size, 64):
            fh.seek(offset)
            head = fh.read(96)
            if head[:8] == HDF5_MAGIC:
                return _parse_superblock(head, offset, size)
            offset = 512 if offset == 0 else offset * 2
    raise SessionError(f"{path} is not an HDF5 session file (no HDF5 signature; was it recorded by sensorlab?)")


def _parse_superblock(head: bytes, base: int, size: int) -> Superblock:
    version = head[8] if len(head) > 8 else -1
    try:
        if version in (2, 3):
            so = head[9]
            fmt = {4: "<I", 8: "<Q"}[so]
            flags = head[11]
            eof = struct.unpack_from(fmt, head, 12 + 2 * so)[0]
        elif version in (0, 1):
            so = head[13]
            fmt = {4: "<I", 8: "<Q"}[so]
            flags = struct.unpack_from("<I", head, 20)[0]
            at = 24 + (4 if version == 1 else 0)
            eof = struct.unpack_from(fmt, head, at + 2 * so)[0]
        else:
            return Superblock(version, 0, 0, base, size)
    except (KeyError, IndexError, struct.error):
        return Superblock(version, 0, size + 1, base, size)  # a header cut inside the superblock
    return Superblock(version, int(flags), int(eof), base, size)


def open_h5(path: str | Path, recover: bool = True) -> tuple[h5py.File, Path | None]:
    """Open ``path`` for reading; returns ``(file, recovered_copy_or_None)``. See the module doc.

    Raises
    ------
    FileNotFoundError
        No such file.
    SessionError
        Not HDF5, truncated, damaged, or flagged open and not recoverable.
    """
    path = Path(path)
    sb = inspect(path)
    for _ in range(LIVE_RECHECKS if sb.swmr_writer else 0):
        if not sb.truncated:
            break
        time.sleep(LIVE_RECHECK_SECONDS)
        sb = inspect(path)
    if sb.truncated:
        raise SessionError(
            f"{path} is truncated or damaged: it is {sb.size} bytes but its HDF5 header says {sb.base + sb.end_of_file} "
            f"(an interrupted copy or a full disk?); {_TRY}"
        )
    if sb.open_for_write and not sb.swmr_writer:
        if not recover:
            raise SessionError(f"{path} was left open by a writer that crashed; run `h5clear -s` on a copy, or open it with recovery")
        copy = recover_copy(path)
        try:
            return _h5open(copy, swmr=False), copy
        except Exception as e:
            copy.unlink(missing_ok=True)
            raise SessionError(f"{path}: damaged beyond automatic recovery ({_one_line(e)}); restore it from a backup") from e
    try:
        return _h5open(path, swmr=sb.swmr_writer), None
    except Exception as e:  # noqa: BLE001 - h5py raises OSError, RuntimeError, KeyError, ValueError
        raise SessionError(f"{path} is truncated or damaged ({_one_line(e)}); {_TRY}") from e


def _h5open(path: Path, swmr: bool) -> h5py.File:
    kwargs = {"swmr": True, "libver": "latest"} if swmr else {}
    return h5py.File(path, "r", rdcc_nbytes=CHUNK_CACHE_BYTES, **kwargs)


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def recover_copy(path: str | Path, out: str | Path | None = None) -> Path:
    """Copy ``path`` and clear the copy's "open for write" flag with ``h5clear -s``.

    The copy is deleted again if clearing fails.

    Returns
    -------
    Path
        The recovered copy (``out``, else ``<stem>.recovered.h5`` beside the original or in
        the temp dir).
    """
    path = Path(path)
    exe = shutil.which("h5clear")
    if exe is None:
        raise SessionError(f"{path} is flagged as still open by a writer that crashed; install hdf5-tools (h5clear) to recover it")
    if out is None:
        out = path.with_name(f"{path.stem}.recovered{path.suffix}")
        if out.exists() or not os.access(path.parent, os.W_OK):
            out = Path(tempfile.mkdtemp(prefix="sensorlab-recovered-")) / out.name
    out = Path(out)
    try:
        shutil.copyfile(path, out)
        res = subprocess.run([exe, "-s", str(out)], capture_output=True, text=True)
        if res.returncode != 0:
            raise SessionError(f"{path}: h5clear -s failed on a copy: {res.stderr.strip() or res.stdout.strip()}; restore it from a backup")
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    log.warning("%s was left open by a crashed writer; reading the recovered copy %s", path, out)
    return out
