"""Other processes as Linux's /proc shows them, for the tests that check what a command or a
rig leaves running (tests/studio/test_rig_leaks.py) or stall it (tests/test_record_loaded_host.py)."""

from __future__ import annotations

import os


def child_pids(parent: int | None = None) -> set[int]:
    """The processes whose parent is ``parent`` (default: this process): reader processes, the
    board host, … A process that ends while it is read is left out."""
    parent = os.getpid() if parent is None else parent
    out = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                # The parent is the 2nd field after the command name, which may itself hold ") ".
                if int(f.read().rsplit(")", 1)[1].split()[1]) == parent:
                    out.add(int(pid))
        except (OSError, IndexError, ValueError):
            continue
    return out


def command_line(pid: int) -> str:
    """The process's arguments, NUL-separated ("" once it has ended)."""
    try:
        with open(f"/proc/{pid}/cmdline") as f:
            return f.read()
    except OSError:
        return ""
