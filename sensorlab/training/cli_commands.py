"""``sensorlab train | evaluate | export | quantize | prune | export-c | bench-model``: registered on the main app by ``cli.py``.

Each command parses options and calls one function of this package; torch is imported only
inside the commands. Errors are one line with exit status 1 (2 for bad usage). ``--json``
prints one JSON object per line on stdout (progress events, then the result) for the GUI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from sensorlab.cli_support import fail, json_line
from sensorlab.contract import ContractError


def _emit(obj: dict, as_json: bool, human: str | None = None) -> None:
    if as_json:
        json_line(obj)
    elif human:
        typer.echo(human)


def _errors():
    from sensorlab.datasets.dataset import DatasetError
    from sensorlab.training.config import ConfigError
    from sensorlab.training.data import DataError
    from sensorlab.training.predictors import ModelFileError
    from sensorlab.training.train import RunFolderError

    return (DatasetError, ConfigError, DataError, ModelFileError, ContractError, RunFolderError)


def train(
    dataset: Annotated[Path, typer.Argument(metavar="DATASET.h5", help="Dataset file (sensorlab dataset build).")],
    task: Annotated[str, typer.Option(metavar="audio|timeseries|image", help="What the windows hold: audio, sensor time series or images.")],
    config: Annotated[Optional[Path], typer.Option(metavar="train.toml", help="Training settings (TOML); see docs/TRAINING.md.")] = None,
    out: Annotated[Optional[Path], typer.Option("-o", "--out", metavar="RUN", help="Run folder to write (default runs/DATASET-TASK[-N]).")] = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, metavar="N", help="Override the config's epochs.")] = None,
    seed: Annotated[Optional[int], typer.Option(metavar="N", help="Override the config's seed.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Progress as JSON lines on stdout (for the GUI).")] = False,
) -> None:
    """Train a small model on a dataset; write a run folder (checkpoint, config, metrics, plots, model card).

    Runs unchanged under torchrun (several processes, DDP over gloo; rank 0 prints and writes).

    Example: sensorlab train imu.h5 --task timeseries --epochs 30
    """
    from sensorlab.training.config import TASKS, load_config
    from sensorlab.training.distributed import is_main
    from sensorlab.training.metrics import epoch_summary, start_notes, test_summary

    if task not in TASKS:
        fail(f"--task {task!r}: use one of {', '.join(TASKS)}", 2)
    try:
        cfg = load_config(config, task, epochs=epochs, seed=seed)
        from sensorlab.training.train import default_run_dir, iter_train

        run = out or default_run_dir(dataset, task)
        if run.exists() and any(run.iterdir()):
            fail(f"{run}: run folder exists and is not empty; choose another with --out")
        existed = run.exists()
        events = iter_train(dataset, cfg, run)
    except _errors() as e:
        fail(str(e))
    try:
        for ev in events:
            e = ev["event"]
            if e == "start":
                human = f"training {ev['arch']} ({ev['params']:,} parameters) on {ev['stream']}: " + ", ".join(f"{n} {k} windows" for k, n in ev["windows"].items())
                human += "".join(f"\nwarning: {note}" for note in start_notes(ev))
            elif e == "epoch":
                human = epoch_summary(ev)
            elif e == "early_stop":
                human = f"early stop at epoch {ev['epoch']} (best {ev['best_epoch']})"
            else:
                human = f"{test_summary(ev['test_accuracy'], ev['macro_f1'], ev['test_windows'])}; run folder {ev['run']}"
            if is_main():  # under torchrun the other processes train silently
                _emit(ev, as_json, human)
    except _errors() as e:
        fail(str(e))
    except KeyboardInterrupt:
        # Ctrl+C, or Cancel in the studio (SIGINT): the run folder is written only at the end,
        # so a run stopped while writing it must not leave half a run behind.
        events.close()
        if not existed and run.exists():
            import shutil

            shutil.rmtree(run, ignore_errors=True)
        fail(f"interrupted; nothing saved ({run} not written)", 130)


def evaluate(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="Run folder, model.pt, .onnx or .tflite file.")],
    dataset: Annotated[Path, typer.Argument(metavar="DATASET.h5")],
    split: Annotated[str, typer.Option(metavar="train|val|test|all", help="Split to evaluate on ('all' for every window).")] = "test",
    against: Annotated[Optional[Path], typer.Option(metavar="MODEL", help="Another build of the model (e.g. the run folder): report on how many windows both give the same class.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as one JSON object.")] = False,
) -> None:
    """Accuracy, per-class precision/recall/F1 and the confusion matrix of any build of a model.

    Example: sensorlab evaluate runs/imu-timeseries/model.int8.onnx imu.h5 --split test --against runs/imu-timeseries
    """
    from sensorlab.training.metrics import format_metrics
    from sensorlab.training.predictors import evaluate as run_eval

    try:
        m = run_eval(model, dataset, None if split == "all" else split, against)
    except _errors() as e:
        fail(str(e))
    human = f"{m['kind']} model {model} on {dataset} (split {split})\n" + format_metrics(m)
    if "agreement" in m:
        a = m["agreement"]
        human += f"\nsame class as {a['kind']} {a['against']} on {a['argmax_agreement']:.2%} of {a['windows']} windows"
    _emit(m, as_json, human)


def export(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="Run folder (or its model.pt).")],
    format: Annotated[str, typer.Option("--format", metavar="onnx|tflite", help="Model file format to write.")] = "onnx",
    int8: Annotated[bool, typer.Option("--int8", help="TFLite only: full-integer int8 (int8 input and output), calibrated on train windows.")] = False,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", metavar="FILE", help="File to write (default RUN/model.onnx, model.tflite or model.int8.tflite).")] = None,
    dataset: Annotated[Optional[Path], typer.Option(metavar="DATASET.h5", help="Windows for the self-check (default: the run's dataset).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the self-check report as JSON.")] = False,
) -> None:
    """Export a trained model with its contract embedded, and check it against PyTorch on real windows.

    Example: sensorlab export runs/imu-timeseries --format tflite --int8
    """
    if format not in ("onnx", "tflite"):
        fail(f"--format {format}: use onnx or tflite", 2)
    if int8 and format != "tflite":
        fail("--int8 is for --format tflite; ONNX int8 builds come from `sensorlab quantize MODEL.onnx DATASET.h5`", 2)
    from sensorlab.training.export import ExportError, export_onnx

    try:
        if format == "onnx":
            r = export_onnx(run, output, dataset)
        else:
            from sensorlab.training.tflite_export import export_tflite

            r = export_tflite(run, output, dataset, int8=int8)
    except (*_errors(), ExportError) as e:
        fail(str(e))
    except ImportError as e:
        fail(f"TFLite export needs the converter: pip install -e '.[tflite]' (missing {e.name})")
    if int8:
        human = (f"wrote {r['file']} ({r['size_bytes'] / 1024:.1f} KiB, int8 input scale {r['input_quantization']['scale']:.4g} "
                 f"zero point {r['input_quantization']['zero_point']}); argmax agrees with PyTorch on {r['argmax_agreement']:.1%} "
                 f"of {r['windows']} windows (max |logit diff| {r['max_abs_diff']:.2g})")  # fmt: skip
    else:
        human = (f"wrote {r['file']} ({r['size_bytes'] / 1024:.1f} KiB); matches PyTorch on {r['windows']} windows "
                 f"(max |diff| {r['max_abs_diff']:.2g}, tolerance {r['tolerance']})")  # fmt: skip
    _emit(r, as_json, human)


def export_c(
    model: Annotated[Path, typer.Argument(metavar="MODEL.tflite", help="TFLite file from `sensorlab export --format tflite --int8`.")],
    out: Annotated[Optional[Path], typer.Option("-o", "--out", metavar="DIR", help="Folder for NAME.h / NAME.c (default: beside the model).")] = None,
    name: Annotated[Optional[str], typer.Option(metavar="NAME", help="C name prefix and file name (default from the model file name).")] = None,
    dataset: Annotated[Optional[Path], typer.Option(metavar="DATASET.h5", help="Windows for the TFLM-vs-LiteRT check (default: the run's dataset).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """C header and source for TensorFlow Lite Micro: aligned model array, contract constants, measured arena size.

    Example: sensorlab export-c runs/imu-timeseries/model.int8.tflite --name imu_model
    """
    from sensorlab.training.export_c import ExportCError, export_c as run_export_c

    try:
        r = run_export_c(model, out, name, dataset)
    except (*_errors(), ExportCError) as e:
        fail(str(e))
    a = r["tflm_vs_litert"]
    _emit(r, as_json, f"wrote {r['header']} and {r['source']} ({r['model_bytes']:,}-byte model); TFLM tensor arena {r['arena_bytes_measured']:,} bytes "
                      f"measured (ARENA_SIZE {r['arena_size_define']:,}); TFLM vs LiteRT on {a['windows']} windows: argmax agreement "
                      f"{a['argmax_agreement']:.1%}, identical outputs {a['identical_outputs']:.1%}")  # fmt: skip


def bench_model(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help=".onnx or .tflite file.")],
    runs: Annotated[int, typer.Option(min=10, metavar="N", help="Timed single-window runs.")] = 300,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Parameters, MACs, size, 1-thread latency p50/p99 and peak memory of an ONNX or TFLite model.

    Example: sensorlab bench-model runs/imu-timeseries/model.int8.tflite
    """
    from sensorlab.training.bench import bench, format_bench

    try:
        r = bench(model, runs)
    except _errors() as e:
        fail(str(e))
    _emit(r, as_json, format_bench(r))


def quantize(
    model: Annotated[Path, typer.Argument(metavar="MODEL.onnx", help="fp32 ONNX model from `sensorlab export`.")],
    dataset: Annotated[Path, typer.Argument(metavar="DATASET.h5", help="Calibration (train) and test windows.")],
    split: Annotated[Optional[str], typer.Option(metavar="NAME", help="Split to report on (default: the one the run tested on, else test); never calibrated on.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Static QDQ int8 (per-channel, calibrated) and dynamic int8 ONNX builds, with a side-by-side report.

    Example: sensorlab quantize runs/imu-timeseries/model.onnx imu.h5
    """
    from sensorlab.training.quantize import format_report, quantize as run_quantize

    try:
        r = run_quantize(model, dataset, split=split)
    except _errors() as e:
        fail(str(e))
    _emit(r, as_json, format_report(r))


def prune(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="Run folder from `sensorlab train`.")],
    sparsity: Annotated[str, typer.Option(metavar="S[,S…]", help="Fraction of filters removed from each convolution; a list sweeps (0.25,0.5,0.75).")] = "0.5",
    epochs: Annotated[int, typer.Option(min=1, metavar="N", help="Fine-tuning epochs after pruning.")] = 5,
    lr: Annotated[Optional[float], typer.Option(min=0.0, metavar="LR", help="Fine-tuning learning rate (default: the run's).")] = None,
    dataset: Annotated[Optional[Path], typer.Option(metavar="DATASET.h5", help="Dataset to fine-tune and test on (default: the run's).")] = None,
    out: Annotated[Optional[Path], typer.Option("-o", "--out", metavar="RUN", help="Pruned run folder (one sparsity only; default RUN-prunedNN).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Progress as JSON lines on stdout (for the GUI).")] = False,
) -> None:
    """Structured magnitude pruning (whole filters removed, so exported files shrink), fine-tuning, a new run folder.

    Prints an accuracy-vs-sparsity table (also written to RUN/prune.md).

    Example: sensorlab prune runs/imu-timeseries --sparsity 0.25,0.5,0.75
    """
    from sensorlab.training.metrics import epoch_summary
    from sensorlab.training.prune import PruneError, iter_prune, parse_sparsities

    current = events = None  # the pruned run being fine-tuned (removed if interrupted before it is complete)
    try:
        events = iter_prune(run, parse_sparsities(sparsity), dataset, epochs, lr, out)
        for ev in events:
            e, at = ev["event"], f"[{ev.get('step')}/{ev.get('steps')}] " if "step" in ev else ""
            if e == "prune":
                current = Path(ev["run"])
                human = (f"{at}pruned {ev['sparsity']:.0%} of the filters: {ev['parent_params']:,} → {ev['params']:,} parameters "
                         f"(channels {ev['widths']}), test accuracy before fine-tuning {ev['accuracy_pruned']:.4f}")  # fmt: skip
            elif e == "epoch":
                human = at + epoch_summary(ev, "fine-tune epoch")
            elif e == "done":
                human = f"{at}test accuracy {ev['test_accuracy']:.4f}; run folder {ev['run']}"
                current = None
            elif e == "table":
                human = f"\n{ev['text']}\n\n(table written to {ev['report']})"
            else:
                human = None
            _emit(ev, as_json, human)
    except (*_errors(), PruneError) as e:
        fail(str(e))
    except KeyboardInterrupt:
        if events is not None:
            events.close()
        if current is not None and current.exists() and not (current / "MODEL_CARD.md").exists():
            import shutil

            shutil.rmtree(current, ignore_errors=True)  # it did not exist before (prune refuses a non-empty folder)
        fail(f"interrupted; {current or 'the pruned run'} not written", 130)


def register(app: typer.Typer) -> None:
    app.command(short_help="Train a small model on a dataset file.")(train)
    app.command(short_help="Accuracy, per-class P/R/F1 and confusion of a model on a dataset split.")(evaluate)
    app.command(short_help="Export a trained model (ONNX, TFLite fp32/int8) with its contract.")(export)
    app.command(short_help="int8 ONNX builds (static QDQ, dynamic) with a size/latency/accuracy report.")(quantize)
    app.command(short_help="Structured pruning with fine-tuning; accuracy-vs-sparsity table.")(prune)
    app.command("export-c", short_help="A TFLite model as C source for TFLite Micro, with contract and arena size.")(export_c)
    app.command("bench-model", short_help="Parameters, MACs, size, latency and peak memory of an ONNX or TFLite model.")(bench_model)
