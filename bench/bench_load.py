"""Full-rig load on this machine: does anything drop, and what share of the CPU does it take?

Run: ``python bench/bench_load.py [--seconds 60]`` (or via ``bench/run_all.py``).

Real parts, devices in their own processes so their cost is not counted as ours:
- camera: `CameraSource` (OpenCV/FFmpeg) on a 640×480 @ 30 fps MJPEG-over-HTTP stream of
  the simulated world served by a child process (like an ESP32-CAM);
- audio: `AudioSource` (sounddevice/PortAudio) at 48 kHz stereo from a private PulseAudio
  daemon's virtual microphone, fed with the world's audio by a paced writer thread;
- serial: `SerialSource` on a pseudo-terminal from an emulated microcontroller process
  sending a 1 kHz × 6-channel IMU and 64×32 radar maps at 20 Hz (binary protocol, 2 Mbaud).

The same sources run twice side by side: first without recording (the baseline: acquiring
only), then recording everything into an HDF5 session, so the cost of recording shows as the
difference.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from sensorlab.acquisition.hub import Acquisition
from sensorlab.session.recorder import Recorder
from sensorlab.session.reader import Session


def _start_mcu() -> tuple[subprocess.Popen, str, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sensorlab.acquisition.emulated.mcu", "imu-radar", "--drift-ppm", "100"],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()  # "imu-radar on /dev/pts/N at 2000000 baud ..."
    words = line.split()
    return proc, words[2], int(words[4])


def _sources(url: str, port: str, baud: int):
    from sensorlab.acquisition.audio import AudioSource
    from sensorlab.acquisition.camera import CameraSource
    from sensorlab.acquisition.serial.port import SerialSource

    return [CameraSource(url, fps=30, name="camera"), AudioSource("vmic", 48000, 2, name="mic"), SerialSource(port, baud, "binary")]


def _cpu(procs: list[psutil.Process]) -> list[float]:
    return [p.cpu_times().user + p.cpu_times().system for p in procs]


def measure(seconds: float, record_to: Path | None, url: str, port: str, baud: int, helpers: list[psutil.Process]) -> dict:
    me = psutil.Process()
    acq = Acquisition(_sources(url, port, baud))
    acq.open()
    if acq.errors:
        raise RuntimeError(f"devices failed to open: {acq.errors}")
    rec = Recorder(acq, record_to) if record_to else None
    if rec:
        rec.start()
    acq.start()
    time.sleep(2.0)  # warm-up: connections, PulseAudio's first hand-overs
    counts0 = {n: st.samples for n, st in acq.stats.items()}
    cpu0, helpers0, t0 = _cpu([me])[0], _cpu(helpers), time.monotonic()
    time.sleep(seconds)
    cpu1, helpers1, t1 = _cpu([me])[0], _cpu(helpers), time.monotonic()
    counts1 = {n: st.samples for n, st in acq.stats.items()}
    max_queue = rec.queue_size if rec else 0
    acq.stop()  # devices first, so every sample received is one the recorder must store
    if rec:
        rec.stop()
    stats = {n: (st.dropped, st.overflows, st.parse_errors, st.error) for n, st in acq.stats.items()}
    received = {n: st.samples for n, st in acq.stats.items()}
    acq.close()
    wall = t1 - t0
    out = {
        "cpu": (cpu1 - cpu0) / wall,  # cores' worth (1.0 = one full core)
        "helpers_cpu": (sum(helpers1) - sum(helpers0)) / wall,
        "rates": {n: (counts1[n] - counts0[n]) / wall for n in counts1},
        "stats": stats,
        "queue": max_queue,
    }
    if record_to:
        with Session.open(record_to) as s:
            out["stored"] = {n: st.count for n, st in s.streams.items()}
            out["lost_by_writer"] = sum(received[n] - out["stored"][n] for n in received)
    return out


def run(seconds: float = 60.0, baseline_seconds: float = 15.0) -> list[dict]:
    from sensorlab.acquisition.emulated.mjpeg_server import start_process
    from sensorlab.acquisition.emulated.pulse import VirtualPulse
    from sensorlab.acquisition.emulated.world import shared_world

    world = shared_world()
    cam_proc, url = start_process(world=world, fps=30)
    mcu_proc, port, baud = _start_mcu()
    pulse = VirtualPulse(channels=2).start()
    feeder = pulse.feed(world)
    helpers = [psutil.Process(cam_proc.pid), psutil.Process(mcu_proc.pid)]
    try:
        base = measure(baseline_seconds, None, url, port, baud, helpers)
        with tempfile.TemporaryDirectory() as tmp:
            full = measure(seconds, Path(tmp) / "load.h5", url, port, baud, helpers)
    finally:
        feeder.stop()
        pulse.stop()
        for p in (cam_proc, mcu_proc):
            p.terminate()
            p.wait(5)
    nominal = {"camera": 30, "mic": 48000, "imu": 1000, "radar": 20}
    dropped = sum(d + o for d, o, _, _ in full["stats"].values())
    errors = [f"{n}: {e}" for n, (_, _, _, e) in full["stats"].items() if e]
    rates = ", ".join(f"{n} {full['rates'][n]:.5g}/{nominal[n]}" for n in nominal)
    return [
        {
            "benchmark": f"load: camera 640×480@30 + audio 48 kHz stereo + IMU 1 kHz×6 + radar 64×32@20, {seconds:.0f} s recorded",
            "value": f"{dropped} dropped/overflowed samples, {full['lost_by_writer']} received but not stored; rates {rates} Hz"
            + (f"; errors {errors}" if errors else ""),
            "baseline": "0 dropped",
            "ratio": "",
            "goal": "0 dropped",
        },
        {
            "benchmark": "load: sensorlab CPU while recording (cores; 2.0 = both)",
            "value": f"{full['cpu']:.2f} ({full['cpu'] / 2:.0%} of the machine); device emulators {full['helpers_cpu']:.2f}",
            "baseline": f"acquiring without recording {base['cpu']:.2f}",
            "ratio": full["cpu"] / base["cpu"] if base["cpu"] else "",
            "goal": "no drops on 2 cores",
        },
    ]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--baseline-seconds", type=float, default=15.0)
    a = ap.parse_args()
    for row in run(a.seconds, a.baseline_seconds):
        print(f"{row['benchmark']}\n    {row['value']}\n    baseline: {row['baseline']}  ratio: {row['ratio']}")
