"""Dataset build rate (windows/s, MB/s of session files) and peak memory, against a plain NumPy loop.

Corpus: generated labeled sessions (`sensorlab.session.synthetic`, 30 min each) holding a
16 kHz microphone and a 100 Hz × 6 IMU, with labels on the activity bursts. Spec: both streams,
the microphone resampled to 8 kHz (anti-aliased), 1 s windows, 0.5 s hop, majority rule,
background windows capped at one per labeled window.

Baseline, same data, same windows: the script one would write without sensorlab: load each
stream whole with h5py, `resample_poly` the whole microphone, loop over window starts, label
each by a loop over the segments, keep everything in lists and save one ``.npz``. Each variant
runs in a fresh process so its peak memory (max RSS, workers included) is its own; each runs
twice, interleaved, and the faster run counts (the machine is shared).

Run: ``.venv/bin/python bench/bench_datasets.py [--hours 2]``. ``run()`` returns rows
``{"benchmark", "value", "baseline", "ratio", "goal"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SESSION_MINUTES = 30.0
LABELS = ("walk", "wave", "clap")


def make_corpus(folder: Path, hours: float) -> list[Path]:
    """Labeled sessions totalling ``hours`` (reused if already there)."""
    from sensorlab.labeling.annotations import AnnotationSet, Segment
    from sensorlab.labeling.store import save_annotations, sidecar_path
    from sensorlab.session.synthetic import T0, write_synthetic_session

    folder.mkdir(parents=True, exist_ok=True)
    n = max(1, int(round(hours * 60 / SESSION_MINUTES)))
    paths = []
    for i in range(n):
        p = folder / f"s{i:03d}.h5"
        seconds = SESSION_MINUTES * 60
        if not p.exists() or not sidecar_path(p).exists():
            tmp = p.with_suffix(".tmp.h5")
            write_synthetic_session(tmp, seconds, audio_rate=16000, audio_channels=1, imu_rate=100, fps=1.0, frame_shape=(8, 8),
                                    predictions=False, tags={"subject": f"p{i % 6}"})  # fmt: skip
            tmp.rename(p)
            segs = [Segment(f"a{k}", "activity", LABELS[k % 3], T0 + 1 + 12 * k, T0 + 5 + 12 * k) for k in range(int(seconds // 12))]
            save_annotations(AnnotationSet(segs), sidecar_path(p), session=p.name)
        paths.append(p)
    return paths


SPEC = """
[sessions]
paths = ["{folder}/*.h5"]
[[streams]]
name = "mic"
rate = 8000
[[streams]]
name = "imu"
[labels]
tier = "activity"
unlabeled = "background"
background_max_ratio = 1.0
[window]
length = 1.0
hop = 0.5
[split]
by = "subject"
"""


def _build(folder: Path, out: Path, workers: int) -> int:
    import tomllib

    from sensorlab.datasets.build import build_dataset
    from sensorlab.datasets.spec import spec_from_dict

    spec = spec_from_dict(tomllib.loads(SPEC.format(folder=folder)))
    return build_dataset(spec, out, workers=workers).windows


def _numpy_loop(folder: Path, out: Path) -> int:
    """The plain script: whole streams in memory, one resample per stream, Python loop per window."""
    import h5py
    from scipy.signal import resample_poly

    from sensorlab.labeling.store import load_annotations, sidecar_path
    from sensorlab.session.reader import Session

    xs_mic, xs_imu, ys = [], [], []
    for p in sorted(folder.glob("*.h5")):
        with h5py.File(p, "r") as f:
            mic = f["streams/mic/data"][:].astype(np.float64)
            imu = f["streams/imu/data"][:]
        with Session.open(p) as s:  # times are stored as runs since schema 1.4
            t_mic, t_imu = s.streams["mic"].timestamps, s.streams["imu"].timestamps
        mic8 = resample_poly(mic, 1, 2, axis=0).astype(np.float32)
        segs = [(s.label, s.start, s.end) for s in load_annotations(sidecar_path(p)).segments("activity")]
        t0, t1 = max(t_mic[0], t_imu[0]), min(t_mic[-1], t_imu[-1])
        labeled, background = [], []
        t = t0
        while t + 1.0 <= t1:
            cover: dict[str, float] = {}
            for lab, a, b in segs:
                o = min(b, t + 1.0) - max(a, t)
                if o > 0:
                    cover[lab] = cover.get(lab, 0.0) + o
            (labeled if cover else background).append((t, max(sorted(cover), key=cover.get) if cover else "background"))
            t += 0.5
        for t, lab in labeled + background[: len(labeled)]:
            i = int(np.searchsorted(t_imu, t))
            k = int(round((t - t_mic[0]) * 8000))
            xs_imu.append(imu[i : i + 100])
            xs_mic.append(mic8[k : k + 8000])
            ys.append(lab)
    np.savez(out, mic=np.stack(xs_mic), imu=np.stack(xs_imu), y=np.array(ys))
    return len(ys)


def _child(args: argparse.Namespace) -> None:
    out = Path(args.out)
    t = time.perf_counter()
    n = _numpy_loop(Path(args.corpus), out) if args.variant == "numpy" else _build(Path(args.corpus), out, args.workers)
    dt = time.perf_counter() - t
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"windows": n, "seconds": dt, "peak_mb": peak / 1024}))


def _measure(variant: str, corpus: Path, out: Path, workers: int = 1) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, __file__, "--child", variant, "--corpus", str(corpus), "--out", str(out), "--workers", str(workers)],
                       capture_output=True, text=True, env=env, check=True)  # fmt: skip
    out.unlink(missing_ok=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def run(hours: float = 2.0, corpus: Path | None = None) -> list[dict]:
    corpus = corpus or Path(tempfile.gettempdir()) / f"sensorlab-bench-corpus-{hours:g}h"
    paths = make_corpus(corpus, hours)
    mb = sum(p.stat().st_size for p in paths) / 1e6
    best = lambda a, b: a if a["seconds"] <= b["seconds"] else b  # noqa: E731 - the machine is shared: best of two, interleaved
    with tempfile.TemporaryDirectory() as d:
        base = _measure("numpy", corpus, Path(d) / "base.npz")
        one = _measure("build", corpus, Path(d) / "one.h5", 1)
        two = _measure("build", corpus, Path(d) / "two.h5", 2)
        base = best(base, _measure("numpy", corpus, Path(d) / "base.npz"))
        one = best(one, _measure("build", corpus, Path(d) / "one.h5", 1))
        two = best(two, _measure("build", corpus, Path(d) / "two.h5", 2))
    assert one["windows"] == base["windows"], (one, base)
    rate = lambda r: r["windows"] / r["seconds"]  # noqa: E731
    what = f"{hours:g} h corpus ({len(paths)} sessions, {mb:,.0f} MB; mic 16→8 kHz + IMU 100 Hz × 6, 1 s windows, 0.5 s hop)"
    return [
        {"benchmark": f"dataset build, 1 worker: windows/s, {what}", "value": f"{rate(one):,.0f} windows/s, {mb / one['seconds']:.0f} MB/s",
         "baseline": f"{rate(base):,.0f} windows/s, {mb / base['seconds']:.0f} MB/s (plain NumPy loop)", "ratio": rate(one) / rate(base), "goal": "(report)"},
        {"benchmark": "dataset build: peak memory (max RSS)", "value": f"{one['peak_mb']:.0f} MB (1 worker), {two['peak_mb']:.0f} MB (2 workers)",
         "baseline": f"{base['peak_mb']:.0f} MB (plain NumPy loop)", "ratio": one["peak_mb"] / base["peak_mb"], "goal": "bounded by a session, not the corpus"},
        {"benchmark": "dataset build: 2 workers vs 1 (same file)", "value": f"{rate(two):,.0f} windows/s", "baseline": f"{rate(one):,.0f} windows/s (1 worker)",
         "ratio": rate(two) / rate(one), "goal": "(report; 2 shared cores)"},
    ]  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--child", dest="variant", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        _child(args)
        return 0
    for row in run(args.hours, args.corpus):
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
