"""CPU and dropped samples with the full demo rig recording and two models live.

Run: ``python bench/bench_models_live.py [--seconds 30] [--rounds 2]``.

The demo rig (`sensorlab.studio.demo.demo_rig`: camera, stereo microphone, IMU + radar and
EEG binary MCUs, a text IMU and the board that prints its own class) is recorded headless by
a `Studio`, as ``sensorlab record --demo`` does, in three configurations measured in the
same run, alternating ``--rounds`` times so a change in the machine's load hits all of them:

- **baseline**: no model;
- **two models**: the demo clap model (fp32 ONNX) and its int8 build, each an
  `InferenceProcessor` on the 1 kHz IMU (0.4 s windows every 0.1 s);
- **two models + parity**: the same, with both parity comparisons of the studio's parity
  view running in the core (the int8 build re-run on the fp32 model's windows by a
  `ParityTap`, and the host model against the board's reported class by `DeviceParity`,
  decided and drawn (`update` and `trace_arrays` of both) 5 times a second, as the two views do).

Per configuration: the process's CPU (user + system, % of one core; the emulated devices
run as threads in this process, so they are in every figure alike), the CPU of the model
threads alone, samples dropped or overflowed over all streams, and windows run / skipped by
the models. The figures are over ``--seconds`` after a 3 s warm-up, summed over rounds.

A probe thread sleeps 1 ms at a time and records how late it wakes: the longest stall and the
stalls over 50 ms are what an emulator or serial reader thread of this process suffers too
(the emulated boards drop what their 8 KB TX buffer cannot hold after ~80 ms without running),
so a configuration that loses samples shows whether its threads were kept from running.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import psutil

CONFIGS = ("baseline", "two models", "two models + parity")


def _model_threads_cpu(proc: psutil.Process) -> float:
    """CPU seconds of the model processors' threads (named ``processor-model …``)."""
    ids = {t.native_id for t in threading.enumerate() if t.name.startswith("processor-model")}
    return sum(t.user_time + t.system_time for t in proc.threads() if t.id in ids)


class Probe:
    """A thread that sleeps 1 ms at a time and keeps how late it woke (ms)."""

    def __init__(self):
        self.late: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall probe", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            t = time.perf_counter()
            time.sleep(0.001)
            self.late.append((time.perf_counter() - t - 0.001) * 1000)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(2)


def measure(config: str, seconds: float, warmup: float = 3.0) -> dict:
    from sensorlab.inference import DEMO_MODEL
    from sensorlab.inference.engine import InferenceProcessor
    from sensorlab.inference.rig_kind import DEMO_MODEL_INT8
    from sensorlab.studio.demo import DEMO_DEVICE_CLASS, DEMO_PREDICTIONS, demo_rig
    from sensorlab.studio.studio import Studio

    rig = demo_rig()
    rig.processor = []  # the models are added below, the same way in every configuration
    studio = Studio(preroll=0)
    me = psutil.Process()
    parity = None
    try:
        errors = studio.open(rig.build_sources())
        if errors:
            raise RuntimeError(f"devices failed to open: {errors}")
        if config != "baseline":
            studio.add_processor(InferenceProcessor(DEMO_MODEL, name=DEMO_PREDICTIONS))
            studio.add_processor(InferenceProcessor(DEMO_MODEL_INT8, name="clap_int8_pred"))
        if config.endswith("parity"):
            tap = studio.compare_builds(DEMO_PREDICTIONS, DEMO_MODEL_INT8)
            parity = studio.compare_device(DEMO_PREDICTIONS, DEMO_DEVICE_CLASS)
        with tempfile.TemporaryDirectory() as tmp:
            studio.start_recording(Path(tmp) / "models.h5")
            time.sleep(warmup)
            s0 = {n: (st.dropped + st.overflows, getattr(st, "windows", 0), getattr(st, "skipped", 0)) for n, st in studio.stats.items()}
            c0, m0, t0 = me.cpu_times(), _model_threads_cpu(me), time.monotonic()
            end = t0 + seconds
            main0 = time.thread_time()
            with Probe() as probe:
                while time.monotonic() < end:
                    time.sleep(0.2)
                    if parity is not None:  # what the two parity views' timers do (5 times a second)
                        for view in (tap, parity):
                            view.update()
                            view.trace_arrays()
            main_cpu = time.thread_time() - main0
            c1, m1, t1 = me.cpu_times(), _model_threads_cpu(me), time.monotonic()
            s1 = {n: (st.dropped + st.overflows, getattr(st, "windows", 0), getattr(st, "skipped", 0)) for n, st in studio.stats.items()}
            studio.stop_recording()
    finally:
        studio.close()
    wall = t1 - t0
    delta = {n: tuple(b - a for a, b in zip(s0.get(n, (0, 0, 0)), v)) for n, v in s1.items()}
    out = {
        "wall": wall,
        "cpu": (c1.user + c1.system - c0.user - c0.system) / wall * 100,
        "model_cpu": (m1 - m0) / wall * 100,
        "dropped": {n: d[0] for n, d in delta.items() if d[0]},
        "windows": sum(d[1] for d in delta.values()),
        "skipped": sum(d[2] for d in delta.values()),
        "main_cpu": main_cpu,  # the parity views' work (this thread only sleeps otherwise)
        "stall_max": max(probe.late, default=0.0),
        "stalls": sum(1 for x in probe.late if x > 50),
    }
    if config.endswith("parity"):
        out["parity"] = f"builds: {tap.report.divergent}/{tap.report.windows} divergent; device: {parity.report.divergent}/{parity.report.windows}"
    return out


def run(seconds: float = 30.0, rounds: int = 2) -> list[dict]:
    sums = {c: {"wall": 0.0, "cpu_s": 0.0, "model_s": 0.0, "main_s": 0.0, "dropped": {}, "windows": 0, "skipped": 0, "parity": "", "stall_max": 0.0, "stalls": 0}
            for c in CONFIGS}  # fmt: skip
    load = Path("/proc/loadavg").read_text().split()[0]
    for _ in range(rounds):
        for c in CONFIGS:
            m = measure(c, seconds)
            s = sums[c]
            s["wall"] += m["wall"]
            s["cpu_s"] += m["cpu"] * m["wall"] / 100
            s["model_s"] += m["model_cpu"] * m["wall"] / 100
            s["main_s"] += m["main_cpu"]
            for n, d in m["dropped"].items():
                s["dropped"][n] = s["dropped"].get(n, 0) + d
            s["windows"] += m["windows"]
            s["skipped"] += m["skipped"]
            s["stall_max"] = max(s["stall_max"], m["stall_max"])
            s["stalls"] += m["stalls"]
            s["parity"] = m.get("parity", "")
    res = {c: {**s, "cpu": 100 * s["cpu_s"] / s["wall"], "model_cpu": 100 * s["model_s"] / s["wall"]} for c, s in sums.items()}

    def drops(c: str) -> str:
        d = res[c]["dropped"]
        return f"{sum(d.values())}" + (f" ({', '.join(f'{n} {v}' for n, v in sorted(d.items()))})" if d else "")

    base, two, par = (res[c] for c in CONFIGS)
    span = f"{rounds} × {seconds:.0f} s, load {load} at the start"

    def stalls(c: str) -> str:
        return f"longest stall {res[c]['stall_max']:.0f} ms, {res[c]['stalls']} over 50 ms"
    return [
        {
            "benchmark": f"demo rig recording + two models live (demo clap fp32 + int8 on IMU 1 kHz, 0.4 s / 0.1 s): process CPU (% of one core), {span}",
            "value": f"{two['cpu']:.1f} (model threads {two['model_cpu']:.1f}, {1000 * two['model_s'] / max(two['windows'], 1):.2f} ms CPU per window); "
                     f"with both parity comparisons {par['cpu']:.1f} (model threads {par['model_cpu']:.1f}, "
                     f"{1000 * par['model_s'] / max(par['windows'], 1):.2f} ms per window; the two views' update + trace_arrays "
                     f"{1000 * par['main_s'] / max(par['wall'] * 5, 1):.2f} ms per refresh)",
            "baseline": f"{base['cpu']:.1f} (no model)",
            "ratio": two["cpu"] / base["cpu"] if base["cpu"] else "",
            "goal": "(report)",
        },
        {
            "benchmark": f"demo rig recording + two models live: samples dropped or overflowed, {span}",
            "value": f"{drops(CONFIGS[1])} ({stalls(CONFIGS[1])}); with parity {drops(CONFIGS[2])} ({stalls(CONFIGS[2])}); "
                     f"model windows run {two['windows']}, skipped {two['skipped']}",
            "baseline": f"{drops(CONFIGS[0])} ({stalls(CONFIGS[0])}) (no model)",
            "ratio": "",
            "goal": "no more than without models",
        },
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    for r in run(args.seconds, args.rounds):
        print(f"{r['benchmark']}\n    measured: {r['value']}\n    baseline: {r['baseline']}\n    ratio: {r['ratio']}")


if __name__ == "__main__":
    main()
