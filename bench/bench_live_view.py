"""Live view under load: frames per second, age of the newest sample on screen, drops, CPU.

Opens the real studio window (offscreen Qt) on the full demo rig (camera 640×480 @ 30 fps,
stereo audio 48 kHz, 16 channels at 1 kHz, radar 64×32 @ 20 Hz) and measures two phases of
``--seconds`` each in the same run:

- **baseline**: devices and live view running, not recording;
- **recording**: the same while the recorder writes every stream to an HDF5 file.

What is measured (per phase):

- *fps*: new frames painted per second (a live-view refresh that reached the top time plot's
  paint event; repaints of the same frame are not counted);
- *age of the newest sample on screen*: at each paint, host now minus the newest sample
  timestamp drawn on any time plot (median and 95th percentile, ms);
- *dropped samples*: source-reported dropped samples plus driver overflows, all streams;
- *CPU*: the process, % of one core; and CPU milliseconds per painted frame, for the whole
  process and for the GUI thread alone (which paints). CPU time per frame barely moves with
  other load on the machine, unlike fps, so compare changes with it.

- *where the GUI thread's time went besides its own CPU*, per painted frame: waiting for a
  core (the kernel's run-queue delay, `/proc/self/task/PID/schedstat`) and waiting for the
  GIL (the rest of the wall time spent in the event loop's work, which never sleeps);
- *the process's CPU per frame by thread kind*: the emulated devices (a user's real devices
  cost this process nothing), sensorlab's readers and processors, the recorder.
- *the pacing*: the view's mean refresh period (ms) and level of detail over the phase, so a
  low fps can be told apart: the view chose a longer period (its GUI thread was over budget),
  or frames were late at the period it asked for (waiting for the GIL or a core).

``--profile FILE`` also writes a cProfile of the GUI thread during the recording phase (and the baseline's to FILE.baseline);
``--threads`` prints each thread's CPU ms (and wake-ups) per second of rig data in both phases
(``python -m pstats FILE``). ``--devices inside|apart`` runs a smaller rig with its emulators
in this process or in child processes (see `DEVICES`); with ``apart`` the boards are
instrumented and every serial gap of the file is explained (`serial_gap_probe`), and under
``bench/slow_machine.py`` ``--devices-uncapped`` moves the device processes out of the CPU cap,
at real-time priority (``--devices-uncapped normal``: at normal priority, see `_uncap`). ``--hogs N`` keeps N other processes
busy on a core each meanwhile (``while True: pass``) and ``--record-only`` skips the baseline:
``--seconds 600 --hogs 1 --record-only`` is issue 14 §2's setting (the studio open, the demo
rig recording, one core saturated, 10 minutes). The recording phase also reports the samples
lost per stream as the file stores them (all, and of those lost in transit: sent by the device,
not read in time) and a probe thread that sleeps 2 ms at a time, as a device reader waits for
bytes, and records how late it wakes (the GIL and the scheduler; the same probe as
bench_stalls.py's headless run), and each acquisition thread's own lateness beside the
machine's stops (`acq_lateness.py`; ``--trace-pty``: the kernel's pty hand-over too).

Goals (issues 3 and 14): ≥ 60 fps on a fast machine (≥ 20 on a 3× slower one), newest sample
≤ 50 ms old, 0 dropped samples while recording.

Run: ``python bench/bench_live_view.py [--seconds 8]``; ``run()`` is used by bench/run_all.py.
The measurement runs in a child process so Qt and the devices start and stop cleanly.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench_stalls import GcPauses, WakeProbe, _trace_pty_delivery  # noqa: E402 - the same acquisition-like probe as the headless bench
import host_load  # noqa: E402 - what else held the host's cores meanwhile
import acq_lateness  # noqa: E402 - each acquisition thread's own lateness, the machine's stops
from serial_gap_probe import cpu_cgroup, explain, start_board, throttling  # noqa: E402
GOALS = {"fps": ">= 60", "age_p50_ms": "<= 50", "age_p95_ms": "<= 50", "dropped": "0", "cpu_percent": "(report)",
         "cpu_ms_per_frame": "(report)", "gui_ms_per_frame": "(report)"}
#: Further figures printed (not in bench/run_all.py's table): where the process's CPU per frame
#: went, and how long the GUI thread waited per frame for the GIL and for a core.
DETAILS = ("gil_wait_ms_per_frame", "runq_ms_per_frame", "cpu_ms_per_frame_emulators", "cpu_ms_per_frame_acquisition",
           "cpu_ms_per_frame_recorder", "cpu_ms_per_frame_other", "gui_preempted_per_frame", "major_faults_per_frame", "wakeups_acquisition_per_s", "wakeups_recorder_per_s",
           "wakeups_emulators_per_s", "wakeups_other_per_s", "period_ms", "detail", "budget", "quota_used", "throttled", "load")


#: ``--devices``: the full demo rig (its emulators are threads of the studio's process), or
#: a smaller rig (camera, stereo microphone, IMU + radar, text IMU) with its emulators either
#: inside the process as in the demo, or *apart*: the camera an MJPEG-over-HTTP stream from a
#: child process read with OpenCV, the microcontrollers child processes on pseudo-terminals,
#: as a user's real devices are; the microphone stays a callback thread in both (as a real
#: one is). Comparing *inside* with *apart* shows what the emulators cost the GUI thread.
DEVICES = ("demo", "inside", "apart")


def _sources(devices: str, children: list, tmp: Path) -> tuple[str, list]:
    """``(rig_text, sources)`` for ``devices`` (child processes started go into ``children``;
    the boards' own counters are written to ``tmp``, see `serial_gap_probe`)."""
    from sensorlab.app.main import demo_rig_and_sources

    if devices == "demo":
        return demo_rig_and_sources()
    from sensorlab.acquisition.emulated.rig import demo_rig

    rig = demo_rig(eeg=False, text_imu=True)
    if devices == "inside":
        return rig.to_toml(), rig.build_sources()
    from sensorlab.acquisition.camera import CameraSource
    from sensorlab.acquisition.emulated import mcu
    from sensorlab.acquisition.emulated.microphone import EmulatedMicrophone
    from sensorlab.acquisition.emulated.mjpeg_server import start_process
    from sensorlab.acquisition.emulated.world import shared_world
    from sensorlab.acquisition.serial.port import SerialSource

    camera, url = start_process(fps=30.0)
    children.append(camera)

    def board(kind: str, drift: float) -> tuple[str, int]:
        # Instrumented: its late wake-ups and the bytes its pty refused tell where a gap came from.
        proc, port, baud = start_board(kind, drift, tmp / f"board-{kind}.json")
        children.append(proc)
        return port, baud

    imu_port, imu_baud = board("imu-radar", 100.0)
    wrist_port, wrist_baud = board("text-imu", 30.0)
    sources = [
        CameraSource(url, fps=30, name="camera"),
        EmulatedMicrophone(shared_world(), 48000, 2, name="mic", drift_ppm=20.0),
        SerialSource(imu_port, imu_baud, "binary"),
        SerialSource(wrist_port, wrist_baud, "text", name="wrist", nominal_rate=100.0, channel_names=mcu.IMU_CHANNELS,
                     units=mcu.IMU_UNITS),
    ]
    return "", sources


def _uncap(children: list, priority: str = "realtime") -> None:
    """Move the device processes out of this process's CPU-capped cgroup (``bench/slow_machine.py``):
    on a slow laptop a user's real camera and boards cost its CPU nothing; the emulators that
    stand in for them should not either."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        hid, controllers, _ = line.split(":", 2)
        names = [c for c in ("cpu", "cpuacct") if c in controllers.split(",")] or (["unified"] if hid == "0" else [])
        for name in names:
            root = Path("/sys/fs/cgroup") if name == "unified" and (Path("/sys/fs/cgroup") / "cgroup.controllers").exists() else Path("/sys/fs/cgroup", name)
            for child in children:
                try:
                    (root / "cgroup.procs").write_text(str(child.pid))
                except OSError:
                    pass
    # Nor do real devices wait for the host's CPU: outside the cap but at normal priority, the
    # emulators competed with every other job on the host (the capped group comes first), were
    # kept off the CPU for up to ~0.2 s, and then wrote the whole stretch into the pty at once,
    # which holds ~20 ms at 2 Mbaud: the rest was dropped, one serial gap of 30–140 ms at a
    # random moment (bench/serial_gap_probe.py tells the cases apart). A UART sends on its own
    # clock, so the emulators run at real-time priority here, every thread (they sleep between
    # packets and frames: ~30 % of a core in all, half of it the camera's JPEG encoding).
    # Not enough: nice -20 (still held 170–305 ms, serial losses in 3 of 3 runs).
    for child in children if priority == "realtime" else ():
        for tid in _threads(child.pid):
            try:
                os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(DEVICE_RT_PRIORITY))
            except OSError:
                pass


#: Real-time priority of the emulated devices with ``--devices-uncapped`` (above sensorlab's
#: own reader process, 5: the device writes first, as hardware would).
DEVICE_RT_PRIORITY = 10


def _threads(pid: int) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def _measure(seconds: float, profile: str | None = None, devices: str = "demo", hogs: int = 0, record_only: bool = False) -> dict:
    """Child process: run both phases (``record_only``: the recording one) and return the figures."""
    import numpy as np
    import psutil
    from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from sensorlab.acquisition.clock import now
    from sensorlab.app.common import theme
    from sensorlab.app.studio.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix="sensorlab-bench-"))
    app = QApplication([])
    theme.apply(app)
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("session/folder", str(tmp / "sessions"))
    children: list[subprocess.Popen] = []
    rig_text, sources = _sources(devices, children, tmp)
    if os.environ.get("BENCH_DEVICES_UNCAPPED"):
        _uncap(children, os.environ["BENCH_DEVICES_UNCAPPED"])
    w = MainWindow(sources, rig_text=rig_text, settings=settings)
    w.resize(1400, 900)
    w.show()
    proc = psutil.Process()

    class PaintProbe(QObject):
        def __init__(self):
            super().__init__()
            self.ages: list[float] = []
            self.times: list[float] = []
            self.last_frame = -1

        def eventFilter(self, obj, event):
            # Count a frame once, at its first paint: Qt may paint a view in several passes.
            if event.type() == QEvent.Type.Paint and w.live_view is not None and w.live_view.frames != self.last_frame:
                self.last_frame = w.live_view.frames
                t = now()
                newest = max(p.newest for p in w.live_view.time_panels)
                if np.isfinite(newest):
                    self.ages.append(t - newest)
                    self.times.append(t)
            return False

    import time as _t

    # GUI thread time spent in the event loop's work (processEvents, which never sleeps):
    # wall, CPU, and waiting for a core (the kernel's run-queue delay). What is left of the
    # wall time is waiting for the GIL, held by another thread of this process.
    gil = {"wall": 0.0, "cpu": 0.0, "runq": 0.0}

    def runq() -> float:
        try:
            with open(f"/proc/self/task/{os.getpid()}/schedstat") as f:
                return int(f.read().split()[1]) / 1e9
        except OSError:
            return 0.0

    def process_events() -> None:
        w0, c0, r0 = _t.perf_counter(), _t.thread_time(), runq()
        app.processEvents()
        gil["wall"] += _t.perf_counter() - w0
        gil["cpu"] += _t.thread_time() - c0
        gil["runq"] += runq() - r0

    #: The live view's refresh period and level of detail (its pacing), sampled through a phase.
    pacing: list[tuple[int, int, float, float, float]] = []

    def wait(ms: int) -> None:
        loop_end = now() + ms / 1000
        while now() < loop_end:
            if w.live_view is not None:
                v = w.live_view
                room = getattr(v, "room", None)  # the budget's inputs (older code had none)
                used = room.used if room is not None and room.used is not None else float("nan")
                pacing.append((v.timer.interval(), v.detail, getattr(v, "budget", float("nan")), used, room.throttled if room else float("nan")))
            process_events()
            QTimer.singleShot(5, lambda: None)
            process_events()
            _t.sleep(0.002)

    def drops() -> int:
        return sum(st.dropped + st.overflows for st in w.acquisition.stats.values())

    def gui_cpu() -> float:
        # The GUI thread is the process's main thread: its Linux thread id is the pid.
        return next((th.user_time + th.system_time for th in proc.threads() if th.id == proc.pid), float("nan"))

    def thread_cpu() -> dict[str, float]:
        """CPU seconds per kind of thread: the emulated devices (which a user's real devices
        do not cost this process), sensorlab's readers and processors, the recorder."""
        import threading

        names = {th.native_id: th.name for th in threading.enumerate()}
        out = {"gui": 0.0, "emulators": 0.0, "acquisition": 0.0, "recorder": 0.0, "other": 0.0}
        out.update({f"wakeups_{k}": 0.0 for k in list(out)})
        for th in proc.threads():
            name = names.get(th.id, "")
            # Each thread by name too (several of a name are added up): `--threads` prints them.
            key = f"thread {name or th.id}"
            out[key] = out.get(key, 0.0) + th.user_time + th.system_time
            wkey = f"wakes {name or th.id}"
            out[wkey] = out.get(wkey, 0.0) + host_load.wakeups(th.id)
            if th.id == proc.pid:
                kind = "gui"
            elif name.startswith(("mcu ", "emulated-mic", "source-emulated", "vmic")):
                kind = "emulators"
            elif name.startswith(("serial ", "audio-", "processor-", "source-", "lsl-")):
                kind = "acquisition"
            elif name.startswith("recorder"):
                kind = "recorder"
            else:
                kind = "other"
            out[kind] += th.user_time + th.system_time
            # Wake-ups (voluntary context switches): each one takes the GIL again, and a
            # thread that wakes while the GUI thread runs Python makes it hand the GIL over.
            out[f"wakeups_{kind}"] = out.get(f"wakeups_{kind}", 0.0) + host_load.wakeups(th.id)
        return out

    def phase(prof=None, name: str = "") -> dict:
        mark(f"{name} start")
        probe = PaintProbe()
        viewport = w.live_view.time_panels[0].graphics.viewport()
        viewport.installEventFilter(probe)
        d0, c0, g0, k0 = drops(), proc.cpu_times(), gui_cpu(), thread_cpu()
        h0 = host_load.snapshot()
        gil0 = dict(gil)
        pacing.clear()
        t0 = now()
        if prof is not None:
            prof.enable()
        wait(int(seconds * 1000))
        if prof is not None:
            prof.disable()
        t1 = now()
        mark(f"{name} end")
        c1, g1, k1 = proc.cpu_times(), gui_cpu(), thread_cpu()
        host = host_load.delta(h0, host_load.snapshot())
        waited = {k: gil[k] - gil0[k] for k in gil}
        viewport.removeEventFilter(probe)
        ages = np.array(probe.ages) * 1000
        cpu_s = (c1.user - c0.user) + (c1.system - c0.system)
        cpu = 100 * cpu_s / (t1 - t0)
        frames = max(1, len(probe.times))
        return {
            "fps": len(probe.times) / (t1 - t0),
            "age_p50_ms": float(np.median(ages)) if len(ages) else float("nan"),
            "age_p95_ms": float(np.percentile(ages, 95)) if len(ages) else float("nan"),
            "dropped": drops() - d0,
            "cpu_percent": cpu,
            "cpu_ms_per_frame": 1000 * cpu_s / frames,
            "gui_ms_per_frame": 1000 * (g1 - g0) / frames,
            "gil_wait_ms_per_frame": 1000 * max(0.0, waited["wall"] - waited["cpu"] - waited["runq"]) / frames,
            "runq_ms_per_frame": 1000 * waited["runq"] / frames,
            **{key: float(np.mean([p[i] for p in pacing])) if pacing else float("nan")
               for i, key in enumerate(("period_ms", "detail", "budget", "quota_used", "throttled"))},
            "load": os.getloadavg()[0],
            **{f"cpu_ms_per_frame_{k}": 1000 * (k1[k] - k0[k]) / frames for k in k1 if k != "gui" and not k.startswith(("wakeups_", "thread ", "wakes "))},
            # CPU ms per second of rig data by thread: unlike per frame, it does not move with fps.
            "threads_ms_per_s": {k[7:]: 1000 * (k1[k] - k0.get(k, 0.0)) / (t1 - t0) for k in k1 if k.startswith("thread ")},
            # ... and its wake-ups a second (voluntary context switches: waits for input, and for the GIL)
            "threads_wakeups_per_s": {k[6:]: (k1[k] - k0.get(k, 0.0)) / (t1 - t0) for k in k1 if k.startswith("wakes ")},
            "cpu_ms_per_s": 1000 * cpu_s / (t1 - t0),
            **{f"{k}_per_s": (k1[k] - k0.get(k, 0.0)) / (t1 - t0) for k in k1 if k.startswith("wakeups_")},
            "gui_preempted_per_frame": host["gui_involuntary_switches"] / frames,
            "major_faults_per_frame": host["major_faults"] / frames,
            "host": host,
        }

    def mark(text: str) -> None:
        # BENCH_PHASE_FILE: the phases' start and end, for a sampling profiler attached from
        # outside (py-spy record --pid ... while a phase runs; bench/profile_live_view.sh).
        if os.environ.get("BENCH_PHASE_FILE"):
            with open(os.environ["BENCH_PHASE_FILE"], "a") as f:
                f.write(f"{os.getpid()} {text}\n")

    ready = []
    w.acquisition_ready.connect(lambda: ready.append(1))
    deadline = now() + 30
    while not ready and now() < deadline:
        wait(50)
    if not ready:
        raise SystemExit("the demo rig did not open within 30 s")
    # Other programs keeping cores busy (issue 14 §2: the studio open, the demo rig recording,
    # one core saturated), and a probe thread that sleeps 2 ms at a time as a device reader
    # waits for bytes and records how late it wakes (the GIL and the scheduler).
    for _ in range(hogs):
        children.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
    probe = WakeProbe()
    if not os.environ.get("BENCH_NO_WAKE_PROBE"):
        probe.start()
    wait(2000)  # warm-up: caches, first spectrogram columns
    prof = None
    if profile and not record_only:
        import cProfile
        import time as _time

        prof = cProfile.Profile(_time.thread_time)
    baseline = None if record_only else phase(prof, name="baseline")
    if prof is not None:
        prof.dump_stats(f"{profile}.baseline")
    started, stopped = [], []
    w.recording_started.connect(started.append)
    w.recording_stopped.connect(stopped.append)
    recorded_from = now()  # the file's span, for the boards' figures (the phase is inside it)
    w.start_recording()
    while not started and now() < deadline + 30:
        wait(50)
    wait(1000)
    prof = None
    if profile:
        import cProfile
        import time as _time

        prof = cProfile.Profile(_time.thread_time)  # CPU time: wall time would count the load
    probe_from = len(probe.late)
    throttled0 = throttling()
    # Each acquisition thread's own lateness (acq_lateness.py): against its due times in this
    # process, and its waits for a core (every process) seen by a real-time monitor process.
    deadlines = acq_lateness.DeadlineTimers()
    deadlines.wrap(w.acquisition.sources)
    counted0 = {n: (st.dropped, st.dropped_in_transit, st.overflows) for n, st in w.acquisition.stats.items()}
    monitor = acq_lateness.LatenessMonitor()
    acq_lateness.watch_recording(monitor, w.acquisition.sources, acq_lateness.board_host_pid())
    import gc

    gc_pauses = GcPauses()  # each collection holds the GIL: every thread of the studio waits
    gc.callbacks.append(gc_pauses)
    kernel = _trace_pty_delivery(seconds) if os.environ.get("BENCH_TRACE_PTY") else None
    recording = phase(prof, "recording")
    gc.callbacks.remove(gc_pauses)
    recording["lateness"] = {"deadlines": deadlines.summary(), "probe": probe.summary(probe_from), "monitor": monitor.stop(),
                             "gc": gc_pauses.summary()}
    if kernel is not None:
        kernel[0].join(30)
        recording["lateness"]["pty_delivery"] = acq_lateness.summarize(kernel[1].get("delays", []))
    throttled1 = throttling()
    recording["throttled_periods"] = {k: throttled1[k] - throttled0.get(k, 0) for k in throttled1}
    late = np.array(probe.late[probe_from:]) * 1000
    recording["probe_wakeups"] = len(late)
    recording["probe_late_max_ms"] = float(late.max()) if len(late) else float("nan")
    recording["probe_late_over_20ms"] = int((late > 20).sum())
    if prof is not None:
        prof.dump_stats(profile)
    # The live counters over the measured stretch: what was lost even when the stop of a
    # starved studio does not finish in time for the file to be read.
    live_losses = {n: [st.dropped - counted0.get(n, (0, 0, 0))[0], st.dropped_in_transit - counted0.get(n, (0, 0, 0))[1],
                       st.overflows - counted0.get(n, (0, 0, 0))[2]] for n, st in w.acquisition.stats.items()}  # fmt: skip
    live_losses = {n: v for n, v in live_losses.items() if any(v)}
    w.stop_recording()
    end = now() + 60
    while not stopped and now() < end:
        wait(50)
    recorded_to = now()
    streams, losses, gaps = {}, {}, {}
    if stopped:
        from sensorlab.session.reader import Session

        with Session.open(stopped[0]) as s:
            streams = {name: r.count for name, r in s.streams.items()}
            losses = {name: (r.stats.dropped, r.stats.dropped_in_transit) for name, r in s.streams.items() if r.stats.dropped}
            # Serial streams only (their boards are the instrumented ones, --devices apart).
            serial = {i.name for src in w.acquisition.sources if hasattr(src, "reader_info") for i in src.streams}
            gaps = {name: r.gaps.tolist() for name, r in s.streams.items() if r.stats.dropped and name in serial}
    errors = {k: v.error for k, v in w.acquisition.stats.items() if v.error}
    # Which processes the CPU cap holds (bench/slow_machine.py): the studio, its serial reader
    # processes, the device processes (outside it with --devices-uncapped).
    readers = {getattr(src, "port", "?"): dict(getattr(src, "reader_info", {})) for src in w.acquisition.sources if hasattr(src, "reader_info")}
    cgroups = {"studio": cpu_cgroup(os.getpid()),
               **{f"reader {n}": cpu_cgroup(info["pid"]) + (" (SCHED_FIFO)" if info.get("realtime") else "") for n, info in readers.items() if "pid" in info},
               **{f"device {c.pid} {Path(str(c.args[1])).name if isinstance(c.args, list) else ''}": cpu_cgroup(c.pid) for c in children}}
    w.close()
    for child in children:
        child.terminate()
        child.wait(10)
    boards = [json.loads(p.read_text()) for p in sorted(tmp.glob("board-*.json"))]
    probe.halt.set()
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)  # the session recorded (tens of MB a run) and settings
    return {"baseline": baseline, "recording": recording, "file_samples": streams, "losses": losses, "live_losses": live_losses, "errors": errors,
            "streams": list(w.acquisition.streams) if w.acquisition else [], "gaps": explain(gaps, boards, realtime=os.environ.get("BENCH_DEVICES_UNCAPPED") == "realtime") if boards else [], "cgroups": cgroups,
            "boards": [_board_summary(b, recorded_from, recorded_to) for b in boards]}


def _board_summary(board: dict, t0: float, t1: float) -> dict:
    """An emulated board's late wake-ups and refused bytes while recording (`serial_gap_probe`)."""
    stalls = [s for t, s in board["stalls"] if t0 <= t <= t1]
    return {"kind": board["kind"], "stalls_over_35ms": len(stalls), "longest_stall_ms": round(1000 * max(stalls, default=0.0), 1),
            "pty_refused_bytes": sum(n for t, n in board["refused"] if t0 <= t <= t1)}


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def measure(seconds: float = 8.0, profile: str | None = None, devices: str = "demo", hogs: int = 0, record_only: bool = False) -> dict:
    """Run the measurement in a child process and return its figures."""
    extra = (["--profile", profile] if profile else []) + ["--devices", devices, "--hogs", str(hogs)] + (["--record-only"] if record_only else [])
    out = subprocess.run([sys.executable, __file__, "--child", "--seconds", str(seconds), *extra], env=_child_env(),
                         capture_output=True, text=True, timeout=seconds * 2 + 180)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"bench_live_view child failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def run(seconds: float = 8.0) -> list[dict]:
    """Rows for bench/run_all.py: recording (value) next to not recording (baseline)."""
    m = measure(seconds)
    rows = []
    names = {"fps": "live view fps while recording the demo rig",
             "age_p50_ms": "newest sample on screen, median age (ms)",
             "age_p95_ms": "newest sample on screen, p95 age (ms)",
             "dropped": "dropped samples while recording",
             "cpu_percent": "process CPU while recording (% of one core)",
             "cpu_ms_per_frame": "live view: process CPU per painted frame while recording (ms)",
             "gui_ms_per_frame": "live view: GUI-thread CPU per painted frame while recording (ms)"}
    for key, title in names.items():
        value, base = m["recording"][key], m["baseline"][key]
        ratio = value / base if isinstance(base, (int, float)) and base else None
        rows.append({"benchmark": title, "value": _fmt(value), "baseline": f"{_fmt(base)} (not recording)",
                     "ratio": ratio, "goal": GOALS[key]})
    return rows


def _fmt(x) -> str:
    return f"{x:.0f}" if isinstance(x, int) else f"{x:.1f}" if abs(x) >= 1 or x == 0 else f"{x:.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    ap.add_argument("--profile", metavar="FILE", help="write a cProfile of the GUI thread while recording (FILE) and not (FILE.baseline)")
    ap.add_argument("--threads", action="store_true", help="also print each thread's CPU ms and wake-ups per second of rig data, both phases")
    ap.add_argument("--devices", choices=DEVICES, default="demo",
                    help="the full demo rig, or a smaller rig with its emulators inside this process or apart (see DEVICES)")
    ap.add_argument("--hogs", type=int, default=0, help="other processes each keeping a core busy meanwhile (while True: pass)")
    ap.add_argument("--record-only", action="store_true", help="only the recording phase (e.g. --seconds 600 --hogs 1 for issue 14 §2)")
    ap.add_argument("--devices-uncapped", nargs="?", const="realtime", choices=("realtime", "normal"),
                    help="with --devices apart under bench/slow_machine.py: the device processes run outside the CPU cap, "
                         "at real-time priority (default: as hardware, never waiting for the host's CPU) or at normal priority")
    ap.add_argument("--no-wake-probe", action="store_true",
                    help="without the wake probe thread: its 500 wake-ups a second take the GIL as often, which a user's studio does not")
    ap.add_argument("--trace-pty", action="store_true",
                    help="also trace the kernel's pty hand-over (flush_to_ldisc) delays while recording (root, tracefs; pty_worker_trace.py)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.devices_uncapped:
        os.environ["BENCH_DEVICES_UNCAPPED"] = args.devices_uncapped  # read by the child process
    if args.no_wake_probe:
        os.environ["BENCH_NO_WAKE_PROBE"] = "1"  # read by the child process
    if args.trace_pty:
        os.environ["BENCH_TRACE_PTY"] = "1"  # read by the child process
    if args.child:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        print(json.dumps(_measure(args.seconds, args.profile, args.devices, args.hogs, args.record_only)), flush=True)
        return 0
    m = measure(args.seconds, args.profile and str(Path(args.profile).resolve()), args.devices, args.hogs, args.record_only)
    print(f"streams: {', '.join(m['streams'])}; file samples: {m['file_samples']}")
    print(f"samples lost while recording (stream: lost, of which in transit): {m['losses'] or 'none'}"
          + ("" if m["file_samples"] else " (the file was not read: the stop did not finish within 60 s)"))
    print(f"live counters over the measured stretch (stream: lost, in transit, overflows): {m.get('live_losses') or 'none'}; "
          f"stream errors: {m.get('errors') or 'none'}")
    for line in m.get("gaps", []):
        print(f"  {line}")
    if m.get("boards"):
        print(f"emulated boards while recording: {m['boards']}")
    print(f"cpu cgroups: {m.get('cgroups')}; the cap's throttling while recording: {m['recording'].get('throttled_periods')}")
    r = m["recording"]
    print(f"wake probe while recording: {r['probe_wakeups']} wake-ups, {r['probe_late_over_20ms']} more than 20 ms late, latest {r['probe_late_max_ms']:.1f} ms")
    if r.get("lateness"):
        print("acquisition threads while recording (issue 14 §2: none waits more than 20 ms):")
        for line in acq_lateness.report_lines(**r["lateness"]):
            print(line)
    if m["baseline"] is None:
        m["baseline"] = {k: float("nan") for k in m["recording"]}
    if m["errors"]:
        print(f"stream errors: {m['errors']}")
    print(f"{'figure':<14}{'not recording':>15}{'recording':>12}  goal")
    for key, goal in GOALS.items():
        print(f"{key:<14}{_fmt(m['baseline'][key]):>15}{_fmt(m['recording'][key]):>12}  {goal}")
    for key in DETAILS:
        print(f"{key:<14}{_fmt(m['baseline'][key]):>15}{_fmt(m['recording'][key]):>12}")
    if args.threads:
        # (--record-only: the baseline is all NaN, no threads)
        base_t, rec_t = (m[k].get("threads_ms_per_s") for k in ("baseline", "recording"))
        base_t, rec_t = (t if isinstance(t, dict) else {} for t in (base_t, rec_t))
        base_w, rec_w = (m[k].get("threads_wakeups_per_s") for k in ("baseline", "recording"))
        base_w, rec_w = (t if isinstance(t, dict) else {} for t in (base_w, rec_w))
        print(f"{'CPU ms (wake-ups) per second of rig data':<40}{'not recording':>22}{'recording':>19}")
        print(f"{'  process':<40}{_fmt(m['baseline'].get('cpu_ms_per_s', float('nan'))):>22}{_fmt(m['recording']['cpu_ms_per_s']):>19}")
        for name in sorted(set(base_t) | set(rec_t), key=lambda n: -rec_t.get(n, 0.0)):
            cells = [f"{_fmt(t.get(name, 0.0))} ({w.get(name, 0.0):5.0f})" for t, w in ((base_t, base_w), (rec_t, rec_w))]
            print(f"  {name[:38]:<38}{cells[0]:>22}{cells[1]:>19}")
    # Who else held the cores (a slow run on a "quiet" machine: see bench/host_load.py).
    print(f"machine: {host_load.cpu_model()}")
    for name in ("baseline", "recording"):
        host = m[name].get("host") if isinstance(m[name].get("host"), dict) else None
        if host:
            print(f"host while {name}: cores {host['host_cores']}, other processes {host['others_cores']} core "
                  f"(real-time {host['others_realtime_cores']}): {'; '.join(host['others_top']) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
