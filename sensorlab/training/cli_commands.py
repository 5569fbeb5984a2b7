"""``sensorlab train | evaluate | export | quantize``: registered on the main app by ``cli.py``.

Each command parses options and calls one function of this package; torch is imported only
inside the commands. Errors are one line with exit status 1 (2 for bad usage). ``--json``
prints one JSON object per line on stdout (progress events, then the result) for the GUI.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from sensorlab.contract import ContractError


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code)


def _emit(obj: dict, as_json: bool, human: str | None = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
        sys.stdout.flush()
    elif human:
        typer.echo(human)


def _errors():
    from sensorlab.datasets.dataset import DatasetError
    from sensorlab.training.config import ConfigError
    from sensorlab.training.data import DataError
    from sensorlab.training.predictors import ModelFileError

    return (DatasetError, ConfigError, DataError, ModelFileError, ContractError)


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

    Example: sensorlab train imu.h5 --task timeseries --epochs 30
    """
    from sensorlab.training.config import TASKS, load_config

    if task not in TASKS:
        _fail(f"--task {task!r}: use one of {', '.join(TASKS)}", 2)
    try:
        cfg = load_config(config, task, epochs=epochs, seed=seed)
        from sensorlab.training.train import default_run_dir, iter_train

        run = out or default_run_dir(dataset, task)
        if run.exists() and any(run.iterdir()):
            _fail(f"{run}: run folder exists and is not empty; choose another with --out")
        existed = run.exists()
        events = iter_train(dataset, cfg, run)
    except _errors() as e:
        _fail(str(e))
    try:
        for ev in events:
            e = ev["event"]
            if e == "start":
                human = f"training {ev['arch']} ({ev['params']:,} parameters) on {ev['stream']}: {ev['windows']}"
            elif e == "epoch":
                human = (f"epoch {ev['epoch']}/{ev['epochs']}  loss {ev['train_loss']:.4f}  acc {ev['train_acc']:.3f}  "
                         f"val loss {ev['val_loss']:.4f}  val acc {ev['val_acc']:.3f}")  # fmt: skip
            elif e == "early_stop":
                human = f"early stop at epoch {ev['epoch']} (best {ev['best_epoch']})"
            else:
                human = f"test accuracy {ev['test_accuracy']:.4f}, macro F1 {ev['macro_f1']:.4f}; run folder {ev['run']}"
            _emit(ev, as_json, human)
    except _errors() as e:
        _fail(str(e))
    except KeyboardInterrupt:
        # Ctrl+C, or Cancel in the studio (SIGINT): the run folder is written only at the end,
        # so a run stopped while writing it must not leave half a run behind.
        events.close()
        if not existed and run.exists():
            import shutil

            shutil.rmtree(run, ignore_errors=True)
        _fail(f"interrupted; nothing saved ({run} not written)", 130)


def evaluate(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="Run folder, model.pt, .onnx or .tflite file.")],
    dataset: Annotated[Path, typer.Argument(metavar="DATASET.h5")],
    split: Annotated[str, typer.Option(metavar="train|val|test|all", help="Split to evaluate on ('all' for every window).")] = "test",
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as one JSON object.")] = False,
) -> None:
    """Accuracy, per-class precision/recall/F1 and the confusion matrix of any build of a model.

    Example: sensorlab evaluate runs/imu-timeseries/model.int8.onnx imu.h5 --split test
    """
    from sensorlab.training.metrics import format_metrics
    from sensorlab.training.predictors import evaluate as run_eval

    try:
        m = run_eval(model, dataset, None if split == "all" else split)
    except _errors() as e:
        _fail(str(e))
    _emit(m, as_json, f"{m['kind']} model {model} on {dataset} (split {split})\n" + format_metrics(m))


def export(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="Run folder (or its model.pt).")],
    format: Annotated[str, typer.Option("--format", metavar="onnx|tflite", help="Model file format to write.")] = "onnx",
    output: Annotated[Optional[Path], typer.Option("-o", "--output", metavar="FILE", help="File to write (default RUN/model.onnx).")] = None,
    dataset: Annotated[Optional[Path], typer.Option(metavar="DATASET.h5", help="Windows for the self-check (default: the run's dataset).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the self-check report as JSON.")] = False,
) -> None:
    """Export a trained model with its contract embedded, and check it against PyTorch on real windows.

    Example: sensorlab export runs/imu-timeseries --format onnx
    """
    if format != "onnx":
        _fail(f"--format {format}: only onnx is available in this build (TFLite export is not implemented yet)", 2)
    from sensorlab.training.export import ExportError, export_onnx

    try:
        r = export_onnx(run, output, dataset)
    except (*_errors(), ExportError) as e:
        _fail(str(e))
    _emit(r, as_json, f"wrote {r['file']} ({r['size_bytes'] / 1024:.1f} KiB); matches PyTorch on {r['windows']} windows "
                      f"(max |diff| {r['max_abs_diff']:.2g}, tolerance {r['tolerance']})")  # fmt: skip


def quantize(
    model: Annotated[Path, typer.Argument(metavar="MODEL.onnx", help="fp32 ONNX model from `sensorlab export`.")],
    dataset: Annotated[Path, typer.Argument(metavar="DATASET.h5", help="Calibration (train) and test windows.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Static QDQ int8 (per-channel, calibrated) and dynamic int8 ONNX builds, with a side-by-side report.

    Example: sensorlab quantize runs/imu-timeseries/model.onnx imu.h5
    """
    from sensorlab.training.quantize import format_report, quantize as run_quantize

    try:
        r = run_quantize(model, dataset)
    except _errors() as e:
        _fail(str(e))
    _emit(r, as_json, format_report(r))


def register(app: typer.Typer) -> None:
    app.command(short_help="Train a small model on a dataset file.")(train)
    app.command(short_help="Accuracy, per-class P/R/F1 and confusion of a model on a dataset split.")(evaluate)
    app.command(short_help="Export a trained model (ONNX) with its contract.")(export)
    app.command(short_help="int8 ONNX builds (static QDQ, dynamic) with a size/latency/accuracy report.")(quantize)
