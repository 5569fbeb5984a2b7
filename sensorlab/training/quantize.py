"""``sensorlab quantize``: int8 ONNX builds beside the fp32 one, and an honest side-by-side report.

- static: QDQ, per-channel int8 weights and int8 activations, calibrated on real dataset
  windows (the train split; in a leave-one-out file, every split but the tested one); the audio front end (DFT, mel, log) stays float, since int8 power
  spectra lose the quiet bands;
- dynamic: int8 weights, activations quantized at run time: the usual baseline.

The report gives size, 1-thread latency p50/p99 (onnxruntime ``intra_op_num_threads=1``),
test accuracy and argmax agreement with fp32 for each build, and says when int8 does not pay.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from sensorlab.contract import ModelContract
from sensorlab.training.export import set_metadata
from sensorlab.training.predictors import OnnxPredictor
from sensorlab.training.staged import stage_path, staged

#: Calibration windows (spread evenly over the train split).
CALIBRATION = 200
#: Goals from the issue: int8 size and latency relative to fp32, accuracy loss in points.
GOALS = {"size": 0.3, "latency": 0.67, "accuracy_drop": 0.01}


def latency_ms(pred: OnnxPredictor, x1: np.ndarray, runs: int = 300) -> dict:
    """Wall-clock p50/p99 of one window, and the CPU time the calling thread spent on it.

    With one intra-op thread onnxruntime and LiteRT run the model on the calling thread, so
    ``time.thread_time`` is the model's CPU cost: on a loaded machine the wall clock also counts
    the time the thread waited for a core, the CPU time barely moves (compare machines with it).
    """
    for _ in range(20):
        pred._run(x1)
    t, c = np.empty(runs), np.empty(runs)
    for i in range(runs):
        s, cs = time.perf_counter(), time.thread_time()
        pred._run(x1)
        c[i] = time.thread_time() - cs
        t[i] = time.perf_counter() - s
    return {"p50": float(np.percentile(t, 50) * 1e3), "p99": float(np.percentile(t, 99) * 1e3),
            "cpu_p50": float(np.percentile(c, 50) * 1e3), "cpu_mean": float(c.mean() * 1e3)}  # fmt: skip


def calibration_windows(dataset: Path, contract: ModelContract, n: int = CALIBRATION, held_out: str | None = None) -> np.ndarray:
    """``n`` prepared windows spread over the training data: the ``train`` split, or in a k-fold /
    leave-one-out file every split but the ``held_out`` one the model is tested on (calibrating on
    the unheard speaker's windows would tune the int8 ranges to the very data it is scored on)."""
    from sensorlab.datasets.dataset import Dataset

    with Dataset.open(dataset) as ds:
        names = ds.split_names
        if "train" in names:
            m = ds.mask("train")
        else:
            m = ~ds.mask(held_out) if held_out in names else ds.mask(None)
        idx = np.flatnonzero(m)
        idx = idx[np.linspace(0, len(idx) - 1, min(n, len(idx))).astype(int)] if len(idx) else idx
        x = ds.windows(contract.input["stream"], idx)  # increasing, distinct indices: one h5py read
    return contract.prepare(x)


def report_split(model: Path, dataset: Path, split: str | None = None) -> str:
    """The split ``quantize`` reports on: ``split`` if given, else the one the model's run tested on, else ``test``."""
    from sensorlab.datasets.dataset import Dataset
    from sensorlab.training.data import DataError
    from sensorlab.training.export import _tested_on

    with Dataset.open(dataset) as ds:
        names = ds.split_names
    if split is not None and split not in names:
        raise DataError(f"{Path(dataset).name}: no split {split!r}; it has {', '.join(names)}")
    found = next((s for s in (split, _tested_on(Path(model)), "test") if s in names), None)
    if found is None:
        raise DataError(f"{Path(dataset).name}: no split 'test' to report on; it has {', '.join(names)}: pass --split NAME")
    return found


def _frontend_nodes(path: Path) -> list[str]:
    """Nodes computing the log-mel front end (everything up to the Log), kept in float."""
    import onnx

    g = onnx.load(str(path)).graph
    producers = {o: n for n in g.node for o in n.output}
    logs = [n for n in g.node if n.op_type == "Log"]
    keep, stack = set(), [i for n in logs for i in n.input]
    names = [n.name for n in logs]
    while stack:
        node = producers.get(stack.pop())
        if node is None or node.name in keep:
            continue
        keep.add(node.name)
        stack.extend(node.input)
    return names + sorted(keep)


def _with_contract(path: Path, contract: ModelContract, how: str) -> None:
    c = ModelContract.from_json(contract.to_json())
    c.model = {**c.model, "quantization": how}
    set_metadata(path, c)


def quantize(onnx_fp32: Path, dataset: Path, out_dir: Path | None = None, split: str | None = None) -> dict:
    """Write the static and dynamic int8 builds beside ``onnx_fp32``; report on the test split (`report_split`)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from sensorlab.training.data import eval_windows
    from sensorlab.training.metrics import classification_metrics
    from sensorlab.training.train import finite_json

    onnx_fp32 = Path(onnx_fp32)
    out_dir = Path(out_dir) if out_dir else onnx_fp32.parent
    fp32 = OnnxPredictor(onnx_fp32)
    contract = fp32.contract
    split = report_split(onnx_fp32, dataset, split)
    calib = calibration_windows(dataset, contract, held_out=split)
    pre = stage_path(out_dir / f"{onnx_fp32.stem}.pre.onnx")  # hidden: not a model to ship
    static = out_dir / f"{onnx_fp32.stem}.int8.onnx"
    dynamic = out_dir / f"{onnx_fp32.stem}.dynamic.onnx"
    try:
        quant_pre_process(str(onnx_fp32), str(pre), skip_symbolic_shape=True)

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.it = iter(calib[i : i + 1] for i in range(len(calib)))

            def get_next(self):
                x = next(self.it, None)
                return None if x is None else {fp32.input: x}

        exclude = _frontend_nodes(pre) if contract.features.get("kind") == "log_mel" else []
        # Each build appears under its name only with its contract in it (see training.staged).
        with staged(static) as tmp:
            quantize_static(str(pre), str(tmp), Reader(), quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QInt8,
                            weight_type=QuantType.QInt8, nodes_to_exclude=exclude, extra_options={"ActivationSymmetric": False})  # fmt: skip
            _with_contract(tmp, contract, f"static QDQ int8, per-channel, calibrated on {len(calib)} training windows")
        with staged(dynamic) as tmp:
            quantize_dynamic(str(pre), str(tmp), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=exclude)
            _with_contract(tmp, contract, "dynamic int8 weights")
    finally:
        pre.unlink(missing_ok=True)

    x, y, _ = eval_windows(dataset, contract, split)
    ref = fp32.predict(x)
    one = x[:1] if len(x) else calib[:1]
    rows = []
    for name, path in (("fp32", onnx_fp32), ("int8 static (QDQ)", static), ("int8 dynamic", dynamic)):
        p = fp32 if path == onnx_fp32 else OnnxPredictor(path)
        logits = p.predict(x)
        acc = classification_metrics(y, logits.argmax(1), contract.labels)["accuracy"] if len(x) else float("nan")
        rows.append({"build": name, "file": path.name, "size_bytes": path.stat().st_size, "latency_ms": latency_ms(p, one),
                     "accuracy": acc, "argmax_agreement": float((logits.argmax(1) == ref.argmax(1)).mean()) if len(x) else float("nan")})  # fmt: skip
    base = rows[0]
    verdicts = []
    for r in rows[1:]:
        r["size_ratio"] = r["size_bytes"] / base["size_bytes"]
        r["latency_ratio"] = r["latency_ms"]["p50"] / base["latency_ms"]["p50"]
        r["accuracy_drop"] = base["accuracy"] - r["accuracy"]
        figures = (("size", r["size_ratio"]), ("latency", r["latency_ratio"]), ("accuracy_drop", r["accuracy_drop"]))
        missed = [(k, v) for k, v in figures if v > GOALS[k]]
        unmeasured = [k for k, v in figures if v != v]  # NaN: no test windows to measure it on
        # A goal never measured is not met: without test windows the accuracy loss is unknown.
        r["meets_goals"] = not missed and not unmeasured
        verdicts.append(f"{r['build']}: {verdict_words(missed, unmeasured, r['meets_goals'])}")
    report = {"model": str(onnx_fp32), "dataset": str(dataset), "split": split, "test_windows": int(len(x)), "calibration_windows": int(len(calib)),
              "threads": 1, "goals": GOALS, "builds": rows, "verdicts": verdicts, "excluded_nodes": len(exclude)}  # fmt: skip
    # No test windows: accuracy, agreement and accuracy drop are NaN, which json.dumps writes as a
    # bare NaN that strict parsers (jq, JavaScript, json.loads with parse_constant) reject; null
    # ("not measured") as metrics.json has it. The report returned (and printed by --json) matches.
    report = finite_json(report)
    (out_dir / "quantize.json").write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    (out_dir / "quantize.md").write_text(format_report(report) + "\n", encoding="utf-8")
    return report


#: The goals in the user's words (the report's keys stay as they are: scripts read them).
GOAL_WORDS = {"size": "size", "latency": "latency", "accuracy_drop": "accuracy drop"}


def _missed_words(key: str, value: float) -> str:
    """One missed goal with its figure and the goal, e.g. "accuracy drop 18.8 points (goal ≤ 1)"."""
    if key == "accuracy_drop":
        return f"accuracy drop {value * 100:.1f} points (goal ≤ {GOALS[key] * 100:g})"
    return f"{GOAL_WORDS[key]} {value:.2f}× fp32 (goal ≤ {GOALS[key]:g}×)"


def verdict_words(missed: list[tuple[str, float]], unmeasured: list[str], meets_goals: bool) -> str:
    """The verdict a user reads (log, report, CLI): goals named in words, with the figures that missed."""
    if meets_goals:
        return "meets every goal"
    verdict = "does not pay on " + ", ".join(_missed_words(k, v) for k, v in missed) if missed else "meets every measured goal"
    if unmeasured:
        verdict += "; " + ", ".join(GOAL_WORDS[k] for k in unmeasured) + " not measured (no test windows)"
    return verdict


def format_report(r: dict) -> str:
    lines = [f"{r['test_windows']} test windows (split {r.get('split', 'test')!r}), {r['calibration_windows']} calibration windows, onnxruntime 1 thread", "",
             "| build | size | size ratio | p50 ms | p99 ms | latency ratio | accuracy | agreement with fp32 |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    # No test windows: accuracy and agreement are NaN; the table showed "nan", now "–" (not measured).
    score = lambda v: "–" if v is None or v != v else f"{v:.4f}"  # noqa: E731 (v != v: NaN)
    for b in r["builds"]:
        lines.append(f"| {b['build']} | {b['size_bytes'] / 1024:.1f} KiB | {b.get('size_ratio', 1):.2f} | {b['latency_ms']['p50']:.3f} | "
                     f"{b['latency_ms']['p99']:.3f} | {b.get('latency_ratio', 1):.2f} | {score(b['accuracy'])} | {score(b['argmax_agreement'])} |")  # fmt: skip
    g = r["goals"]
    lines += ["", f"Goals: int8 size ≤ {g['size']}×, latency ≤ {g['latency']}×, accuracy loss ≤ {g['accuracy_drop'] * 100:.0f} point."]
    lines += [f"- {v}" for v in r["verdicts"]]
    return "\n".join(lines)
