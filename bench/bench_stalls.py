"""Stalls under a busy machine: the demo rig recorded headless with a CPU hog beside it.

Run: ``python bench/bench_stalls.py [--seconds 60] [--hogs 1] [--json] [--no-bare] [--trace-pty]``.

The demo rig (`sensorlab.studio.demo.demo_rig`: camera, stereo microphone, IMU + radar and
EEG binary MCUs, a text IMU, the demo model) is recorded into an HDF5 session by a `Studio`,
as ``sensorlab record --demo`` does, while ``--hogs`` other processes each keep a core busy
(``while True: pass``). It reports:

- per stream, samples lost and *where*: on the device side (the emulated MCU refused them
  because its own TX buffer was full: it never sent them) and on the host side (its bytes
  did not fit into the pseudo-terminal because sensorlab did not read in time), from the
  emulators' own counts; beside them what sensorlab's counters saw (``dropped`` and, where
  the code has it, ``dropped_in_transit``);
- the longest wait of an acquisition-like thread to run: a probe thread sleeps 2 ms at a time
  (as a reader waits for bytes) and records how late it wakes, split into the wait for a core
  (the kernel's run-queue delay) and the rest (the GIL);
- each acquisition thread's own lateness (`acq_lateness.py`): the camera's grab and the sound
  card's hand-overs against their due times, the serial sources' hand-over from their reader
  processes, every acquisition thread's and process's waits for a core (the reader processes,
  the board host), beside the machine's own stops (a real-time probe in a process of its own,
  CPU steal time, the run queue) and the garbage collector's pauses; ``--trace-pty`` adds the
  kernel's own delay in handing pty input to its reader (`pty_worker_trace.py`, root).

The demo's emulated MCUs run in one process of their own (`emulated/board_host.py`), as
real hardware is independent of the host's load; before, they were threads *of this process*,
so a stall of the recording also stalled the "device", which then refused packets (device side).
"""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from sensorlab.acquisition.clock import now

sys.path.insert(0, str(Path(__file__).resolve().parent))
import acq_lateness  # noqa: E402 - each acquisition thread's own lateness, the machine's stops


class WakeProbe(threading.Thread):
    """Sleeps ``period`` at a time and records how late each wake-up is (seconds), and of that
    how long it waited for a core (the kernel's run-queue delay of this thread, Linux): the
    rest is the wait for the GIL (and timer slack, ~0.1 ms)."""

    def __init__(self, period: float = 0.002):
        super().__init__(name="wake probe", daemon=True)
        self.period = period
        self.late: list[float] = []
        self.cpu_wait: list[float] = []
        self.halt = threading.Event()

    def run(self) -> None:
        late, cpu_wait = self.late, self.cpu_wait
        try:
            stat = open(f"/proc/self/task/{threading.get_native_id()}/schedstat", "rb", buffering=0)
        except OSError:
            stat = None

        def run_delay() -> float:
            if stat is None:
                return 0.0
            stat.seek(0)
            return int(stat.read().split()[1]) / 1e9

        while not self.halt.is_set():
            d0 = run_delay()
            t0 = time.perf_counter()
            time.sleep(self.period)
            late.append(time.perf_counter() - t0 - self.period)
            cpu_wait.append(run_delay() - d0)
        if stat is not None:
            stat.close()

    def summary(self, start: int = 0) -> dict:
        """p99, max and count over 20 ms of the wake-ups from ``start`` on: whole, core, GIL."""
        from acq_lateness import summarize

        n = min(len(self.late), len(self.cpu_wait))
        late, cpu = np.array(self.late[start:n]), np.array(self.cpu_wait[start:n])
        return {**summarize(late), "cpu": summarize(cpu), "gil": summarize(np.maximum(0.0, late - cpu))}


#: The same probe in a process of its own: if it is late at the same moments, the machine
#: (the OS scheduler) held everything up, not something inside sensorlab's process.
_OUTSIDE_PROBE = """
import sys, time
late = []
end = time.perf_counter() + float(sys.argv[1])
while time.perf_counter() < end:
    t0 = time.perf_counter(); time.sleep(0.002); late.append(time.perf_counter() - t0 - 0.002)
late.sort()
print(late[-1] * 1e3, late[int(len(late) * 0.99)] * 1e3)
"""


class GcPauses:
    """Durations of the garbage collector's runs (each holds the GIL: every thread waits):
    wall time, and the collecting thread's CPU time (what the pass itself cost, without the
    time it was preempted while holding the GIL on a busy machine)."""

    def __init__(self):
        self.pauses: list[tuple[int, float]] = []
        self.cpu: list[tuple[int, float]] = []
        self._t = self._c = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t, self._c = time.perf_counter(), time.thread_time()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._t))
            self.cpu.append((info["generation"], time.thread_time() - self._c))

    def summary(self) -> dict:
        """Per generation: runs, longest pause (ms, wall and CPU), pauses over 20 ms (wall)."""
        return {g: {"runs": sum(1 for gg, _ in self.pauses if gg == g), "max_ms": 1e3 * max((d for gg, d in self.pauses if gg == g), default=0.0),
                    "max_cpu_ms": 1e3 * max((d for gg, d in self.cpu if gg == g), default=0.0),
                    "over_20ms": sum(1 for gg, d in self.pauses if gg == g and d > 0.02)} for g in (0, 1, 2)}


#: The floor: a bare reader process (select + os.read, no sensorlab) on a bare pty.
_BARE_READER = """
import os, select, sys, time, tty
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NOCTTY)
tty.setraw(fd)
last = time.perf_counter(); worst = 0.0; end = last + float(sys.argv[2])
while time.perf_counter() < end:
    if select.select([fd], [], [], 0.05)[0]:
        os.read(fd, 65536); t = time.perf_counter(); worst = max(worst, t - last); last = t
print(worst * 1e3)
"""


def bare_pty(seconds: float, hogs: int, rate: float = 100_000.0) -> dict:
    """The same byte rate as the demo's IMU + radar link through a bare pty to a bare reader
    process, beside the same hogs: what the OS alone loses (the writer drops what does not fit)."""
    import os
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    os.set_blocking(master, False)
    reader = subprocess.Popen([sys.executable, "-c", _BARE_READER, os.ttyname(slave), str(seconds + 0.5)], stdout=subprocess.PIPE, text=True)
    hog_procs = [_hog() for _ in range(hogs)]
    sent = dropped = 0
    try:
        time.sleep(0.3)
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            time.sleep(0.005)
            due = int((time.perf_counter() - t0) * rate) - sent - dropped
            if due > 0:
                try:
                    n = os.write(master, b"U" * due)
                except BlockingIOError:
                    n = 0
                sent, dropped = sent + n, dropped + due - n
        worst = float(reader.communicate(timeout=30)[0])
    finally:
        for h in hog_procs:
            h.kill()
            h.wait(5)
        os.close(master)
        os.close(slave)
    return {"sent": sent, "dropped": dropped, "worst_gap_ms": worst}


def _trace_pty_delivery(seconds: float):
    """The kernel's pty hand-over delays over ``seconds`` (pty_worker_trace.py), in a thread:
    (thread, result dict filled when it ends)."""
    import pty_worker_trace

    out: dict = {}

    def trace():
        try:
            out.update(pty_worker_trace.trace_flush_delays(seconds))
        except (OSError, SystemExit) as e:
            out["error"] = str(e)

    th = threading.Thread(target=trace, name="pty trace", daemon=True)
    th.start()
    return th, out


def _hog() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def _serial_sources(sources) -> list:
    from sensorlab.acquisition.emulated.serial_device import EmulatedSerialSource

    return [s for s in sources if isinstance(s, EmulatedSerialSource)]


def measure(seconds: float, hogs: int, warmup: float = 3.0, trace_pty: bool = False) -> dict:
    from sensorlab.studio.demo import demo_rig
    from sensorlab.studio.studio import Studio

    sources = demo_rig().build_sources()
    serials = _serial_sources(sources)
    hog_procs = [_hog() for _ in range(hogs)]
    studio = Studio(preroll=0)
    probe = WakeProbe()
    gc_pauses = GcPauses()
    outside = None
    try:
        errors = studio.open(sources)
        if errors:
            raise RuntimeError(f"devices failed to open: {errors}")
        gc.callbacks.append(gc_pauses)  # from here on devices run: any pause is one they wait for
        with tempfile.TemporaryDirectory() as tmp:
            studio.start_recording(Path(tmp) / "stalls.h5")
            time.sleep(warmup)  # devices' warm-up, first flushes
            base = {s: (s.mcu.link.dropped_packets, s.mcu.link.dropped_bytes) for s in serials}
            stats0 = {n: (st.samples, st.dropped, getattr(st, "dropped_in_transit", 0), st.overflows) for n, st in studio.stats.items()}
            outside = subprocess.Popen([sys.executable, "-c", _OUTSIDE_PROBE, str(seconds)], stdout=subprocess.PIPE, text=True)
            deadlines = acq_lateness.DeadlineTimers()
            deadlines.wrap(sources)
            monitor = acq_lateness.LatenessMonitor()
            acq_lateness.watch_recording(monitor, sources, acq_lateness.board_host_pid())
            probe.start()
            kernel = _trace_pty_delivery(seconds) if trace_pty else None
            t0 = now()
            time.sleep(seconds)
            wall = now() - t0
            probe.halt.set()
            lateness = {"deadlines": deadlines.summary(), "probe": probe.summary(), "monitor": monitor.stop(), "gc": gc_pauses.summary()}
            if kernel is not None:
                kernel[0].join(30)
                lateness["pty_delivery"] = acq_lateness.summarize(kernel[1].get("delays", []))
            stats1 = {n: (st.samples, st.dropped, getattr(st, "dropped_in_transit", 0), st.overflows) for n, st in studio.stats.items()}
            links = {}
            for s in serials:
                p0, b0 = base[s]
                links[s.mcu.port] = {
                    "streams": [st.name for st in s.streams],
                    "reader": "process" if s.reader_info.get("pid") else "thread",
                    "device_refused_packets": s.mcu.link.dropped_packets - p0,
                    "pty_overflow_bytes": s.mcu.link.dropped_bytes - b0,
                }
            studio.stop_recording()
            gc.callbacks.remove(gc_pauses)
    finally:
        probe.halt.set()
        if gc_pauses in gc.callbacks:
            gc.callbacks.remove(gc_pauses)
        studio.close()
        for h in hog_procs:
            h.kill()
            h.wait(5)
    out_max, out_p99 = (float(v) for v in outside.communicate(timeout=30)[0].split()) if outside else (float("nan"),) * 2
    gc_max = {g: max((d for gg, d in gc_pauses.pauses if gg == g), default=0.0) * 1e3 for g in (0, 1, 2)}
    late = np.array(probe.late) * 1e3
    per_stream = {}
    for n, (s1, d1, t1, o1) in stats1.items():
        s0, d0, t0_, o0 = stats0.get(n, (0, 0, 0, 0))
        per_stream[n] = {"samples": s1 - s0, "dropped": d1 - d0, "in_transit": t1 - t0_, "overflows": o1 - o0}
    return {
        "seconds": wall,
        "streams": per_stream,
        "links": links,
        "wake_max_ms": float(late.max()) if len(late) else float("nan"),
        "wake_p99_ms": float(np.percentile(late, 99)) if len(late) else float("nan"),
        "wake_over_20ms": int((late > 20).sum()),
        "wakes": len(late),
        "outside_max_ms": out_max,
        "outside_p99_ms": out_p99,
        "gc_max_ms": gc_max,
        "gc_runs": len(gc_pauses.pauses),
        "lateness": lateness,
    }


def run(seconds: float = 60.0, hogs: int = 1, bare_floor: bool = True, trace_pty: bool = False) -> list[dict]:
    m = measure(seconds, hogs, trace_pty=trace_pty)
    bare = bare_pty(seconds, hogs) if bare_floor else {"sent": 0, "dropped": 0, "worst_gap_ms": float("nan")}
    lost = {n: s for n, s in m["streams"].items() if s["dropped"] or s["overflows"]}
    lost_text = ", ".join(f"{n} {s['dropped']} ({s['in_transit']} in transit)" + (f" +{s['overflows']} overflows" if s["overflows"] else "") for n, s in lost.items()) or "none"
    device = sum(v["device_refused_packets"] for v in m["links"].values())
    host = sum(v["pty_overflow_bytes"] for v in m["links"].values())
    for line in acq_lateness.report_lines(**m["lateness"]):
        print(line)
    return [
        {
            "benchmark": f"stalls: demo rig recorded {m['seconds']:.0f} s beside {hogs} CPU hog(s): samples lost (sensorlab's counters)",
            "value": lost_text,
            "baseline": f"emulators: {device} packets refused device-side, {host} bytes overflowed the pty host-side",
            "ratio": "",
            "goal": "0 host-side",
        },
        {
            "benchmark": "stalls: bare pty, 100 kB/s to a bare reader process (no sensorlab) beside the same hog(s)",
            "value": f"{bare['dropped']:,} of {bare['sent'] + bare['dropped']:,} bytes did not fit; longest reader gap {bare['worst_gap_ms']:.0f} ms",
            "baseline": "",
            "ratio": "",
            "goal": "(the OS's floor)",
        },
        {
            "benchmark": "stalls: acquisition-like thread, wake-up lateness after a 2 ms sleep",
            "value": f"max {m['wake_max_ms']:.1f} ms, p99 {m['wake_p99_ms']:.2f} ms, {m['wake_over_20ms']} of {m['wakes']} over 20 ms; "
            f"longest GC pause {max(m['gc_max_ms'].values()):.1f} ms",
            "baseline": f"same probe in another process: max {m['outside_max_ms']:.1f} ms, p99 {m['outside_p99_ms']:.2f} ms",
            "ratio": "",
            "goal": "max <= 20 ms",
        },
    ]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--hogs", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the raw measurement")
    ap.add_argument("--no-bare", action="store_true", help="skip the bare-pty floor (it takes as long again)")
    ap.add_argument("--trace-pty", action="store_true",
                    help="also trace the kernel's pty hand-over (flush_to_ldisc) delays meanwhile (root, tracefs; pty_worker_trace.py)")
    a = ap.parse_args()
    if a.json:
        import json

        bare = {} if a.no_bare else {"bare_pty": bare_pty(a.seconds, a.hogs)}
        print(json.dumps({**measure(a.seconds, a.hogs, trace_pty=a.trace_pty), **bare}, indent=1))
    else:
        for row in run(a.seconds, a.hogs, not a.no_bare, a.trace_pty):
            print(f"{row['benchmark']}\n    {row['value']}\n    baseline: {row['baseline']}")
