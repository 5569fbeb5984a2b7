"""Samples lost under a busy machine, with the devices outside the recording process.

Run: ``python bench/bench_loss.py [--seconds 60] [--hogs 2] [--no-rt] [--reader thread|process|auto]``.

Unlike `bench_stalls.py` (the demo rig, whose emulated devices are threads of the recording
process, so a stall of the host stalls the devices too), here the devices run as real
hardware does, independent of the host's load: a child process at real-time priority
(SCHED_FIFO, when allowed) drives

- a 1 kHz × 6 binary IMU (10 samples per packet) at 921 600 baud over a pty,
- a text IMU printing 2,000 lines/s with a sample counter at 2 Mbaud (~100 kB/s) over a pty,
- the PulseAudio virtual microphone's feed (48 kHz; the daemon is raised to real time too),
- an MJPEG-over-HTTP camera (30 fps, its own process, real time too).

The recording process (normal priority) records them into an HDF5 session with `Recorder`
while ``--hogs`` processes keep the cores busy. Reported from the *session file* (the stored
counters, as `sensorlab info` shows them): per stream the samples stored, samples lost on the
device side (never sent), on the host side (sent, not read in time: ``dropped_in_transit``)
and audio input overflows; beside them the devices' own counts (packets they could not queue,
bytes that did not fit into the pty) and, for the camera, frames stored against 30 per second.
Per serial stream also the longest reader stall: the longest time between two consecutive
reads of the port (from the arrival times stored in the file) while the device sent
continuously, and how the port was read (``--reader``: the serial sources' `reader` option;
``auto`` reads both ports in a child process; ``thread`` is how they were read before).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_CHILD = r"""
import json, os, sys, time
rt = sys.argv[1] == "1"
if rt:
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(20))  # threads started below inherit it
    except OSError as e:
        print(json.dumps({"rt_error": str(e)}), flush=True); rt = False
from sensorlab.acquisition.emulated.mcu import BinaryIMU, TextIMU
from sensorlab.acquisition.emulated.pulse import FifoWriter
from sensorlab.acquisition.emulated.world import World
world = World(clap_interval=0.5137)
imu = BinaryIMU(rate=1000.0, world=world, tx_buffer=1 << 16).start()
txt = TextIMU(rate=2000.0, time_column="counter", header=False, world=world, baudrate=2_000_000, tx_buffer=1 << 16).start()
feed = FifoWriter(sys.argv[2], world).start() if sys.argv[2] else None
print(json.dumps({"imu": imu.port, "txt": txt.port, "rt": rt}), flush=True)
sys.stdin.readline()  # until the parent is done
out = {}
for name, m in (("imu", imu), ("txt", txt)):
    out[name] = {"sent_packets": m.sent_packets, "refused_packets": m.link.dropped_packets, "pty_overflow_bytes": m.link.dropped_bytes}
if feed is not None:
    feed.stop()
imu.close(); txt.close()
print(json.dumps(out), flush=True)
"""


def _hog() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def _raise(pid: int) -> None:
    """All threads of ``pid`` to SCHED_FIFO 20 (a device is not slowed down by the host's load)."""
    subprocess.run(["chrt", "-a", "-f", "-p", "20", str(pid)], capture_output=True, check=False)  # not permitted: it stays at normal priority


def _raise_readers() -> int:
    """Serial reader threads of this process to SCHED_FIFO 10 (a diagnosis: does a reader that
    always gets a CPU stop the host-side losses?). Returns how many were raised."""
    import threading

    n = 0
    for t in threading.enumerate():
        if t.name.startswith("serial ") and t.native_id:
            os.sched_setscheduler(t.native_id, os.SCHED_FIFO, os.sched_param(10))
            n += 1
    return n


def measure(seconds: float = 60.0, hogs: int = 2, rt: bool = True, warmup: float = 3.0, rt_readers: bool = False, reader: str = "auto") -> dict:
    from sensorlab.acquisition.audio import AudioSource
    from sensorlab.acquisition.camera import CameraSource
    from sensorlab.acquisition.emulated.mjpeg_server import start_process
    from sensorlab.acquisition.emulated.pulse import VirtualPulse, unavailable
    from sensorlab.acquisition.emulated.world import World
    from sensorlab.acquisition.hub import Acquisition
    from sensorlab.acquisition.serial.port import SerialSource
    from sensorlab.session.reader import Session
    from sensorlab.session.recorder import Recorder
    from sensorlab.session.summary import format_summary, summarize

    pulse = VirtualPulse().start() if unavailable() is None else None
    if pulse is not None and rt:
        _raise(pulse._daemon.pid)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, "1" if rt else "0", str(pulse.fifo) if pulse else ""],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    server, url = start_process(world=World(clap_interval=0.5137), fps=30)
    if rt:
        _raise(server.pid)
    hog_procs: list[subprocess.Popen] = []
    try:
        first = json.loads(child.stdout.readline())
        ports = first if "imu" in first else json.loads(child.stdout.readline())
        sources = [
            SerialSource(ports["imu"], 921600, "binary", reader=reader),
            SerialSource(ports["txt"], 2_000_000, name="txt", nominal_rate=2000.0, time_column="counter", reader=reader),
            CameraSource(url, fps=30, name="camera"),
        ]
        if pulse is not None:
            sources.append(AudioSource("vmic", name="mic"))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "loss.h5"
            with Acquisition(sources) as acq:
                raised = _raise_readers() if rt_readers else 0
                readers = {s.name or "imu": ("process" + (" (real-time)" if s.reader_info.get("realtime") else "") if s._use_process else "thread")
                           for s in sources[:2]}  # fmt: skip
                time.sleep(warmup)
                hog_procs = [_hog() for _ in range(hogs)]
                load0 = os.getloadavg()[0]
                with Recorder(acq, path):
                    time.sleep(seconds)
                load1 = os.getloadavg()[0]
                for h in hog_procs:
                    h.kill()
                    h.wait(5)
                hog_procs = []
            child.stdin.write("\n")
            child.stdin.flush()
            devices = json.loads(child.stdout.readline())
            streams = {}
            with Session.open(path) as s:
                for name, r in s.streams.items():
                    st = r.stats
                    streams[name] = {"samples": st.samples, "dropped": st.dropped, "in_transit": st.dropped_in_transit,
                                     "overflows": st.overflows, "gaps": len(st.gaps), "duration": r.last_time - r.first_time}  # fmt: skip
                    if name in readers:
                        arrivals = np.unique(r.read().arrival_times)
                        streams[name]["stall_ms"] = float(np.max(np.diff(arrivals))) * 1e3 if len(arrivals) > 1 else float("nan")
                        streams[name]["reader"] = readers[name]
            info = format_summary(summarize(path, measure_sync=False))
    finally:
        for h in hog_procs:
            h.kill()
        if child.poll() is None:
            child.kill()
        server.terminate()
        server.wait(5)
        if pulse is not None:
            pulse.stop()
    return {"seconds": seconds, "hogs": hogs, "reader": reader, "rt_devices": bool(ports.get("rt")), "rt_readers": raised, "load": (load0, load1),
            "streams": streams, "devices": devices, "info": info}  # fmt: skip


def run(seconds: float = 60.0, hogs: int = 2) -> list[dict]:
    return rows_of(measure(seconds, hogs))


def rows_of(m: dict) -> list[dict]:
    rows = []
    for name, s in m["streams"].items():
        dev = m["devices"].get(name, {})
        host = s["in_transit"]
        value = f"{s['samples']:,} stored; lost: {host} host side, {s['dropped'] - host} device side" + (f", {s['overflows']} input overflows" if s["overflows"] else "")
        if "reader" in s:
            value += f"; read by a {s['reader']}, longest reader stall {s['stall_ms']:.1f} ms"
        if name == "camera":
            value = f"{s['samples']:,} frames stored ({s['samples'] / max(s['duration'], 1e-9):.1f} fps of 30)"
        rows.append({
            "benchmark": f"loss: {name} recorded {m['seconds']:.0f} s beside {m['hogs']} CPU hogs (devices {'real-time' if m['rt_devices'] else 'normal'} priority, load {m['load'][0]:.1f}-{m['load'][1]:.1f})",
            "value": value,
            "baseline": (f"device: {dev['refused_packets']} packets refused, {dev['pty_overflow_bytes']:,} bytes overflowed the pty" if dev else ""),
            "goal": "0 lost",
        })  # fmt: skip
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--hogs", type=int, default=2)
    ap.add_argument("--no-rt", action="store_true", help="run the devices at normal priority")
    ap.add_argument("--rt-readers", action="store_true", help="raise sensorlab's serial reader threads to real time (diagnosis)")
    ap.add_argument("--reader", choices=["auto", "thread", "process"], default="auto", help="how the serial ports are read")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    m = measure(a.seconds, a.hogs, rt=not a.no_rt, rt_readers=a.rt_readers, reader=a.reader)
    if a.json:
        print(json.dumps(m, indent=1))
    else:
        print(m["info"])
        for row in rows_of(m):
            print(f"{row['benchmark']}\n    {row['value']}\n    {row['baseline']}")
