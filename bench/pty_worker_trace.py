"""How long the kernel takes to hand serial/pty input to its reader: a trace of the work item.

Linux moves bytes a pty (or a USB-serial driver) received from the port's flip buffer into
the line discipline the reader's ``read()`` sees in a *kernel worker thread*: the driver
queues the work item ``flush_to_ldisc`` on a shared workqueue, and a ``kworker`` thread (normal
priority, competing with every other task for a core) runs it later. Until it has run, the
reader, however high its own priority, is not even woken, and the bytes wait in the flip
buffer, which the kernel caps (``pty_capacity`` below measures it), so a writer that keeps
going has its writes refused: bytes lost on the host side.

This script measures that delay with the kernel's workqueue tracepoints (tracefs; root):
for every ``flush_to_ldisc`` queued, the time until a worker started it. Run it beside a
bench (e.g. ``bench_stalls.py --hogs 1``) for the same seconds:

    python bench/pty_worker_trace.py --seconds 30

It uses a tracing instance of its own (``instances/sensorlab-pty``), removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import time
import tty
from pathlib import Path

_ROOTS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
_EVENTS = ("workqueue/workqueue_queue_work", "workqueue/workqueue_execute_start")
_LINE = re.compile(r"\s(\d+\.\d+): (workqueue_queue_work|workqueue_execute_start): work struct[= ]([0-9a-f]+)\W.*?function[= ](\w+)")


def tracefs() -> tuple[Path | None, bool]:
    """Where tracefs is mounted, and whether this call mounted it (on /sys/kernel/tracing):
    then the caller unmounts it when done (`unmount`), leaving the machine as it found it."""
    for root in _ROOTS:
        if Path(root, "instances").is_dir():
            return Path(root), False
    try:
        subprocess.run(["mount", "-t", "tracefs", "nodev", _ROOTS[0]], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return None, False
    if Path(_ROOTS[0], "instances").is_dir():
        return Path(_ROOTS[0]), True
    unmount(Path(_ROOTS[0]))
    return None, False


def unmount(root: Path) -> None:
    try:
        subprocess.run(["umount", str(root)], check=False, capture_output=True)
    except OSError:
        pass


def trace_flush_delays(seconds: float, function: str = "flush_to_ldisc") -> dict:
    """Delays (s) from queueing ``function`` to a worker starting it, over ``seconds``: the
    events are read as they come (``trace_pipe``), so a long run does not overrun the buffer."""
    import select

    root, mounted = tracefs()
    if root is None:
        raise SystemExit("tracefs is not available (needs root and a kernel with tracing)")
    inst = root / "instances" / "sensorlab-pty"
    inst.mkdir(exist_ok=True)
    queued: dict[str, float] = {}
    delays: list[float] = []

    def parse(text: str) -> None:
        for m in _LINE.finditer(text):
            t, kind, work, fn = float(m[1]), m[2], m[3], m[4]
            if fn != function:
                continue
            if kind == "workqueue_queue_work":
                queued.setdefault(work, t)
            elif work in queued:
                delays.append(t - queued.pop(work))

    pipe = -1
    try:
        (inst / "buffer_size_kb").write_text("4096")
        for ev in _EVENTS:
            (inst / "events" / ev / "enable").write_text("1")
        pipe = os.open(inst / "trace_pipe", os.O_RDONLY | os.O_NONBLOCK)
        (inst / "tracing_on").write_text("1")
        end, rest = time.monotonic() + seconds, ""
        while time.monotonic() < end:
            if select.select([pipe], [], [], min(0.5, max(0.0, end - time.monotonic())))[0]:
                try:
                    chunk = os.read(pipe, 1 << 20).decode(errors="replace")
                except BlockingIOError:
                    continue
                *lines, rest = (rest + chunk).split("\n")
                parse("\n".join(lines) + "\n")
        (inst / "tracing_on").write_text("0")
    finally:
        if pipe >= 0:
            os.close(pipe)
        for ev in _EVENTS:
            try:
                (inst / "events" / ev / "enable").write_text("0")
            except OSError:
                pass
        try:
            inst.rmdir()
        except OSError:
            pass
        if mounted:
            unmount(root)
    return {"delays": delays, "trace_lost_events": False}


def pty_capacity(write_size: int) -> int:
    """Bytes a pty takes in before refusing, with nobody reading, written ``write_size`` at a time."""
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        tty.setraw(master)
        os.set_blocking(master, False)
        total = 0
        while True:
            try:
                n = os.write(master, b"U" * write_size)
            except BlockingIOError:
                break
            total += n
            if n < write_size:
                break
        return total
    finally:
        os.close(master)
        os.close(slave)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    a = ap.parse_args()
    caps = {n: pty_capacity(n) for n in (34, 142, 1024, 4122)}
    print("pty capacity with no reader (bytes taken before a write is refused), by write size: "
          + ", ".join(f"{n} B writes: {c:,}" for n, c in caps.items()))
    out = trace_flush_delays(a.seconds)
    d = sorted(out["delays"])
    if not d:
        print("no flush_to_ldisc work traced (no pty or serial input meanwhile?)")
        return 0
    ms = [x * 1e3 for x in d]
    print(f"flush_to_ldisc, queued -> started by a kworker, {len(ms):,} work items in {a.seconds:g} s: "
          f"median {ms[len(ms) // 2]:.2f} ms, p99 {ms[int(len(ms) * 0.99)]:.2f} ms, max {ms[-1]:.1f} ms, "
          f"{sum(x > 20 for x in ms)} over 20 ms, {sum(x > 100 for x in ms)} over 100 ms"
          + ("; the trace buffer overran (events lost)" if out["trace_lost_events"] else ""))
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
