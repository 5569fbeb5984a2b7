"""What else the host did while a bench phase ran: the figures that tell a slow run's cause.

The live view once painted 9–12 fps on a "quiet" VM (load average 0.6–2.6) where it had
painted 60 the evening before, on the old code and the new alike, with the GUI thread's CPU a
frame doubled and most of a frame spent waiting for the GIL
(docs/performance/whole-rig-snapshots.md, "Quiet machine, eighth round"; not reproduced the next
morning: docs/performance/live-view.md, "Live view, tenth round"); the bench's own figures could not say why. A load average does not
say *who* held the cores, nor whether they were held at real-time priority (a SCHED_FIFO task
owns its core: every ordinary thread that lands there, a GIL holder too, waits for it) or by
the VM's host (steal). `snapshot` before and after a phase, then `delta`, gives:

- the machine's CPU split (busy, steal, iowait) in cores, from ``/proc/stat``;
- this process's major page faults and the GUI thread's involuntary context switches (its
  core taken by another task) over the phase;
- the busiest other processes in that time (CPU in cores, scheduling policy, command), real-time
  ones flagged, the bench's own process tree excluded.

Linux only (``/proc``); elsewhere the figures are empty.
"""

from __future__ import annotations

import os
import resource
import time

_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_POLICIES = {0: "normal", 1: "FIFO", 2: "RR", 3: "batch", 5: "idle"}


def _machine() -> list[int]:
    try:
        with open("/proc/stat") as f:
            return [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return []


def _processes() -> dict[int, tuple[float, int, int, str]]:
    """pid → (CPU seconds, parent pid, scheduling policy, command name)."""
    out = {}
    for d in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        name, rest = st[st.index("(") + 1:st.rindex(")")], st[st.rindex(")") + 2:].split()
        out[int(d)] = ((int(rest[11]) + int(rest[12])) / _HZ, int(rest[1]), int(rest[38]), name)
    return out


def _switches(tid: int, kind: str) -> int:
    try:
        with open(f"/proc/self/task/{tid}/status") as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith(kind))
    except (OSError, StopIteration):
        return 0


def wakeups(tid: int) -> int:
    """A thread of this process's voluntary context switches so far (its wake-ups)."""
    return _switches(tid, "voluntary_ctxt_switches")


def cpu_model() -> str:
    """The host CPU's model and clock as the VM reports them: two rounds measured on "the
    same" 2-core VM a factor apart, and the model is the first thing to compare."""
    try:
        with open("/proc/cpuinfo") as f:
            info = {k.strip(): v for k, v in (ln.split(":", 1) for ln in f if ":" in ln)}
    except OSError:
        return "?"
    return f"{info.get('model name', '?').strip()}, {info.get('cpu MHz', '?').strip()} MHz, {os.cpu_count()} cores"


def snapshot() -> dict:
    """The counters `delta` compares (call from the measured process's GUI thread)."""
    return {"t": time.monotonic(), "machine": _machine(), "procs": _processes(),
            "majflt": resource.getrusage(resource.RUSAGE_SELF).ru_majflt, "gui_nvcsw": _switches(os.getpid(), "nonvoluntary_ctxt_switches")}


def delta(a: dict, b: dict, top: int = 5) -> dict:
    """What happened between two snapshots (see the module docstring)."""
    dt = max(1e-9, b["t"] - a["t"])
    ticks = [y - x for x, y in zip(a["machine"], b["machine"])]
    cores = {}
    if len(ticks) >= 8:
        # user nice system idle iowait irq softirq steal (guest time is inside user).
        seconds = [t / _HZ / dt for t in ticks]
        cores = {"busy": round(sum(seconds[i] for i in (0, 1, 2, 5, 6)), 2), "steal": round(seconds[7], 2),
                 "iowait": round(seconds[4], 2)}
    # The bench's own tree: this process, its parent (the bench's driver) and their children.
    mine = {os.getpid(), os.getppid()}
    changed = True
    while changed:
        kids = {pid for pid, p in b["procs"].items() if p[1] in mine} - mine
        changed = bool(kids)
        mine |= kids
    others = []
    for pid, (cpu, _ppid, policy, name) in b["procs"].items():
        if pid in mine or pid not in a["procs"]:
            continue
        used = (cpu - a["procs"][pid][0]) / dt
        if used > 0.02:
            others.append((used, pid, policy, name))
    others.sort(reverse=True)
    return {"host_cores": cores, "major_faults": b["majflt"] - a["majflt"], "gui_involuntary_switches": b["gui_nvcsw"] - a["gui_nvcsw"],
            "others_cores": round(sum(o[0] for o in others), 2),
            "others_top": [f"{name}[{pid}] {used:.2f} core{' REAL-TIME ' + _POLICIES.get(policy, str(policy)) if policy in (1, 2) else ''}"
                           for used, pid, policy, name in others[:top]],
            "others_realtime_cores": round(sum(o[0] for o in others if o[2] in (1, 2)), 2)}
