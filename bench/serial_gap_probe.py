"""Where a serial gap under a CPU cap comes from: the emulated board, the pty, or the reader.

`bench_live_view.py --devices apart` runs its microcontroller emulators as child processes
(outside the cap with ``--devices-uncapped``, as a user's real boards cost the laptop nothing).
Under `slow_machine.py` one gap of 30–140 ms sometimes appeared in a serial stream at a random
moment. Three places can lose those bytes, and each leaves its own trace:

- **the emulator** is kept off the CPU (it is an ordinary process competing with the host's
  other jobs, while the capped group has the highest CPU weight): its firmware loop wakes late,
  then sends the whole stretch at once. A real UART would have sent it byte by byte meanwhile;
  written in one go it overfills the pty (a few KB, ~20 ms at 2 Mbaud) and the emulator drops
  what does not fit (`PtyLink` counts it: ``dropped_bytes``);
- **the reader** (sensorlab's reader process, inside the cap) does not empty the pty in time:
  the pty fills while the emulator keeps its pace, and the emulator again drops what does not
  fit, but with no late wake-up of its own before it;
- **the host side after the pty**: the bytes were read, but lost or corrupted later (the
  parser counts a sequence gap with no drop at the emulator).

So the board runs here, instrumented (``python bench/serial_gap_probe.py board KIND``): every
firmware-loop wake-up later than `STALL_S` and every write the pty refused (time, bytes) are
written as JSON to ``--stats`` when it is stopped; `explain` matches them with the gaps the
session file stores.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: A firmware-loop wake-up this much later than the previous one is a stall of the emulator
#: (it asks for 1–10 ms, plus a 0–20 ms USB-like hiccup 2 % of the time: at most 30 ms).
STALL_S = 0.035


def start_board(kind: str, drift_ppm: float, stats: Path) -> tuple[subprocess.Popen, str, int]:
    """An instrumented emulated board in a child process: ``(process, port, baud)``."""
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "board", kind, "--drift-ppm", str(drift_ppm),
                             "--stats", str(stats)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    words = proc.stdout.readline().split()  # "imu-radar on /dev/pts/N at 2000000 baud ..."
    return proc, words[2], int(words[4])


def _board(kind: str, drift_ppm: float, stats: str) -> None:
    from sensorlab.acquisition.clock import now
    from sensorlab.acquisition.emulated import mcu

    board = mcu.TextIMU(rate=100.0, drift_ppm=drift_ppm) if kind == "text-imu" else mcu.imu_radar_mcu(imu_rate=1000.0, drift_ppm=drift_ppm)
    link = board.link
    stalls: list[tuple[float, float]] = []  # (wake-up time, seconds since the previous pump)
    refused: list[tuple[float, int]] = []  # (time, bytes the pty did not take)
    last = [now()]
    pump, write = link.pump, link._write

    def timed_pump(t=None):
        t0 = now()
        if t0 - last[0] > STALL_S:
            stalls.append((t0, t0 - last[0]))
        last[0] = t0
        pump(t)

    def counted_write(data: bytes) -> None:
        before = link.dropped_bytes
        write(data)
        if link.dropped_bytes > before:
            refused.append((now(), link.dropped_bytes - before))

    link.pump, link._write = timed_pump, counted_write
    done = []
    signal.signal(signal.SIGTERM, lambda *_a: done.append(1))
    with board:
        print(f"{kind} on {board.port} at {board.baudrate} baud", flush=True)
        while not done:
            time.sleep(0.1)
    Path(stats).write_text(json.dumps({"kind": kind, "pid": os.getpid(), "stalls": stalls, "refused": refused,
                                       "dropped_bytes": link.dropped_bytes, "dropped_packets": link.dropped_packets}))  # fmt: skip


def cpu_cgroup(pid: int) -> str:
    """The cpu-controller cgroup of ``pid`` (v1 ``cpu`` line, else the v2 one)."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return "?"
    for line in lines:
        _hid, controllers, path = line.split(":", 2)
        if "cpu" in controllers.split(","):
            return path
    return next((ln.split(":", 2)[2] for ln in lines if ln.startswith("0::")), "?")


def throttling() -> dict[str, int]:
    """This process's cpu cgroup's throttling counters (v1 ``cpu.stat``; v2 in µs)."""
    group = cpu_cgroup(os.getpid())
    for path in (Path("/sys/fs/cgroup/cpu") / group.lstrip("/") / "cpu.stat", Path("/sys/fs/cgroup") / group.lstrip("/") / "cpu.stat"):
        try:
            return {k: int(v) for k, v in (ln.split() for ln in path.read_text().splitlines())}
        except (OSError, ValueError):
            continue
    return {}


def explain(gaps: dict[str, list], boards: list[dict], realtime: bool = False, margin: float = 0.2) -> list[str]:
    """One line per gap: what the emulator did just before it (see the module docstring).
    ``realtime``: the boards ran at real-time priority, so all of them late at once means the
    machine itself did not run (at normal priority the host's load may hold both)."""
    out = []
    for stream, spans in gaps.items():
        for a, b in spans:
            near = [bd for bd in boards if any(a - margin <= t <= b + margin for t, _n in bd["refused"])]
            if not near:
                out.append(f"{stream} gap {a:.3f}–{b:.3f} ({1000 * (b - a):.0f} ms): the pty took every byte → lost after it (host side)")
                continue
            bd = near[0]
            lost = sum(n for t, n in bd["refused"] if a - margin <= t <= b + margin)
            stall = [(t, s) for t, s in bd["stalls"] if a - margin - 0.3 <= t <= b + margin]
            if stall:
                t, s = max(stall, key=lambda ts: ts[1])
                # Every device thread late by the same time at once, at real-time priority:
                # the whole machine (the VM) did not run, not one process.
                others = [o["kind"] for o in boards if o is not bd and any(abs(t2 - t) < 0.02 and s2 > 0.5 * s for t2, s2 in o["stalls"])]
                why = f"emulator stalled {1000 * s:.0f} ms first (its catch-up overfilled the pty)"
                if others:
                    why += f", and {', '.join(others)} by as long at the same moment" + (": the whole machine stalled" if realtime else "")
            else:
                why = "no emulator stall: the reader did not empty the pty in time"
            out.append(f"{stream} gap {a:.3f}–{b:.3f} ({1000 * (b - a):.0f} ms): {bd['kind']} emulator's pty refused {lost} bytes; {why}")
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["board"])
    ap.add_argument("kind", choices=["imu-radar", "text-imu"])
    ap.add_argument("--drift-ppm", type=float, default=100.0)
    ap.add_argument("--stats", required=True)
    args = ap.parse_args()
    _board(args.kind, args.drift_ppm, args.stats)
