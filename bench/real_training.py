"""Real-data training benchmarks: spoken digits (FSDD) and smartphone activities (HAPT), end to end.

Every step is a sensorlab command run as a user would (``python -m sensorlab.cli ...``):
import → dataset build → train → export (ONNX, TFLite fp32 / int8) → quantize → evaluate →
bench-model → export-c, so the benchmark also proves the pipeline. The figures go into
docs/performance/training.md ("Training on real data").

The data sets are not part of sensorlab (their terms: docs/REAL-DATA.md). Get them and pass
the folder that holds them::

    DATA/fsdd/*.wav       # github.com/Jakobovski/free-spoken-digit-dataset, folder recordings/
    DATA/hapt/hapt.npz    # HAPT raw signals as uXX_eYY_rZZ_x / _y arrays (docs/REAL-DATA.md)

    .venv-tflite/bin/python bench/real_training.py DATA [--work DIR] [--only fsdd hapt] [--fsdd-settings long|quick] [--write]

Run it from the TFLite environment (`make test-tflite` builds it: it also has torch and
onnxruntime); elsewhere the TFLite columns are skipped with a note. Sessions, datasets and
runs go to ``--work`` (default: a new temporary folder), never into the repository; a step
whose output is already there is not repeated, so an interrupted run resumes.

- **FSDD**: clips imported with an index CSV (written into the work folder) that adds the
  official-split side of each take (takes 0–4 test, 5–49 train) as a session tag. Two
  datasets from the same sessions: leave-one-speaker-out (one split per speaker: train on
  four, test on the fifth, each in turn) and the official split. Audio model (log-mel + DS-CNN),
  trained to convergence by default (``--fsdd-settings long``: 40 epochs, width 64, about 25-45 min
  per model on one core of a shared machine; ``quick`` caps it at 8 epochs, width 32). Each fold
  is exported to ONNX and quantized (int8 calibrated on its four training speakers), and both
  builds are evaluated on the unheard speaker; every build of the official-split model (ONNX
  fp32 / int8, TFLite fp32 / int8, TFLM) is compared with PyTorch on all its test windows.
- **HAPT**: holdout by subject, 70/30 (21 subjects train, 9 test; the validation windows
  come from the training subjects), 128-sample windows, hop 64, 12 classes. fp32 vs int8
  ONNX vs int8 TFLite: accuracy, size, latency p50/p99 at one thread, TFLM arena.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance" / "training.md"
BEGIN, END = "<!-- real-training:begin -->", "<!-- real-training:end -->"
SPEAKERS = ["george", "jackson", "lucas", "nicolas", "yweweler"]
#: FSDD training settings (`--fsdd-settings`). "long" trains to convergence (the official split
#: peaked at epoch 36 of 40): about 25-45 min per model on one core of a shared 2-core machine.
#: "quick" is capped so the whole benchmark fits in about an hour; its models are under-trained.
FSDD_SETTINGS = {
    "long": {"epochs": 40, "width": 64, "patience": 6, "batch_size": 64, "threads": 1},
    "quick": {"epochs": 8, "width": 32, "patience": 4, "batch_size": 64, "threads": 1},
}
#: Run folders per setting: runs/fsdd-loso{suffix}-SPEAKER, runs/fsdd-official{suffix}.
RUN_SUFFIX = {"long": "-long", "quick": ""}
#: Published FSDD figures, for context only (other protocols: per clip, other splits).
FSDD_PUBLISHED = ("Published for context (not the same protocol): an MFCC + CNN on 3 speakers with a *random* split reports 97 % "
                  "(A. Thite, \"Sound-MNIST\"), a spectrogram CNN on 4 speakers 92.33 % (FluxML model-zoo), both per clip; a small "
                  "log-mel CNN (~60 k parameters) on the official split reaches the high 90s, and accuracy on an unheard speaker is lower.")  # fmt: skip
HAPT_TRAIN = {"epochs": 15, "patience": 5, "batch_size": 64, "threads": 1}
BENCH_RUNS = 200

FSDD_SPEC = """[sessions]
paths = ["fsdd-sessions/*.h5"]
[[streams]]
name = "audio"
[labels]
tier = "label"
rule = "majority"
min_coverage = 0.3
[window]
length = 0.5
hop = 0.25
[split]
by = "{by}"
method = "leave_one_out"
seed = 0
"""

HAPT_SPEC = """[sessions]
paths = ["hapt-sessions/*.h5"]
[[streams]]
name = "imu"
[labels]
tier = "label"
rule = "majority"
min_coverage = 0.5
[window]
length = 2.56
hop = 1.28
[split]
by = "subject"
method = "holdout"
fractions = { train = 0.7, test = 0.3 }
seed = 0
"""


class Steps:
    """Runs sensorlab commands, logs them, and keeps each one's wall time."""

    def __init__(self, work: Path):
        self.work, self.times, self.loads = work, {}, []
        self.log = open(work / "commands.log", "a", encoding="utf-8")

    def __call__(self, name: str, *args, json_out: bool = False):
        cmd = [sys.executable, "-m", "sensorlab.cli", *map(str, args)]
        print(f"$ sensorlab {' '.join(map(str, args))}", flush=True)
        self.log.write("$ " + " ".join(cmd) + "\n")
        t = time.perf_counter()
        self.loads.append(os.getloadavg()[0])  # the machine's load beside every figure
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        p = subprocess.run(cmd, cwd=self.work, capture_output=True, text=True, env=env)
        self.times[name] = time.perf_counter() - t
        self.log.write(p.stdout + p.stderr + "\n")
        self.log.flush()
        if p.returncode != 0:
            raise RuntimeError(f"{name} failed ({p.returncode}): {(p.stderr or p.stdout).strip().splitlines()[-1:]}")
        return json.loads(p.stdout.strip().splitlines()[-1]) if json_out else p.stdout


def has_tflite() -> bool:
    return all(importlib.util.find_spec(m) for m in ("litert_torch", "ai_edge_litert", "tflite_micro"))


def write_toml(path: Path, d: dict) -> Path:
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in d.items()), encoding="utf-8")
    return path


def train(step: Steps, dataset: Path, task: str, run: Path, cfg: dict) -> dict:
    if not (run / "metrics.json").exists():
        step(f"train {run.name}", "train", dataset, "--task", task, "--config", write_toml(run.with_suffix(".toml"), cfg), "--out", run)
    return run_summary(run)


def run_summary(run: Path) -> dict:
    m = json.loads((run / "metrics.json").read_text())
    return {"accuracy": m["test"]["accuracy"], "macro_f1": m["test"]["macro_f1"], "epochs": m["epochs_run"], "best_epoch": m["best_epoch"],
            "params": m["contract"]["model"]["params"], "n_train": m["n_train"], "n_test": m["test"]["n"]}  # fmt: skip


def onnx_builds(step: Steps, run: Path, dataset: Path, split: str) -> dict:
    """fp32 and static-int8 ONNX of one run, evaluated on ``split`` (a fold's unheard speaker)."""
    if not (run / "model.onnx").exists():
        step(f"export onnx {run.name}", "export", run, "--format", "onnx")
    if not (run / "quantize.json").exists():  # calibrated on the other speakers only, reported on ``split``
        step(f"quantize {run.name}", "quantize", run / "model.onnx", dataset, "--split", split)
    q = json.loads((run / "quantize.json").read_text())
    out = {"int8_argmax_agreement": q["builds"][1]["argmax_agreement"], "calibration_windows": q["calibration_windows"]}
    for key, name in (("fp32", "model.onnx"), ("int8", "model.int8.onnx")):
        e = step(f"evaluate {run.name} {name}", "evaluate", run / name, dataset, "--split", split, "--json", json_out=True)
        out[key] = {"accuracy": e["accuracy"], "macro_f1": e["macro_f1"], "n": e["n"], "size_bytes": (run / name).stat().st_size}
    return out


def builds(step: Steps, run: Path, dataset: Path, tflite: bool, quantize_onnx: bool, split: str = "test") -> list[dict]:
    """Export, evaluate and bench every build of one run."""
    rows = [{"build": "PyTorch fp32", "file": run}]
    if not (run / "model.onnx").exists():
        step("export onnx", "export", run, "--format", "onnx")
    rows.append({"build": "ONNX fp32", "file": run / "model.onnx"})
    if quantize_onnx:
        if not (run / "model.int8.onnx").exists():
            step("quantize", "quantize", run / "model.onnx", dataset, "--split", split)
        rows.append({"build": "ONNX int8 (static QDQ)", "file": run / "model.int8.onnx"})
    if tflite:
        for int8, name in ((False, "model.tflite"), (True, "model.int8.tflite")):
            rep = run / f"{name}.export.json"
            if not rep.exists():
                r = step(f"export {name}", "export", run, "--format", "tflite", *(["--int8"] if int8 else []), "--json", json_out=True)
                rep.write_text(json.dumps(r))
            r = json.loads(rep.read_text())
            rows.append({"build": "TFLite int8 (full integer)" if int8 else "TFLite fp32", "file": run / name,
                         "parity": {k: r.get(k) for k in ("windows", "max_abs_diff", "argmax_agreement", "tolerance", "frontend")}})  # fmt: skip
    for r in rows:
        f = r["file"]
        vs = [] if f == run else ["--against", run]  # every build against PyTorch, on every window of the split
        r["eval"] = step(f"evaluate {r['build']}", "evaluate", f, dataset, "--split", split, *vs, "--json", json_out=True)
        if f.suffix in (".onnx", ".tflite"):
            r["bench"] = step(f"bench {r['build']}", "bench-model", f, "--runs", BENCH_RUNS, "--json", json_out=True)
        r["file"] = str(f)
    if tflite:
        r = step("export-c", "export-c", run / "model.int8.tflite", "--json", json_out=True)
        rows[-1]["export_c"] = r
    return rows


def other_settings(work: Path, settings: str) -> dict:
    """Folds already trained with the other FSDD settings (same work folder): shown beside, for comparison."""
    other = next(k for k in FSDD_SETTINGS if k != settings)
    runs = {s: work / "runs" / f"fsdd-loso{RUN_SUFFIX[other]}-{s}" for s in SPEAKERS}
    return {"name": other, "settings": FSDD_SETTINGS[other], "loso": {s: run_summary(r) for s, r in runs.items() if (r / "metrics.json").exists()}}


def fsdd(data: Path, work: Path, step: Steps, tflite: bool, speakers: list[str] = SPEAKERS, builds_of: str = "official",
         settings: str = "long") -> dict:  # fmt: skip
    wavs = sorted(p.name for p in (data / "fsdd").glob("*.wav"))
    if not wavs:
        raise SystemExit(f"{data / 'fsdd'}: no .wav files; put the FSDD recordings there (see the module docstring)")
    index = work / "fsdd-index.csv"
    with open(index, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "label", "subject", "part", "group"])
        for n in wavs:
            digit, speaker, take = n[:-4].split("_")
            part = "test" if int(take) < 5 else "train"  # the data set's own split: takes 0-4 are test
            w.writerow([n, digit, speaker, part, f"{speaker}-{part}"])
    if not (work / "fsdd-sessions").exists():
        step("fsdd import", "import", "wav", data / "fsdd", "-o", work / "fsdd-sessions", "--index", index, "--session-per", "group")
    ds = {}
    for name, by in (("loso", "subject"), ("official", "part")):
        ds[name] = work / f"fsdd-{name}.h5"
        if not ds[name].exists():
            (work / f"fsdd-{name}.toml").write_text(FSDD_SPEC.format(by=by), encoding="utf-8")
            step(f"fsdd build {name}", "dataset", "build", work / f"fsdd-{name}.toml", "-o", ds[name], "--workers", "2")
    runs = work / "runs"
    runs.mkdir(exist_ok=True)
    cfg, sfx = FSDD_SETTINGS[settings], RUN_SUFFIX[settings]
    out = {"settings": cfg, "settings_name": settings, "loso": {}}
    for spk in SPEAKERS:  # folds not asked for this time are reported if an earlier run trained them
        run = runs / f"fsdd-loso{sfx}-{spk}"
        if spk in speakers or (run / "metrics.json").exists():
            out["loso"][spk] = train(step, ds["loso"], "audio", run, {**cfg, "test_split": spk})
            out["loso"][spk]["onnx"] = onnx_builds(step, run, ds["loso"], spk)
    out["other"] = other_settings(work, settings)
    out["official"] = train(step, ds["official"], "audio", runs / f"fsdd-official{sfx}", {**cfg, "test_split": "test"})
    # Builds of one model (ONNX, int8 ONNX, TFLite fp32 / int8, TFLM): the official-split model,
    # or a leave-one-speaker-out fold (`--fsdd-builds george`) evaluated on its unheard speaker.
    out["builds_of"] = builds_of
    if builds_of == "official":
        out["builds"] = builds(step, runs / f"fsdd-official{sfx}", ds["official"], tflite, quantize_onnx=True)
    else:
        out["builds"] = builds(step, runs / f"fsdd-loso{sfx}-{builds_of}", ds["loso"], tflite, quantize_onnx=True, split=builds_of)
    return out


def hapt(data: Path, work: Path, step: Steps, tflite: bool) -> dict:
    npz = data / "hapt" / "hapt.npz"
    if not npz.exists():
        raise SystemExit(f"{npz}: not found; see the module docstring for where to get HAPT")
    if not (work / "hapt-sessions").exists():
        step("hapt import", "import", "table", npz, "-o", work / "hapt-sessions", "--rate", "50", "--stream", "imu",
             "--pattern", "u{subject}_e{experiment}_r{take}")  # fmt: skip
    ds = work / "hapt.h5"
    if not ds.exists():
        (work / "hapt.toml").write_text(HAPT_SPEC, encoding="utf-8")
        step("hapt build", "dataset", "build", work / "hapt.toml", "-o", ds, "--workers", "2")
    from sensorlab.datasets.dataset import Dataset

    with Dataset.open(ds) as d:
        assignment = d.split["assignment"]
    subjects = {s: sorted(g for g, v in assignment.items() if v == s) for s in ("train", "test")}
    run = work / "runs" / "hapt"
    (work / "runs").mkdir(exist_ok=True)
    out = {"settings": HAPT_TRAIN, "subjects": subjects, "train": train(step, ds, "timeseries", run, HAPT_TRAIN)}
    out["builds"] = builds(step, run, ds, tflite, quantize_onnx=True)
    return out


def _ms(b: dict) -> str:
    return f"{b['latency_ms']['p50']:.3f} / {b['latency_ms']['p99']:.2f}" if b else "–"


def _cpu(b: dict) -> str:
    return f"{b['latency_ms']['cpu_mean']:.3f}" if b and "cpu_mean" in b["latency_ms"] else "–"


def build_table(rows: list[dict]) -> list[str]:
    lines = ["| build | test accuracy | macro F1 | size | p50 / p99 ms wall (1 thread) | CPU ms per window | TFLM arena | same class as PyTorch | export self-check |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        e, b = r["eval"], r.get("bench")
        size = f"{b['size_bytes'] / 1024:.1f} KiB" if b else "–"
        arena = f"{r['export_c']['arena_bytes_measured']:,} B" if "export_c" in r else (f"{b['tflm_arena_bytes']:,} B" if b and b.get("tflm_arena_bytes") else "–")
        a = e.get("agreement")
        agree = "(reference)" if r is rows[0] else f"{a['argmax_agreement']:.1%} of {a['windows']}" if a else f"accuracy {e['accuracy'] - rows[0]['eval']['accuracy']:+.2%}"
        p = r.get("parity")
        check = f"max logit diff {p['max_abs_diff']:.2g} on {p['windows']} windows" if p else "–"
        if "export_c" in r:
            t = r["export_c"]["tflm_vs_litert"]
            check += f"; TFLM vs LiteRT: same class on {t['argmax_agreement']:.1%} of {t['windows']}, outputs identical on {t['identical_outputs']:.0%}"
        ms = _ms(b) + (" (model only: the log-mel front end runs before it)" if b and b.get("frontend") else "")
        lines.append(f"| {r['build']} | {e['accuracy']:.2%} | {e['macro_f1']:.3f} | {size} | {ms} | {_cpu(b)} | {arena} | {agree} | {check} |")
    return lines


def fsdd_markdown(f: dict) -> list[str]:
    s, name = f["settings"], f.get("settings_name", "quick")
    lines = ["### Spoken digits (FSDD, 5 speakers, 8 kHz): audio model (log-mel + DS-CNN)", "",
             (f"`sensorlab train --task audio`, width {s['width']} ({f['official']['params']:,} parameters), at most {s['epochs']} epochs "
              f"(patience {s['patience']}), batch {s['batch_size']}, {s['threads']} thread (settings `{name}`), 0.5 s windows with a "
              "0.25 s hop: accuracy is per window, not per clip."), "",
             "Leave one speaker out: trained on four speakers, tested on every window of the fifth. The int8 ONNX build "
             "(`sensorlab quantize`, static QDQ) is calibrated on the four training speakers only.", "",
             "| test speaker | test windows | PyTorch accuracy | macro F1 | ONNX fp32 | ONNX int8 | int8 same class as fp32 | int8 size | epochs (best) |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    oth = f.get("other") or {}
    if oth.get("loso"):
        o = oth["settings"]
        lines[-2] = lines[-2][:-1] + f"| PyTorch, `{oth['name']}` settings ({o['epochs']} epochs, width {o['width']}) |"
        lines[-1] += "---|"
    cols: dict[str, list[float]] = {"pt": [], "fp32": [], "int8": []}
    for spk in SPEAKERS:
        m = f["loso"].get(spk)
        q = (oth.get("loso") or {}).get(spk)
        extra = (f" {q['accuracy']:.2%} ({q['epochs']} epochs, best {q['best_epoch']}) |" if q else " – |") if oth.get("loso") else ""
        if m is None:
            lines.append(f"| {spk} | | not trained (see below) | | | | | | |{extra}")
            continue
        o = m.get("onnx")
        cols["pt"].append(m["accuracy"])
        if o:
            cols["fp32"].append(o["fp32"]["accuracy"])
            cols["int8"].append(o["int8"]["accuracy"])
        onnx = (f"{o['fp32']['accuracy']:.2%} | {o['int8']['accuracy']:.2%} | {o['int8_argmax_agreement']:.1%} | {o['int8']['size_bytes'] / 1024:.1f} KiB"
                if o else "– | – | – | –")  # fmt: skip
        lines.append(f"| {spk} | {m['n_test']} | {m['accuracy']:.2%} | {m['macro_f1']:.3f} | {onnx} | {m['epochs']} ({m['best_epoch']}) |{extra}")
    if cols["pt"]:
        n = len(cols["pt"])  # a column's mean over fewer folds says so
        mean = lambda v: (f"**{sum(v) / len(v):.2%}**" + ("" if len(v) == n else f" (of {len(v)})")) if v else "–"  # noqa: E731
        qs = [q["accuracy"] for q in (oth.get("loso") or {}).values()]
        extra = (f" **{sum(qs) / len(qs):.2%}** (of {len(qs)}) |" if qs else " – |") if oth.get("loso") else ""
        lines.append(f"| **mean of {len(cols['pt'])}** | | {mean(cols['pt'])} | | {mean(cols['fp32'])} | {mean(cols['int8'])} | | | |{extra}")
    o = f["official"]
    lines += ["", FSDD_PUBLISHED, "",
              (f"Official split (takes 0–4 of every speaker test, 5–49 train): **{o['accuracy']:.2%}** window accuracy, "
               f"macro F1 {o['macro_f1']:.3f} ({o['epochs']} epochs, best {o['best_epoch']})."), "",
              ("Builds of the official-split model, evaluated on its test windows (size, latency and CPU time from `sensorlab bench-model`, "
               "\"same class as PyTorch\" from `sensorlab evaluate --against RUN` on every test window):" if f["builds_of"] == "official" else
               f"Builds of the fold tested on {f['builds_of']} (trained on the other four), evaluated on {f['builds_of']}'s windows:"), ""]  # fmt: skip
    return lines + build_table(f["builds"])


def markdown(res: dict, loads: list[float]) -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    during = f"1-minute load average {min(loads):.1f}–{max(loads):.1f} at the steps of this run, " if loads else ""
    lines = [f"Measured {date.today().isoformat()} on {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores "
             f"shared with other jobs ({during}{load[0]:.1f} when this table was written): wall-clock latency, p99 above all, "
             "reflects that load; the CPU time per window barely moves with it. Produced by `bench/real_training.py`; wall time of "
             "its last pass (run folders already trained are reused, not retrained) "
             + ", ".join(f"{k.upper()} {v['seconds'] / 60:.0f} min" for k, v in res.items() if isinstance(v, dict)) + ".", ""]  # fmt: skip
    if "fsdd" in res:
        lines += fsdd_markdown(res["fsdd"])
    if "hapt" in res:
        h = res["hapt"]
        lines += ["", "### Smartphone activities (HAPT, 30 subjects, 6-axis IMU at 50 Hz): 1-D CNN", "",
                  f"Holdout by subject: train on {len(h['subjects']['train'])} subjects ({', '.join(h['subjects']['train'])}), "
                  f"test on the other {len(h['subjects']['test'])} ({', '.join(h['subjects']['test'])}); 2.56 s windows, hop 1.28 s, 12 classes "
                  f"(6 activities, 6 rare transitions). `sensorlab train --task timeseries`, {h['train']['params']:,} parameters, "
                  f"{h['train']['epochs']} epochs (best {h['train']['best_epoch']}).", ""] + build_table(h["builds"])  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="folder holding fsdd/*.wav and hapt/hapt.npz")
    ap.add_argument("--work", type=Path, help="sessions, datasets and runs go here (default: a new temporary folder)")
    ap.add_argument("--only", nargs="*", choices=["fsdd", "hapt"], default=["fsdd", "hapt"])
    ap.add_argument("--write", action="store_true", help=f"replace the section between {BEGIN} and {END} in docs/performance/training.md")
    ap.add_argument("--speakers", nargs="*", choices=SPEAKERS, default=SPEAKERS, help="FSDD test speakers to train folds for (default: all five)")
    ap.add_argument("--fsdd-builds", choices=["official", *SPEAKERS], default="official", help="FSDD model whose builds are exported and compared")
    ap.add_argument("--fsdd-settings", choices=list(FSDD_SETTINGS), default="long", help="FSDD training settings (see FSDD_SETTINGS; default long)")
    ap.add_argument("--report", action="store_true", help="run nothing: print (and --write) the results already in --work")
    args = ap.parse_args(argv)
    work = (args.work or Path(tempfile.mkdtemp(prefix="sensorlab-realtrain-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    tflite = has_tflite()
    if not tflite and not args.report:
        print("TFLite stack missing (litert-torch, ai-edge-litert, tflite-micro): TFLite builds skipped; run from .venv-tflite", file=sys.stderr)
    step = Steps(work)
    for name in [] if args.report else args.only:  # one results file per data set: the two can run side by side
        t0 = time.perf_counter()
        d = args.data.resolve()
        step.loads = []
        r = fsdd(d, work, step, tflite, args.speakers, args.fsdd_builds, args.fsdd_settings) if name == "fsdd" else hapt(d, work, step, tflite)
        r["seconds"], r["loads"] = time.perf_counter() - t0, step.loads
        (work / f"results-{name}.json").write_text(json.dumps(r, indent=2, default=str), encoding="utf-8")
    res = {p.stem.removeprefix("results-"): json.loads(p.read_text()) for p in sorted(work.glob("results-*.json"))}
    if args.report and "fsdd" in res:  # folds trained since (e.g. side by side) join the table
        res["fsdd"]["other"] = other_settings(work, res["fsdd"].get("settings_name", "quick"))
        sfx = RUN_SUFFIX[res["fsdd"].get("settings_name", "quick")]
        for s in SPEAKERS:
            run = work / "runs" / f"fsdd-loso{sfx}-{s}"
            if (run / "metrics.json").exists() and s not in res["fsdd"]["loso"]:
                res["fsdd"]["loso"][s] = {**train(step, work / "fsdd-loso.h5", "audio", run, {}), "onnx": onnx_builds(step, run, work / "fsdd-loso.h5", s)}
                res["fsdd"]["loads"] = res["fsdd"].get("loads", []) + step.loads
                step.loads = []
                (work / "results-fsdd.json").write_text(json.dumps(res["fsdd"], indent=2, default=str), encoding="utf-8")  # kept for the next report
    md = markdown(res, [x for r in res.values() for x in r.get("loads", [])])
    print(md)
    if args.write:
        doc = DOC.read_text(encoding="utf-8")
        new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: f"{BEGIN}\n{md}\n{END}", doc, flags=re.DOTALL)
        DOC.write_text(new, encoding="utf-8")
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
