"""Why a recording stopped: recognising a full disk, naming the disk, wording the message.

Kept apart from `recorder` so the rules for "is this a full disk?" live in one small place:
h5py reports ENOSPC as ``OSError(errno=28)`` from some calls and as a ``RuntimeError`` whose
text carries ``errno = 28, error message = 'No space left on device'`` from others (flush,
close), sometimes chained under another exception.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

_ERRNO_RE = re.compile(r"errno\s*=\s*(\d+)")
_FULL_TEXT = ("no space left", "disk quota exceeded", "file too large")
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}

#: The writer thread stops a recording while at least this much is still free on its disk (or
#: 4× what it wrote since its last look, if more): a write that meets a full disk can leave an
#: HDF5 file that no longer opens (1 in 12 recordings onto a 2 MB disk did), while a stop with
#: room left closes it with its footers like any other stop. 0 turns the check off.
STOP_FREE_BYTES = 32 * 1024 * 1024


class DiskAlmostFull(OSError):
    """Less free space than a clean stop needs (`STOP_FREE_BYTES`); raised before the disk is full."""


def is_disk_full(e: BaseException | None) -> bool:
    """True if ``e`` (or an exception it was raised from) means the disk or quota is full."""
    seen: set[int] = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if getattr(e, "errno", None) in _FULL_ERRNOS:
            return True
        text = str(e).lower()
        if any(t in text for t in _FULL_TEXT) or any(int(m) in _FULL_ERRNOS for m in _ERRNO_RE.findall(text)):
            return True
        e = e.__cause__ or e.__context__
    return False


def mount_point(path: Path) -> str:
    """The mount point holding ``path`` (for "disk full: free space on /data")."""
    p = Path(path).resolve().parent
    while not os.path.ismount(p) and p != p.parent:
        p = p.parent
    return str(p)


def fatal_message(e: BaseException, path: Path, elapsed: float) -> str:
    """One line for a failure that ended the whole recording."""
    where = mount_point(path)
    kept = f"data up to the last flush is kept in {path}"
    if isinstance(e, DiskAlmostFull):
        free = shutil.disk_usage(where).free if os.path.exists(where) else 0
        return (f"disk almost full: {free / 1e6:.0f} MB left on {where}; recording stopped after {elapsed:.1f} s while the file "
                f"could still be closed cleanly, everything until then is in {path}. Free space or record to another disk")
    if is_disk_full(e):
        free = shutil.disk_usage(where).free if os.path.exists(where) else 0
        return f"disk full: free space on {where} ({free / 1e6:.0f} MB left); recording stopped after {elapsed:.1f} s, {kept}"
    detail = " ".join(str(e).split())
    return f"writing {path} failed ({type(e).__name__}: {detail}); recording stopped after {elapsed:.1f} s, {kept}"
