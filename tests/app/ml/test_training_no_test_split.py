"""The Training tab's results for a run whose dataset had no test windows (one labeled session):
it showed "test accuracy nan, macro F1 nan"; it says there are no test metrics and why."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.app.ml.conftest import write_tiny_dataset

pytest.importorskip("torch")


def _train_without_test_windows(tmp_path):
    """A run (1 epoch) on a dataset with train and val windows only: its test split is empty."""
    from sensorlab.cli import app

    ds = write_tiny_dataset(tmp_path / "ds.h5", (np.arange(24) % 4 == 0).astype(np.int8))  # train and val, no test
    r = CliRunner().invoke(app, ["train", str(ds), "--task", "timeseries", "--epochs", "1", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    return ds, tmp_path / "run"


def test_results_of_a_run_without_test_windows_say_so(tmp_path, qtbot):
    from sensorlab.app.training.results import TrainingResults

    _train_without_test_windows(tmp_path)
    view = TrainingResults()
    qtbot.addWidget(view)
    view.show_run(tmp_path / "run")
    text = view.summary.text()
    assert "no test metrics" in text and "nan" not in text
    # The per-class table has no scores to show either: "–", not 0.000 (a model that got every class wrong).
    from PySide6.QtWidgets import QTableWidget

    table = view.metrics_view.widget().findChild(QTableWidget)
    cells = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]
    assert sorted(row[0] for row in cells) == ["a", "b"]
    assert all(row[1:4] == ["–", "–", "–"] and row[4] == "0" for row in cells), cells


def test_the_build_choice_says_what_it_is_before_there_is_a_build(qtbot):
    from sensorlab.app.training.results import TrainingResults

    view = TrainingResults()
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    box = view.model_choice
    assert box.count() == 0 and not box.isEnabled()
    assert box.placeholderText() == "no ONNX build yet"  # what the empty box shows
    assert box.width() >= box.fontMetrics().horizontalAdvance(box.placeholderText())


def test_use_in_live_view_hands_on_the_first_build_without_picking_one(tmp_path, qtbot):
    """After Export ONNX the box still read "no ONNX build yet" (index -1 under a placeholder text) and
    Use in live view emitted nothing: the fp32 build is chosen and handed on."""
    from sensorlab.app.training.results import TrainingResults

    run = tmp_path / "run"
    run.mkdir()
    for name in ("model.pt", "model.onnx", "model.int8.onnx"):
        (run / name).write_bytes(b"x")  # the buttons look only at which files the run folder holds
    view = TrainingResults()
    qtbot.addWidget(view)
    view.run = run
    view.set_busy(False)
    box = view.model_choice
    assert box.count() == 2 and box.currentIndex() == 0
    assert box.currentText() == box.itemText(0) != box.placeholderText()
    with qtbot.waitSignal(view.model_ready, timeout=5_000) as blocker:
        view.use_button.click()
    assert blocker.args == [str(run / "model.onnx")]
    box.setCurrentIndex(1)  # the user's choice survives a refresh (a job ending)
    view.set_busy(True)
    view.set_busy(False)
    assert box.currentData() == str(run / "model.int8.onnx")


def test_the_quantization_report_without_test_windows_shows_dashes_not_nan():
    """The Quantization tab (quantize.md) read "nan" for accuracy and agreement with no test windows."""
    from sensorlab.training.quantize import GOALS, format_report

    build = {"size_bytes": 2048, "latency_ms": {"p50": 0.1, "p99": 0.2}, "accuracy": float("nan"), "argmax_agreement": float("nan")}
    report = {"test_windows": 0, "split": "test", "calibration_windows": 9, "goals": GOALS, "verdicts": [],
              "builds": [{**build, "build": "fp32"}, {**build, "build": "int8 static (QDQ)", "size_ratio": 0.5, "latency_ratio": 0.5}]}
    text = format_report(report)
    assert "nan" not in text
    rows = [line for line in text.splitlines() if line.startswith("| fp32") or line.startswith("| int8")]
    assert len(rows) == 2 and all(row.endswith("| – | – |") for row in rows), rows


def test_quantize_json_without_test_windows_is_strict_json_with_null_scores(tmp_path, qtbot):
    """quantize.json held bare NaN for accuracy, agreement and accuracy drop when the dataset had no
    test windows: not JSON to jq, JavaScript or a strict json.loads. It has null ("not measured"),
    like metrics.json, and the Quantization tab still shows "–"."""
    import json

    from sensorlab.app.training.results import TrainingResults
    from sensorlab.cli import app

    ds, run = _train_without_test_windows(tmp_path)
    assert CliRunner().invoke(app, ["export", str(run)]).exit_code == 0
    r = CliRunner().invoke(app, ["quantize", str(run / "model.onnx"), str(ds), "--json"])
    assert r.exit_code == 0, r.output

    def reject(name):
        raise ValueError(f"not strict JSON: {name}")

    for text in ((run / "quantize.json").read_text(encoding="utf-8"), r.stdout):  # the file and what --json prints
        rep = json.loads(text, parse_constant=reject)
        assert rep["test_windows"] == 0
        assert [(b["accuracy"], b["argmax_agreement"]) for b in rep["builds"]] == [(None, None)] * 3
        assert [b["accuracy_drop"] for b in rep["builds"][1:]] == [None, None]
        assert all(b["size_bytes"] > 0 for b in rep["builds"])  # measured values stay numbers
        # An accuracy loss never measured is not "within the goal": no build is said to meet every goal.
        assert [b["meets_goals"] for b in rep["builds"][1:]] == [False, False]
        assert all("accuracy drop not measured (no test windows)" in v and "meets every goal" not in v for v in rep["verdicts"])
    view = TrainingResults()
    qtbot.addWidget(view)
    view.show_run(run)
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in view.quant.toMarkdown().splitlines() if line.startswith("|")]
    builds = {row[0]: row[-2:] for row in cells if row[0] in ("fp32", "int8 static (QDQ)", "int8 dynamic")}
    assert builds == {b: ["–", "–"] for b in ("fp32", "int8 static (QDQ)", "int8 dynamic")}, cells  # accuracy, agreement


def test_training_says_there_is_no_test_split_when_it_starts(tmp_path, qtbot):
    # "no test metrics" came only in the run's last line, after all the epochs: it is said
    # before the first epoch, with the fix (CLI and Training tab alike).
    from sensorlab.app.training.tab import TrainingTab
    from sensorlab.cli import app

    ds = write_tiny_dataset(tmp_path / "ds.h5", (np.arange(24) % 4 == 0).astype(np.int8))  # train and val, no test
    r = CliRunner().invoke(app, ["train", str(ds), "--task", "timeseries", "--epochs", "2", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    warning = next(i for i, line in enumerate(lines) if line.startswith("warning: no test split: the dataset's 'test' split has no windows"))
    first_epoch = next(i for i, line in enumerate(lines) if line.startswith("epoch"))
    assert warning < first_epoch and "test fraction > 0" in lines[warning], r.output

    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.set_dataset(ds)
    tab.epochs.setValue(2)
    tab.run_edit.setText(str(tmp_path / "run2"))
    tab.run_edit.setModified(True)
    seen_at_start = []
    tab.runner.event.connect(lambda ev: ev.get("event") == "start" and seen_at_start.append(tab.status.text()))
    with qtbot.waitSignal(tab.run_finished, timeout=300_000):
        assert tab.start_training()
    assert seen_at_start and "⚠ no test split" in seen_at_start[0] and "test fraction > 0" in seen_at_start[0]
    log = tab.log_view.toPlainText()
    assert log.index("warning: no test split") < log.index("epoch 1"), log
