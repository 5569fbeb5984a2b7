"""Run a command as if on a machine N× slower: a Linux cgroup caps its CPU time.

Issue 14's slow-laptop goals (live view ≥ 20 fps recording, labeling first paint ≤ 2 s and
scroll ≥ 30 fps on a machine about 3× slower in every bench) need such a machine. This
emulates one on the fast one: the command and every process it starts run in a new cgroup
whose CPU bandwidth is ``cores / N`` (cgroup v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``).
With the default ``--cores 1`` one busy thread runs N× slower, which is what "N× slower in
every bench" means for the mostly single-threaded (GIL-bound) benches; work that keeps both
cores busy is slowed 2N×, so the emulation is harsher than the slow machine for that part.
``--cores 2`` is the opposite bound (both cores busy: N×; one thread alone: N/2×).

What it is not: a slower CPU. A throttled group runs at full speed until its quota for the
period is spent, then waits for the next period; the period is short (``--period-ms``,
default 5 ms) so the waits are short too, but a thread can still be held up to one period,
where a slow CPU would stretch the work evenly. Memory, disk and the kernel's own work are
not slowed. Other programs on the host do not slow the group further: it has the highest CPU
weight (``--shared`` gives it an ordinary one). ``--calibrate`` runs a fixed CPU workload (Python loops, NumPy, zlib) inside and
outside the cap and prints the wall-time ratio, so each report says how much slower the
emulated machine really was.

Needs root (it writes under /sys/fs/cgroup). Run from the project root:

    .venv/bin/python bench/slow_machine.py --slower 3 --calibrate
    .venv/bin/python bench/slow_machine.py --slower 3 -- .venv/bin/python bench/bench_labeling.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def _cgroup_dir(name: str) -> tuple[Path, bool]:
    """A fresh cgroup with the cpu controller; (its directory, is it cgroup v2)."""
    if (ROOT / "cgroup.controllers").exists():  # v2: the unified hierarchy
        if "cpu" not in (ROOT / "cgroup.subtree_control").read_text().split():
            (ROOT / "cgroup.subtree_control").write_text("+cpu")
        d = ROOT / name
        d.mkdir(exist_ok=True)
        return d, True
    d = ROOT / "cpu" / name
    d.mkdir(exist_ok=True)
    acct = _acct(d)
    if acct is not None:  # its CPU time counted too (the live view reads it: app/live/cpu_room.py)
        acct.mkdir(exist_ok=True)
    return d, False


def _acct(d: Path) -> Path | None:
    """cgroup v1 where cpuacct is mounted apart from cpu: the group's twin there."""
    if d.parent.parent != ROOT or not (ROOT / "cpuacct").is_dir() or (ROOT / "cpuacct").resolve() == (ROOT / "cpu").resolve():
        return None
    return ROOT / "cpuacct" / d.name


def cap(name: str, slower: float, period_ms: float, cores: float = 1.0, first: bool = True) -> Path:
    """Create the cgroup and set its CPU bandwidth to ``cores / slower``. With ``first`` its
    weight is the highest the kernel allows: on a busy host (other programs running) the group
    still gets the CPU time of its quota, so the emulated machine is not slower than stated;
    without, it shares the cores with the host's other processes as one of them."""
    d, v2 = _cgroup_dir(name)
    period = int(period_ms * 1000)
    quota = max(1000, int(period * cores / slower))
    if v2:
        (d / "cpu.max").write_text(f"{quota} {period}")
        if first:
            (d / "cpu.weight").write_text("10000")
    else:
        (d / "cpu.cfs_period_us").write_text(str(period))
        (d / "cpu.cfs_quota_us").write_text(str(quota))
        if first:
            (d / "cpu.shares").write_text("262144")
    return d


def enter(d: Path) -> None:
    """Move this process (and so everything it starts from now on) into the cgroup."""
    (d / "cgroup.procs").write_text(str(os.getpid()))
    acct = _acct(d)
    if acct is not None and acct.is_dir():
        (acct / "cgroup.procs").write_text(str(os.getpid()))


def remove(d: Path) -> None:
    """Delete the cgroup (it can only go once its processes have ended; this one never entered it)."""
    for g in (d, _acct(d)):
        for _ in range(50 if g is not None and g.is_dir() else 0):
            try:
                g.rmdir()
                break
            except OSError:
                time.sleep(0.1)


def machine_cores() -> int:
    return len(os.sched_getaffinity(0))


def workload() -> float:
    """A fixed mix of interpreter, NumPy and zlib work; its wall time in seconds."""
    import numpy as np

    t0 = time.perf_counter()
    total = 0
    for i in range(1_500_000):
        total += i * i % 7
    a = np.random.default_rng(0).normal(size=1_000_000)
    for _ in range(40):  # element-wise: one thread (a BLAS product would use both cores)
        a = np.tanh(a * 1.01 + 0.1)
    blob = os.urandom(1 << 20) * 4
    for _ in range(6):
        zlib.compress(blob, 6)
    return time.perf_counter() - t0


def calibrate(d: Path, reference: Path | None = None) -> float:
    """Wall-time ratio of `workload` in a capped child against an uncapped one (in the group
    ``reference``, given the same weight, so a busy host slows neither more than the other;
    None: in this process's group)."""
    here = str(Path(__file__).parent)
    code = f"import sys; sys.path.insert(0, {here!r}); import slow_machine as s; print(min(s.workload() for _ in range(2)))"

    def timed(group: Path | None) -> float:
        # preexec_fn runs between fork and exec: this process has no other threads here.
        enter_group = (lambda: enter(group)) if group is not None else None
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, preexec_fn=enter_group)  # noqa: PLW1509
        return float(child.communicate()[0])

    return timed(d) / timed(reference)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--slower", type=float, default=3.0, help="how many times slower (CPU bandwidth = cores / this)")
    ap.add_argument("--cores", type=float, default=1.0, help="cores' worth of the slow machine's CPU time (1: one thread N× slower; 2: both cores busy N× slower)")
    ap.add_argument("--period-ms", type=float, default=5.0, help="the cgroup's accounting period; a throttled thread waits at most this long")
    ap.add_argument("--shared", action="store_true",
                    help="let the host's other processes share the cores with the capped group as equals (default: the group comes first, up to its cap)")
    ap.add_argument("--calibrate", action="store_true", help="print the measured slow-down of a fixed CPU workload")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run capped")
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command and not args.calibrate:
        ap.error("give a command after --, or --calibrate")
    try:
        d = cap(f"sensorlab-slow-{os.getpid()}", args.slower, args.period_ms, args.cores, first=not args.shared)
    except OSError as e:
        print(f"error: cannot create a CPU-capped cgroup ({e}); run as root on Linux with the cgroup cpu controller", file=sys.stderr)
        return 2
    rc = 0
    try:
        if args.calibrate:
            ref = None if args.shared else cap(f"sensorlab-ref-{os.getpid()}", 1.0, args.period_ms, machine_cores(), first=True)
            try:
                ratio = calibrate(d, ref)
            finally:
                if ref is not None:
                    remove(ref)
            print(f"--slower {args.slower:g} --cores {args.cores:g} (period {args.period_ms:g} ms): a fixed CPU workload ran {ratio:.2f}× slower")
        if command:
            rc = subprocess.call(command, preexec_fn=lambda: enter(d))
    finally:
        remove(d)
    return rc


if __name__ == "__main__":
    sys.exit(main())
