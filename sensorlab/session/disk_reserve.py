"""Disk space set aside next to a session while it is recorded (`DiskReserve`), given back when a
write fails with a full disk, so that the session file can still be flushed, closed and given
its footers. Used by `sensorlab.session.writer.SessionWriter`.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)

#: Disk space set aside (an unlinked ``<file>.reserve`` next to the session, held open) while
#: recording and released when a write fails with a full disk, so the file can still be
#: flushed, closed and given its footers. Capped at `RESERVE_FRACTION` of the free space at start.
RESERVE_BYTES = 32 * 1024 * 1024
RESERVE_FRACTION = 0.125


class DiskReserve:
    """``<session>.reserve``: up to `RESERVE_BYTES` (at most `RESERVE_FRACTION` of the free
    space at start), held by an open file."""

    def __init__(self, session: Path):
        self.session = session
        self.path = session.with_name(session.name + ".reserve")
        self._fh = None  # open file holding the reserved space (see `make`)
        self.size = 0  # bytes set aside (0: none)

    def make(self) -> None:
        """Set the space aside (a warning, and no reserve, if the disk will not give it)."""
        # On POSIX the reserve is unlinked as soon as it is allocated: the open descriptor alone
        # holds the space, so closing it (or the process dying, even by SIGKILL) frees it and
        # nothing can be left behind. Elsewhere it stays a named file, removed by `release` and,
        # if a crash left it, by the next recording to this path or `sensorlab repair`.
        self.path.unlink(missing_ok=True)  # left by a crash of an older version
        try:
            size = int(min(RESERVE_BYTES, shutil.disk_usage(self.path.parent).free * RESERVE_FRACTION))
            if size <= 0:
                return
            fh = open(self.path, "wb")
            try:
                try:
                    os.posix_fallocate(fh.fileno(), 0, size)
                except (AttributeError, OSError):
                    fh.write(b"\0" * size)
                    fh.flush()
                if os.name == "posix":
                    os.unlink(self.path)
            except BaseException:
                fh.close()
                raise
            self._fh = fh
            self.size = size
        except OSError as e:
            log.warning("could not reserve disk space next to %s (%s)", self.session, e)
            self.path.unlink(missing_ok=True)

    def release(self) -> bool:
        """Give the reserved space back; True if there was any."""
        fh, self._fh = self._fh, None
        self.size = 0
        if fh is not None:
            fh.close()
        try:
            self.path.unlink()
            return True
        except OSError:
            return fh is not None
