"""Which pseudo-terminal a port path leads to: a lost pty is never reopened as someone else's.

Why: when a pty closes, its path (``/dev/pts/3``) disappears and the kernel hands the number
to the very next program that asks for a pty: a terminal window, ``socat``, another sensorlab.
A reader that reopened a lost port by its path would then read, and exclusively lock, that
other program's pty (its own open then fails with "busy", and the stray bytes are parsed as
the device's). The number alone cannot tell the two apart; the pty's creation time can: the
kernel makes a new device node for every pty, with its change time set then, and reading or
writing does not change it.

A path that is a symlink (``/dev/serial/by-id/…``, an emulator's ``link_path``) is followed
as it points now: udev removes or repoints such a link with the device, so a new pty behind
it is the device coming back.
"""

from __future__ import annotations

import os
import stat

#: Major device numbers of Unix 98 pty slaves (Linux: 136-143).
PTY_SLAVE_MAJORS = range(136, 144)


def pty_instance(where: str | int) -> tuple[int, int] | None:
    """``(device number, creation time in ns)`` of the pty slave at a path or fd; None for
    anything else (a real serial port, a missing path, a URL)."""
    try:
        st = os.fstat(where) if isinstance(where, int) else os.stat(where)
    except (OSError, ValueError):
        return None
    if not stat.S_ISCHR(st.st_mode) or os.major(st.st_rdev) not in PTY_SLAVE_MAJORS:
        return None
    return st.st_rdev, st.st_ctime_ns


def another_pty(port: str, lost: tuple[int, int] | None, now_there: tuple[int, int] | None) -> bool:
    """Whether ``port``, a bare pty path whose pty ``lost`` was read before, now leads to a
    different pty (``now_there``): one that another program was given."""
    if lost is None or now_there is None or now_there == lost:
        return False
    return not os.path.islink(port)


__all__ = ["PTY_SLAVE_MAJORS", "another_pty", "pty_instance"]
