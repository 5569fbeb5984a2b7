"""How much CPU this process may use, and how much of it is in use: the live view's budget
follows it (`LiveView._adapt_rate`).

A machine's cores are not always the CPU a program gets. A container started with
``--cpus 0.5``, a systemd unit with ``CPUQuota=``, any Linux cgroup with a CPU bandwidth limit
(``bench/slow_machine.py`` emulates a slow laptop so) lets the whole group of processes run
only ``quota`` microseconds of CPU per ``period``; CPU affinity (``taskset``) leaves fewer cores.
A budget of "half a core" for the GUI thread means nothing inside a third of a core: the
thread can never exceed it, the view never slows down, and the acquisition threads of the
same process wait for the quota the view spends. So the cores counted here are the fewest of
the machine's, the affinity's and every cgroup limit above this process; and "busy" counts
the time the group was throttled (it wanted more than its quota).

Linux cgroup v2 (``cpu.max``, ``cpu.stat``: usage_usec, nr_periods, nr_throttled) and v1
(``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``, ``cpu.stat``: nr_periods, nr_throttled), found
through ``/proc/self/cgroup`` and ``/proc/self/mountinfo``; elsewhere (macOS, Windows, no
limit) the cores and psutil's whole-machine times, as before.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil


def cpu_limit_dir() -> tuple[Path, bool] | None:
    """The cgroup directory whose CPU bandwidth limit binds this process (the smallest limit
    from its own group up to the hierarchy's root), and whether it is cgroup v2; None if no
    limit applies or this is not Linux."""
    try:
        groups = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    best: tuple[float, Path, bool] | None = None
    for line in groups:
        hid, controllers, path = line.split(":", 2)
        v2 = hid == "0" and controllers == ""
        if not v2 and "cpu" not in controllers.split(","):
            continue
        for mount_root, mount_point in _cgroup_mounts(mounts, v2):
            rel = os.path.relpath(path, mount_root)
            d = Path(mount_point) if rel.startswith("..") else Path(mount_point, rel)
            # From the process's own group up to the mount point: a container's limit sits on
            # its group, a unit's maybe on a parent slice.
            while True:
                cores = _limit(d, v2)
                if cores is not None and (best is None or cores < best[0]):
                    best = (cores, d, v2)
                if d == Path(mount_point) or d == d.parent:
                    break
                d = d.parent
    return None if best is None else (best[1], best[2])


def _cgroup_mounts(mounts: list[str], v2: bool) -> list[tuple[str, str]]:
    """(root inside the hierarchy, mount point) of the cgroup2 mounts, or of the v1 mounts of
    the cpu controller."""
    out = []
    for line in mounts:
        head, _, tail = line.partition(" - ")
        fields, fstype_opts = head.split(), tail.split()
        if len(fields) < 5 or len(fstype_opts) < 3:
            continue
        v1_cpu = fstype_opts[0] == "cgroup" and "cpu" in fstype_opts[2].split(",")
        if (fstype_opts[0] == "cgroup2") if v2 else v1_cpu:
            out.append((fields[3], fields[4]))
    return out


def _limit(d: Path, v2: bool) -> float | None:
    """Cores' worth of CPU time the cgroup ``d`` may use (quota ÷ period); None if unlimited."""
    try:
        if v2:
            quota, period = (d / "cpu.max").read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        quota = int((d / "cpu.cfs_quota_us").read_text())
        return None if quota < 0 else quota / int((d / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None


def _stat(d: Path) -> dict[str, int]:
    try:
        return {k: int(v) for k, v in (ln.split() for ln in (d / "cpu.stat").read_text().splitlines())}
    except (OSError, ValueError):
        return {}


def _v1_usage_file(d: Path) -> Path | None:
    """cgroup v1 counts a group's CPU time in the cpuacct controller: in the same directory
    where it is mounted with cpu (``cpu,cpuacct``, as systemd and Docker do), else at the same
    path under its own mount."""
    if (d / "cpuacct.usage").exists():
        return d / "cpuacct.usage"
    try:
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    cpu = [mp for _, mp in _cgroup_mounts(mounts, False) if d == Path(mp) or Path(mp) in d.parents]
    if not cpu:
        return None
    rel = d.relative_to(cpu[0])
    for line in mounts:
        head, _, tail = line.partition(" - ")
        fields, fs = head.split(), tail.split()
        if len(fs) >= 3 and fs[0] == "cgroup" and "cpuacct" in fs[2].split(",") and len(fields) >= 5:
            f = Path(fields[4], rel, "cpuacct.usage")
            if f.exists():
                return f
    return None


def machine_cores() -> float:
    """Cores this process may run on (its affinity where the OS tells, else all)."""
    try:
        return float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return float(os.cpu_count() or 1)


class CpuRoom:
    """The CPU this process may use (`cores`) and, at each `sample`, the share of it in use
    since the last sample: the whole machine's, or the cgroup's when a limit binds (its usage
    over its quota, `used`, or the share of its periods in which it was throttled,
    `throttled`, whichever is larger: a throttled group wanted more than it got)."""

    #: Samples between two looks for the limit (a container's can be changed while it runs,
    #: ``docker update --cpus``; a process can be moved to another group).
    RECHECK = 10

    def __init__(self):
        #: Share of the cgroup's periods (while it ran) in which it was throttled, last sample.
        self.throttled = 0.0
        #: The cgroup's CPU time over its quota, last sample (about 1: the quota is used up and
        #: its threads queue for the next period); None without a limit.
        self.used: float | None = None
        self._proc = psutil.Process()
        self._find_limit()
        self._last = self._read()

    def _find_limit(self) -> None:
        found = cpu_limit_dir()
        self._dir, self._v2 = found if found is not None else (None, False)
        self.quota = _limit(self._dir, self._v2) if self._dir is not None else None
        self.cores = min(machine_cores(), self.quota) if self.quota else machine_cores()
        self._usage = _v1_usage_file(self._dir) if self._dir is not None and not self._v2 else None
        self._samples = 0

    def _read(self) -> tuple:
        wall = time.perf_counter()
        try:
            t = psutil.cpu_times()
            idle = t.idle + getattr(t, "iowait", 0.0)
            # Linux counts guest time inside user and nice as well: not twice.
            total = sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
            machine = (total - idle, total)
        except (OSError, RuntimeError, AttributeError):
            machine = None
        group = None
        if self._dir is not None:
            stat = _stat(self._dir)
            used = None
            if "usage_usec" in stat:  # v2: the whole group's CPU time
                used = stat["usage_usec"] / 1e6
            elif self._usage is not None:  # v1: the cpuacct controller counts it
                try:
                    used = int(self._usage.read_text()) / 1e9
                except (OSError, ValueError):
                    pass
            if used is None:  # only this process's, then
                c = self._proc.cpu_times()
                used = c.user + c.system
            group = (used, stat.get("nr_periods", 0), stat.get("nr_throttled", 0))
        return wall, machine, group

    def sample(self) -> float | None:
        """Share of the CPU this process may use that was busy since the last call (over 1:
        throttled), or None if nothing can be told yet."""
        self._samples += 1
        if self._samples >= self.RECHECK:
            before = self._dir
            self._find_limit()
            if self._dir != before:  # another group's counters: start over
                self._last = self._read()
                return None
        now = self._read()
        (w0, m0, g0), (w1, m1, g1) = self._last, now
        self._last = now
        shares = []
        if m0 is not None and m1 is not None and m1[1] > m0[1]:
            shares.append((m1[0] - m0[0]) / (m1[1] - m0[1]))
        self.used = None
        if g0 is not None and g1 is not None and w1 > w0:
            periods = g1[1] - g0[1]
            self.throttled = (g1[2] - g0[2]) / periods if periods > 0 else 0.0
            self.used = (g1[0] - g0[0]) / (self.quota * (w1 - w0))
            shares.append(max(self.used, self.throttled))
        return max(shares) if shares else None
