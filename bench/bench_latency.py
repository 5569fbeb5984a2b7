"""Sample-to-prediction latency, live, split into where each window's milliseconds go.

`bench_inference.py` measures the latency (prediction time − the window's last sample) with a
tap, which takes the engine's general path; here the engine runs as in the studio — no tap, the
usual wake-up (the hop and the model run in one C call where built) — on a real-time emulated
stream in an `Acquisition`, and each window's latency is split by what the engine's thread and
the device's did (all host clock, `sensorlab.acquisition.clock.now`):

- **chunking**: the window's last sample → the last sample of the chunk that completes it (a
  window needs the resampling filter's margin past its last sample, so with 48 → 16 kHz that is
  the next 10 ms device chunk; without resampling, the chunk holding the last sample);
- **device late**: that chunk's last sample → the device thread handing it over (the emulated
  device sleeps until its last sample's time: this is the machine waking that thread late);
- **engine**: hand-over → prediction, which is *wake* + *work*:
- **wake**: hand-over → the engine thread running Python in `process_chunks`; of it, **run
  queue** is the time the thread waited for a core (its ``/proc/thread-self/schedstat``), the rest
  mostly waiting for the GIL (and the ring's condition lock);
- **work**: `process_chunks` entered → the prediction's time (the predictions chunk's arrival);
  of it, **run queue** again, and the thread's CPU time.

``--nice N`` runs the engine thread at ``nice N`` relative to the process (only lowering it
needs no privilege), ``--switch S`` sets ``sys.setswitchinterval(S)``, ``--hog N`` starts N
busy-loop processes for the run (stopped after); ``--imu`` the IMU feed (100 Hz × 6, no
resampling) instead of audio. Prints the latency's median, p95 and max and each part's
median and p95, and the load average before and after.

Run: ``python bench/bench_latency.py [--seconds 30] [--hog 4] [--imu]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _run_queue_wait(tid: int | None = None) -> float:
    """Seconds thread ``tid`` (default: this one) has waited for a core so far: the kernel's
    schedstat, which adds a wait when the thread gets its core, so it is exact for a thread that
    is asleep or running (its CPU field is only brought up to date at scheduling events, so CPU
    time comes from `time.thread_time`)."""
    with open(f"/proc/self/task/{tid or threading.get_native_id()}/schedstat") as f:
        return int(f.read().split()[1]) / 1e9


def measure(model: Path, rate_in: float, rate: float, channels: int, seconds: float, nice: int = 0) -> dict[str, np.ndarray]:
    """Run the engine live for ``seconds``; per window: latency and its parts (ms)."""
    from bench_inference import _mapping

    from sensorlab.acquisition.clock import now
    from sensorlab.acquisition.emulated.signal import SignalSource
    from sensorlab.acquisition.hub import Acquisition
    from sensorlab.inference import InferenceProcessor, LoadedModel

    import scipy.signal  # noqa: F401 - the resampler's filter design: seconds to import on a busy machine, not on the engine's clock

    warm = LoadedModel(model, _mapping("s", rate))  # the imports and the fused graph's first build, before the clock runs
    warm.bound(int(rate), channels)(np.zeros((int(rate), channels), np.float32))
    src = SignalSource("s", rate=rate_in, shape=(channels,), pattern="sine", realtime=True, chunk_size=max(1, int(rate_in * 0.01)))
    proc = InferenceProcessor(LoadedModel(model, _mapping("s", rate)))
    handed: dict[float, tuple[float, float]] = {}  # a chunk's last sample time → (when the device thread handed it over, the engine thread's run-queue wait then)
    engine_tid: list[int] = []
    preds: list[tuple[float, float]] = []  # (window end, prediction time)
    wakes: list[tuple] = []  # per wake-up: (its newest sample, entered, run-queue wait since the last one left, run-queue wait and CPU while it ran)
    last = {"rq": None}
    period = 1.0 / rate

    def on_chunk(stream: str, chunk) -> None:
        if stream == "s":
            handed[float(chunk.timestamps[-1])] = (now(), _run_queue_wait(engine_tid[0]) if engine_tid else np.nan)
        elif stream == proc.name:
            preds.append((float(chunk.timestamps[0]), float(chunk.arrival_times[0])))

    inner = proc.process_chunks

    def process_chunks(new) -> None:  # the engine thread
        entered, cpu0 = now(), time.thread_time()
        rq0 = _run_queue_wait()
        if not engine_tid:
            engine_tid.append(threading.get_native_id())
        if last["rq"] is None and nice:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0) + nice)
        inner(new)
        rq1 = _run_queue_wait()
        newest = float(new[proc.input][-1].timestamps[-1])
        wakes.append((newest, entered, rq0, rq1 - rq0, time.thread_time() - cpu0))
        last["rq"] = rq1

    proc.process_chunks = process_chunks
    acq = Acquisition([src, proc])
    acq.subscribe(on_chunk)
    acq.open()
    acq.start()
    time.sleep(seconds)
    acq.close()
    # The chunk that completes a window: the first whose last sample is past the window's last
    # sample plus the resampling filter's margin (less half an input period, the windower's tolerance).
    need_after = proc.windower.margin - 0.5 / rate_in
    chunk_ends = np.array(sorted(handed))
    wake_newest = np.array([w[0] for w in wakes])
    def rq0_at(j: int) -> float:
        return wakes[j][2]

    rows = []
    for end, t1 in preds[4:]:
        last_sample = end - period
        i = int(np.searchsorted(chunk_ends, last_sample + need_after - 1e-9, "left"))
        j = int(np.searchsorted(wake_newest, last_sample + need_after - 1e-9, "left"))  # the wake-up that ran it
        if i >= len(chunk_ends) or j >= len(wakes):
            continue
        c = float(chunk_ends[i])
        _n, entered, _rq0, rq_work, cpu = wakes[j]
        h, rq_handed = handed[c]
        rows.append((t1 - last_sample, c - last_sample, h - c, t1 - h, entered - h, rq0_at(j) - rq_handed, t1 - entered, rq_work, cpu))
    a = np.array(rows) * 1000.0
    keys = ("latency", "chunking", "device_late", "engine", "wake", "wake_runqueue", "work", "work_runqueue", "work_cpu")
    return {k: a[:, j] for j, k in enumerate(keys)}


def _hog(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--imu", action="store_true", help="the IMU feed (100 Hz × 6, small CNN) instead of audio 48 → 16 kHz")
    ap.add_argument("--nice", type=int, default=0, help="the engine thread this much nicer than the process (≥ 0 without privilege)")
    ap.add_argument("--switch", type=float, default=0.0, help="sys.setswitchinterval(S) for the run (default: Python's 0.005)")
    ap.add_argument("--hog", type=int, default=0, help="busy-loop processes running meanwhile")
    args = ap.parse_args()
    from bench_inference import cnn_model

    if args.switch:
        sys.setswitchinterval(args.switch)
    hogs = _hog(args.hog)
    try:
        load0 = Path("/proc/loadavg").read_text().split()[0]
        with tempfile.TemporaryDirectory() as d:
            if args.imu:
                m = measure(cnn_model(Path(d) / "imu.onnx", 6), 100.0, 100.0, 6, args.seconds, args.nice)
            else:
                m = measure(cnn_model(Path(d) / "mono.onnx", 1), 48000.0, 16000.0, 1, args.seconds, args.nice)
        load1 = Path("/proc/loadavg").read_text().split()[0]
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    lat = m["latency"]
    print(f"{'IMU 100 Hz × 6' if args.imu else 'audio 48 → 16 kHz'}, small CNN, {len(lat)} windows, load {load0} → {load1}, hogs {args.hog}, "
          f"nice +{args.nice}, switch interval {sys.getswitchinterval() * 1000:.1f} ms")  # fmt: skip
    print(f"latency median {np.median(lat):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms, max {lat.max():.1f} ms")
    for k, v in m.items():
        v = v[np.isfinite(v)]
        worst = int(np.argmax(m["latency"]))
        print(f"  {k:14s} median {np.median(v):6.2f}  p95 {np.percentile(v, 95):6.2f}  max {v.max():6.2f}  (in the slowest window {m[k][worst]:6.2f}) ms")


if __name__ == "__main__":
    main()
