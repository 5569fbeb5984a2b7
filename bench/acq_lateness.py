"""How late each acquisition thread runs, beside the machine's own stops (issue 14 §2).

The goal "no acquisition thread waits more than 20 ms to run" is judged here on the threads
that take data from the devices, each measured its own way, not on a generic probe alone:

- **deadline lateness**, in the recording process: a thread that sleeps until a due time
  (the camera's grab, `PollingSource._sleep_until`) or hands over what is due (the emulated
  sound card calling `AudioSource._callback`, as PortAudio's thread would) is timed against
  that due time: the wait for a core *and* for the GIL;
- **hand-over lateness** of a serial source thread fed by its reader process: now minus the
  arrival stamp of the oldest block it takes (`ProcessReading._take`). The child holds those
  bytes, so this lateness delays the parsing, never the reading;
- **waiting for a core**, any thread of any process (the reader processes, the board host,
  the studio's threads): the kernel's run-queue delay (``/proc/PID/task/TID/schedstat``,
  second field) sampled every ~10 ms by a monitor process at real-time priority; a rise of
  more than 20 ms between two samples is a wait of at least ~10 ms ending there, and the
  largest rise bounds the longest wait;
- **the machine**: the monitor's own wake-up lateness after 2 ms sleeps (SCHED_FIFO in its
  own process: only the hypervisor, interrupts or a higher real-time task can hold it up),
  CPU steal time from ``/proc/stat`` (this is a VM: time the host ran something else), and
  the run-queue length (``procs_running``).

`LatenessMonitor` is the monitor's handle; `DeadlineTimers` wraps the recording process's
sources. Linux only (``/proc``).

A camera or microphone in a device process of its own (`ProcessSource`) is timed in that
process: importing this module names itself in ``SENSORLAB_BENCH_TIMERS``, which device
processes started afterwards read to wrap their source with `DeadlineTimers`; their figures
are reported under "device process: …".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np

from sensorlab.acquisition.clock import now

os.environ.setdefault("SENSORLAB_BENCH_TIMERS", os.path.abspath(__file__))  # device processes time themselves

#: The monitor process: lines "label path" on stdin add a thread to watch; end of stdin ends it.
_MONITOR = r"""
import json, os, select, sys, time
realtime = False
try:
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10)); realtime = True
except (OSError, AttributeError):
    pass
HZ = os.sysconf("SC_CLK_TCK")
watched = {}   # path -> [label, last run_delay ns, last timeslices, max delta ns, deltas over 20 ms, waits, slices]
late = []
steal_windows = []
runq = []
def stat():
    with open("/proc/stat") as f:
        cpu = f.readline().split()
        procs = next(int(l.split()[1]) for l in f if l.startswith("procs_running"))
    return int(cpu[8]), procs
def sched(path):
    with open(path) as f:
        v = f.read().split()
    return int(v[1]), int(v[2])
steal0, _ = stat(); steal_last = steal0; t_start = time.monotonic(); i = 0
buf = b""
while True:
    if select.select([0], [], [], 0)[0]:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for ln in lines:
            label, path = ln.decode().rsplit(" ", 1)
            try:
                d, s = sched(path)
            except OSError:
                continue
            watched[path] = [label, d, s, 0, 0, 0, 0]
    t0 = time.monotonic(); time.sleep(0.002); late.append(time.monotonic() - t0 - 0.002)
    i += 1
    if i % 5 == 0:
        steal, procs = stat(); runq.append(procs)
        for path, w in list(watched.items()):
            try:
                d, s = sched(path)
            except OSError:
                del watched[path]; continue
            delta = d - w[1]
            w[3] = max(w[3], delta); w[4] += delta > 20e6; w[5] += delta; w[6] += s - w[2]; w[1], w[2] = d, s
        if i % 50 == 0:
            steal_windows.append((steal - steal_last) / HZ); steal_last = steal
steal, _ = stat(); wall = time.monotonic() - t_start
late.sort()
threads = {}
for w in watched.values():
    t = threads.setdefault(w[0], {"threads": 0, "max_ms": 0.0, "over_20ms": 0, "wait_s": 0.0, "slices": 0})
    t["threads"] += 1; t["max_ms"] = max(t["max_ms"], w[3] / 1e6); t["over_20ms"] += w[4]; t["wait_s"] += w[5] / 1e9; t["slices"] += w[6]
print(json.dumps({"realtime": realtime, "seconds": wall, "late_max_ms": late[-1] * 1e3 if late else float("nan"),
                  "late_p99_ms": late[int(len(late) * 0.99)] * 1e3 if late else float("nan"),
                  "late_over_20ms": sum(x > 0.02 for x in late), "wakes": len(late),
                  "steal_s": (steal - steal0) / HZ, "steal_max_100ms_ms": max(steal_windows, default=0.0) * 1e3,
                  "runq_mean": sum(runq) / max(1, len(runq)), "runq_max": max(runq, default=0), "threads": threads}))
"""


class LatenessMonitor:
    """A monitor process at real-time priority: the machine's stops and each watched thread's
    waits for a core (see the module's docstring). `watch` threads, then `stop` for the figures."""

    def __init__(self):
        self._proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _MONITOR], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True)

    def watch(self, label: str, pid: int, tids: list[int] | None = None) -> None:
        """Watch ``pid``'s threads ``tids`` (default: all it has now) under ``label``."""
        if tids is None:
            try:
                tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
            except OSError:
                return
        for tid in tids:
            self._proc.stdin.write(f"{label} /proc/{pid}/task/{tid}/schedstat\n")
        self._proc.stdin.flush()

    def stop(self) -> dict:
        out, _ = self._proc.communicate(timeout=60)
        return json.loads(out.strip().splitlines()[-1])


def watch_recording(monitor: LatenessMonitor, sources, board_pid: int | None = None) -> None:
    """Watch the recording process's acquisition threads by their names, each serial source's
    reader process, and the emulated boards' host process (``board_pid``)."""
    names = {th.native_id: th.name for th in threading.enumerate()}
    pid = os.getpid()
    for tid, name in names.items():
        kind = thread_kind(name)
        if kind:
            monitor.watch(f"studio: {kind} (core)", pid, [tid])
    for src in sources:
        child = getattr(src, "reader_info", {}).get("pid")
        if child:
            monitor.watch("reader process (core)", child)
        device = getattr(src, "process_info", {}).get("pid")
        if device:
            monitor.watch("device process (core)", device)
    if board_pid:
        monitor.watch("board host (core)", board_pid)


def thread_kind(name: str) -> str:
    """The acquisition role of a thread of the recording process, by its name ('' if none)."""
    for prefix, kind in (("serial ", "serial source thread"), ("audio-", "audio worker"), ("source-", "device thread"),
                         ("emulated-mic", "sound card (emulated)"), ("mcu ", "in-process board"),
                         ("device process ", "device process hand-over thread")):
        if name.startswith(prefix):
            return kind
    return ""


class DeadlineTimers:
    """Lateness of the recording process's acquisition threads against their own due times."""

    def __init__(self):
        self.late: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._children: list = []  # sources in device processes (`ProcessSource`)

    def _note(self, label: str, seconds: float) -> None:
        with self._lock:
            self.late.setdefault(label, []).append(max(0.0, seconds))

    def wrap(self, sources) -> None:
        """Time every source it knows how: polling device threads (camera), emulated sound
        cards, serial sources fed by a reader process."""
        from sensorlab.acquisition.audio import AudioSource
        from sensorlab.acquisition.polling import PollingSource

        for src in sources:
            if hasattr(src, "bench_lateness"):  # a device process times its own threads
                src.bench_lateness(restart=True)
                self._children.append(src)
                self._wrap_emit(src, "device process -> studio (hand-over)")
            if isinstance(src, PollingSource):
                self._wrap_sleep(src, f"{type(src).__name__} grab (deadline)")
            if isinstance(src, AudioSource) and hasattr(src, "handover"):
                self._wrap_card(src, "sound card hand-over (deadline)")
            if hasattr(src, "_take") and hasattr(src, "reader_info"):
                self._wrap_take(src, "serial parse after the reader process (hand-over)")

    def _wrap_sleep(self, src, label: str) -> None:
        sleep_until = src._sleep_until

        def timed(t: float) -> bool:
            ok = sleep_until(t)
            if ok:
                self._note(label, now() - t)
            return ok

        src._sleep_until = timed

    def _wrap_card(self, src, label: str) -> None:
        callback, last = src._callback, [None, None]  # start of the previous hand-over, of the last block

        def timed(indata, frames, time_info, status):
            # The card hands over a burst of blocks every `handover` + up to `jitter` seconds
            # (the period's jitter by design); a burst starting later than that is late.
            t = now()
            if last[1] is None or t - last[1] > 0.001:  # a new burst
                if last[0] is not None:
                    self._note(label, t - last[0] - src.handover - src.jitter)
                last[0] = t
            last[1] = t
            return callback(indata, frames, time_info, status)

        src._callback = timed

    def _wrap_emit(self, src, label: str) -> None:
        emit = src._emit

        def timed(stream, chunk, arrival):
            # Now minus the arrival the child stamped: how long the chunk waited in the child
            # and the pipe for the studio to take it (delays the hand-over, not the grab).
            self._note(label, now() - arrival)
            return emit(stream, chunk, arrival)

        src._emit = timed

    def _wrap_take(self, src, label: str) -> None:
        take = src._take

        def timed(blocks):
            if blocks and getattr(src, "reader_info", {}).get("pid"):
                self._note(label, now() - blocks[0][1])
            return take(blocks)

        src._take = timed

    def summary(self) -> dict[str, dict]:
        with self._lock:
            out = {k: summarize(v) for k, v in self.late.items()}
        for src in self._children:
            for label, s in src.bench_lateness().items():
                out[f"device process: {label}"] = s
        return out


def summarize(late_s: list[float]) -> dict:
    a = np.asarray(late_s, dtype=float) * 1e3
    if not len(a):
        return {"n": 0, "p99_ms": float("nan"), "max_ms": float("nan"), "over_20ms": 0}
    return {"n": int(len(a)), "p99_ms": float(np.percentile(a, 99)), "max_ms": float(a.max()), "over_20ms": int((a > 20).sum())}


def board_host_pid() -> int | None:
    """The emulated boards' host process of this process, if one runs."""
    from sensorlab.acquisition.emulated import board_host

    host = board_host._host
    proc = getattr(host, "_proc", None) if host is not None else None
    return proc.pid if proc is not None and proc.poll() is None else None


def report_lines(deadlines: dict, probe: dict, monitor: dict, gc: dict | None = None, **kwargs) -> list[str]:
    """The per-thread table and the machine's stops, as printed by the benches."""
    rows = [f"  {'acquisition thread (how measured)':<58}{'p99 ms':>8}{'max ms':>9}  > 20 ms"]
    for label, s in sorted(deadlines.items()):
        rows.append(f"  {label:<58}{s['p99_ms']:>8.2f}{s['max_ms']:>9.1f}  {s['over_20ms']} of {s['n']:,}")
    if probe:
        rows.append(f"  {'probe thread, 2 ms sleeps (whole wait)':<58}{probe['p99_ms']:>8.2f}{probe['max_ms']:>9.1f}  {probe['over_20ms']} of {probe['n']:,}")
        cpu = probe.get("cpu")
        if cpu:
            rows.append(f"  {'  of it waiting for a core (schedstat)':<58}{cpu['p99_ms']:>8.2f}{cpu['max_ms']:>9.1f}  {cpu['over_20ms']} of {cpu['n']:,}")
            rows.append(f"  {'  of it the rest (the GIL)':<58}{probe['gil']['p99_ms']:>8.2f}{probe['gil']['max_ms']:>9.1f}  {probe['gil']['over_20ms']} of {probe['gil']['n']:,}")
    for label, t in sorted(monitor.get("threads", {}).items()):
        mean = 1e3 * t["wait_s"] / max(1, t["slices"])
        name = f"{label} x{t['threads']} threads"
        rows.append(f"  {name:<58}{mean:>8.2f}{t['max_ms']:>9.1f}  {t['over_20ms']} rises (mean wait a run, not p99)")
    pty = kwargs.get("pty_delivery")
    if pty:
        rows.append(f"  {'kernel: pty input queued -> kworker ran flush_to_ldisc (trace)':<58}{pty['p99_ms']:>8.2f}{pty['max_ms']:>9.1f}  {pty['over_20ms']} of {pty['n']:,}")
    if gc:
        rows.append("  garbage collection in the recording process (holds the GIL): " + "; ".join(
            f"gen {g}: {v['runs']} runs, longest {v['max_ms']:.1f} ms ({v.get('max_cpu_ms', float('nan')):.1f} ms CPU), {v['over_20ms']} over 20 ms"
            for g, v in sorted(gc.items())))
    if monitor:
        rows.append(f"  machine: real-time probe in its own process ({'SCHED_FIFO' if monitor['realtime'] else 'normal priority'}): "
                    f"p99 {monitor['late_p99_ms']:.2f} ms, max {monitor['late_max_ms']:.1f} ms, {monitor['late_over_20ms']} of {monitor['wakes']:,} over 20 ms")
        rows.append(f"  machine: CPU steal {monitor['steal_s']:.1f} s of {monitor['seconds']:.0f} s (both cores), at most "
                    f"{monitor['steal_max_100ms_ms']:.0f} ms in a 100 ms window; run queue mean {monitor['runq_mean']:.1f}, max {monitor['runq_max']}")
    return rows
