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
- flags "open for write" without SWMR (the writer died outside SWMR mode) → HDF5 refuses
  to open it at all, so it is read from a *temporary* copy cleared with ``h5clear -s``, in
  a private directory of the temp dir that `Session.close` deletes (`temporary_copy`).
  Nothing is ever written beside the original, and reading twice leaves nothing behind.
  ``sensorlab repair FILE`` (`repair`) writes a permanent ``<name>.recovered.h5`` beside
  it, on request only; it never overwrites anything and never writes through a symlink.

The original is never modified. Only flagged files are ever copied. Whatever HDF5 raises
while opening becomes a `SessionError` naming the file and what to try.
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

from sensorlab.session.format import CHUNK_CACHE_BYTES, PYRAMID_SUFFIX, SCHEMA

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
#: Prefix of the private directories holding recovered copies.
TEMP_PREFIX = "sensorlab-recovered-"


class SessionError(ValueError):
    """A file cannot be read as a session; the message names the file and what to try."""


def schema_of(f: h5py.File) -> str | None:
    """The root ``schema`` attribute (`SCHEMA` for a sensorlab session), as text, or None."""
    value = f.attrs.get("schema")
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else None if value is None else str(value)


def not_a_session(path: str | Path, schema: str | None, fix: str = "") -> str:
    """One line for an HDF5 file another program wrote: what it lacks and what to do instead.

    Examples
    --------
    >>> print(not_a_session("scan.h5", None))  # doctest: +NORMALIZE_WHITESPACE
    scan.h5 is an HDF5 file, but not a sensorlab session (it has no 'schema' attribute; a session's is 'sensorlab.session'):
    sensorlab reads the sessions it records or imports (`sensorlab import xdf`); open this file with the program that wrote it
    (`h5dump -H scan.h5` lists what it holds)
    """
    if str(path).endswith(PYRAMID_SUFFIX):  # picked by hand beside the session it summarises
        source = Path(str(path)[: -len(PYRAMID_SUFFIX)] + ".h5")
        return (f"{path} is the labeling view's overview cache of {source.name}, not a session: open {source} instead "
                "(the cache is rebuilt from it when needed, and may be deleted)")
    if schema == "sensorlab.dataset":  # sensorlab wrote it: "the program that wrote it" misled
        return (f"{path} is a sensorlab dataset (windows cut from sessions), not a session: `sensorlab dataset info {path}` "
                f"prints its report and `sensorlab train {path}` trains on it; to open a recording, give its session file")
    found = "it has no 'schema' attribute" if schema is None else f"its 'schema' attribute is {schema!r}"
    fix = fix or "sensorlab reads the sessions it records or imports (`sensorlab import xdf`); open this file with the program that wrote it"
    return f"{path} is an HDF5 file, but not a sensorlab session ({found}; a session's is {SCHEMA!r}): {fix} (`h5dump -H {path}` lists what it holds)"


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
    """Open ``path`` for reading; returns ``(file, temporary_copy_or_None)``. See the module doc.

    The caller owns a returned copy and must delete it with `remove_temporary_copy` once the
    file is closed (`Session.close` does).

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
            raise SessionError(f"{path} was left open by a writer that crashed; `sensorlab repair {path}` writes a readable copy")
        copy = temporary_copy(path)
        try:
            return _h5open(copy, swmr=False), copy
        except Exception as e:
            remove_temporary_copy(copy)
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


def _h5clear() -> str:
    exe = shutil.which("h5clear")
    if exe is None:
        raise SessionError("this file is flagged as still open by a writer that crashed; install hdf5-tools (h5clear) to read it")
    return exe


def _cleared_copy(path: Path, parent: Path | None) -> Path:
    """A copy of ``path`` with its status flags cleared, alone in a new private (0700) directory
    made under ``parent`` (the temp dir if None). The directory is removed again on failure.

    A fresh directory of our own means nothing in the copy's path can be a symlink planted by
    someone else, and h5clear works on exactly the file we wrote.
    """
    exe = _h5clear()
    d = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=parent))
    out = d / f"{path.stem}.recovered{path.suffix}"
    try:
        shutil.copyfile(path, out)
        res = subprocess.run([exe, "-s", str(out)], capture_output=True, text=True)
        if res.returncode != 0:
            raise SessionError(f"{path}: h5clear -s failed on a copy: {res.stderr.strip() or res.stdout.strip()}; restore it from a backup")
    except BaseException:
        shutil.rmtree(d, ignore_errors=True)
        raise
    return out


def temporary_copy(path: str | Path) -> Path:
    """A cleared copy of ``path`` to read, in a private temp directory; delete it with
    `remove_temporary_copy`."""
    path = Path(path)
    out = _cleared_copy(path, None)
    log.warning("%s was left open by a crashed writer; reading a temporary cleared copy (`sensorlab repair` keeps one)", path)
    return out


def remove_temporary_copy(copy: Path) -> None:
    """Delete a copy made by `temporary_copy` and its private directory."""
    d = Path(copy).parent
    if d.name.startswith(TEMP_PREFIX):
        shutil.rmtree(d, ignore_errors=True)


def repair(path: str | Path, out: str | Path | None = None) -> str:
    """``sensorlab repair``: write a readable copy of a file a crashed writer left flagged open.

    The copy goes to ``out`` (default ``<stem>.recovered.h5`` beside ``path``). It is built in
    a private directory and then hard-linked into place, so an existing file *or symlink* at
    ``out`` is never overwritten or followed: that is an error. Files that need no repair are
    left alone (a stale ``<file>.reserve`` disk-space reserve next to them is removed).

    Returns
    -------
    str
        One line for the terminal.

    Raises
    ------
    SessionError
        Not a session file, damaged, h5clear missing or failing, or ``out`` exists.
    """
    path = Path(path)
    sb = inspect(path)
    reserve = path.with_name(path.name + ".reserve")
    cleaned = ""
    if reserve.is_file() and not reserve.is_symlink() and not sb.swmr_writer:
        reserve.unlink()
        cleaned = f"; removed the leftover disk-space reserve {reserve.name}"
    if sb.truncated:
        raise SessionError(f"{path} is truncated (it is {sb.size} bytes, its header says {sb.base + sb.end_of_file}); h5clear cannot repair that; {_TRY}")
    if not sb.open_for_write or sb.swmr_writer:
        try:
            with _h5open(path, swmr=sb.swmr_writer) as f:
                _check_session(f, path)
        except SessionError:
            raise
        except Exception as e:  # noqa: BLE001 - h5py raises OSError, RuntimeError, KeyError, ValueError
            raise SessionError(f"{path} is damaged ({_one_line(e)}); h5clear cannot repair that; {_TRY}") from e
    if not sb.open_for_write:
        return f"{path} needs no repair: it opens as it is{cleaned}"
    if sb.swmr_writer:
        return f"{path} needs no repair: a recording still running or killed mid-recording reads as it is (up to its last flush){cleaned}"
    out = Path(out) if out is not None else path.with_name(f"{path.stem}.recovered{path.suffix}")
    if out.exists() or out.is_symlink():
        raise SessionError(f"{out} already exists; delete it or choose another output with -o (an existing file or link is never overwritten)")
    copy = _cleared_copy(path, out.parent)
    try:
        with _h5open(copy, swmr=False) as f:  # it must open now, and be a session
            _check_session(f, path)
        os.link(copy, out)  # fails if anything (even a dangling symlink) appeared at `out` meanwhile
    except FileExistsError:
        raise SessionError(f"{out} already exists; delete it or choose another output with -o") from None
    except SessionError:
        raise
    except Exception as e:
        raise SessionError(f"{path}: damaged beyond automatic recovery ({_one_line(e)}); restore it from a backup") from e
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)
    return f"repaired copy of {path} written to {out} (the original is unchanged){cleaned}"


def _check_session(f: h5py.File, path: Path) -> None:
    schema = schema_of(f)
    if schema != SCHEMA:
        raise SessionError(not_a_session(path, schema, "`sensorlab repair` mends only sessions sensorlab recorded and left this file "
                                                       "as it is; open it with the program that wrote it"))
