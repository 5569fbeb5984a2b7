"""An OS file lock around a sidecar's read-modify-write, that says who holds it.

Every save of a sidecar is atomic, but an import or a suggestion run reads the sidecar,
adds to it and writes it back: two of those at once both read the old file, and the second
write drops the first one's labels. `sidecar_lock` serialises them across processes (the
command line, the labeling window, scripts) with ``flock`` (POSIX) / ``msvcrt.locking``
(Windows). The OS releases the lock when its holder exits or is killed, so a crash never
leaves a session locked.

The lock lives in its own hidden file, ``.run1.labels.json.lock``, because the sidecar
itself is replaced by rename on every save (a lock on the old inode would protect nothing).
The holder writes who it is into that file, so a process that gives up waiting can say which
program to close. The library ``filelock`` is not used for this: it truncates the lock file
on every attempt, which would erase the holder's note.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

#: Seconds to wait for another program's import or save before giving up with its name.
LOCK_TIMEOUT = 10.0
_POLL = 0.02
#: Windows locks a byte range that others cannot read; lock this byte, keep the note before it.
_LOCK_OFFSET = 4096

# flock locks belong to an open file, so a second lock from this process on a new descriptor
# would wait for itself: nested use in one thread re-enters instead.
_held: dict[str, tuple[int, int]] = {}  # lock path -> (thread id, depth)
_held_guard = threading.Lock()


class SidecarLocked(RuntimeError, OSError):
    """Another program kept the sidecar locked past the timeout; the message names it.

    An OSError too, so autosave failures are reported by the undo stack like a full disk.
    """


def lock_path(sidecar: str | Path) -> Path:
    p = Path(sidecar)
    return p.with_name(f".{p.name}.lock")


def _try_lock(fd: int) -> bool:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import msvcrt

        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover
        import msvcrt

        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


def _describe_self() -> str:
    argv = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]]
    command = " ".join(argv)
    if len(command) > 160:
        command = command[:157] + "…"
    since = _dt.datetime.now().strftime("%H:%M:%S")
    return f"pid {os.getpid()} ({command}), since {since}"


def _note(fd: int, text: str) -> None:
    data = text.encode("utf-8", "replace")[: _LOCK_OFFSET - 1]
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)


def holder(sidecar: str | Path) -> str:
    """Who holds (or last held) the lock of ``sidecar``, as its note says; "" if unknown."""
    try:
        with open(lock_path(sidecar), "rb") as f:
            return f.read(_LOCK_OFFSET - 1).decode("utf-8", "replace").strip()
    except OSError:
        return ""


@contextmanager
def sidecar_lock(sidecar: str | Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the OS lock of ``sidecar`` for a read-modify-write; re-entrant within a thread.

    Raises
    ------
    SidecarLocked
        Another process held it for ``timeout`` seconds; the message names that process.

    Examples
    --------
    >>> with sidecar_lock("run1.labels.json"):  # doctest: +SKIP
    ...     ann = load_annotations("run1.labels.json"); ann.add(seg); save_annotations(ann, ...)
    """
    key = str(lock_path(sidecar).resolve())
    me = threading.get_ident()
    with _held_guard:
        owner, depth = _held.get(key, (None, 0))
        if owner == me:
            _held[key] = (me, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[key] = (me, _held[key][1] - 1)
        return
    fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)  # never O_TRUNC: the holder's note is in it
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                who = holder(sidecar) or "another program"
                raise SidecarLocked(
                    f"{Path(sidecar).name} is locked by {who} and was not released within {timeout:g} s: "
                    "let that import finish or close that labeling window, then try again"
                )
            time.sleep(_POLL)
        try:
            _note(fd, _describe_self())
            with _held_guard:
                _held[key] = (me, 1)
            try:
                yield
            finally:
                with _held_guard:
                    _held.pop(key, None)
                os.ftruncate(fd, 0)  # nobody holds it now
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


@contextmanager
def try_sidecar_lock(sidecar: str | Path) -> Iterator[bool]:
    """Like `sidecar_lock` without waiting: yields False (and holds nothing) if it is taken."""
    with ExitStack() as stack:
        try:
            stack.enter_context(sidecar_lock(sidecar, timeout=0.0))
            got = True
        except SidecarLocked:
            got = False
        yield got


__all__ = ["LOCK_TIMEOUT", "SidecarLocked", "holder", "lock_path", "sidecar_lock", "try_sidecar_lock"]
