"""Prune in the Training tab: a finished run → `sensorlab prune` as a subprocess → the smaller run on screen."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from sensorlab.app.training.tab import TrainingTab
from sensorlab.cli import app

pytest.importorskip("torch")


def _trained(dataset, run):
    """``run``: a 3-epoch run of ``dataset`` trained with ``sensorlab train``, as a run folder
    from an earlier session is (the tab opens it with Open run…)."""
    cfg = run.parent / "train.toml"
    cfg.write_text("batch_size = 16\npatience = 50\n")
    r = CliRunner().invoke(app, ["train", str(dataset), "--task", "timeseries", "--config", str(cfg), "--epochs", "3", "--out", str(run)])
    assert r.exit_code == 0, r.output
    return run


def test_prune_a_finished_run_shows_fine_tuning_curves_and_the_pruned_run(qtbot, small_dataset, tmp_path):
    run = _trained(small_dataset, tmp_path / "run")
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.set_dataset(small_dataset)
    assert tab.open_run(run)  # Open run…: a run folder trained earlier
    assert tab.results.prune_button.isEnabled() and tab.results.sparsity.currentText() == "50%"
    events = []
    tab.runner.event.connect(events.append)
    with qtbot.waitSignal(tab.runner.finished, timeout=300_000) as blocker:
        tab.results.prune_button.click()
        assert not tab.results.prune_button.isEnabled()  # one job at a time
    assert blocker.args[0] == "ok", tab.log_view.toPlainText()[-2000:]
    pruned = tmp_path / "run-pruned50"
    epochs = [e for e in events if e["event"] == "epoch"]
    assert len(epochs) == 5  # the default fine-tuning epochs, drawn as curves
    x, y = tab.curves["val_loss"].getData()
    assert list(y) == pytest.approx([e["val_loss"] for e in epochs])
    # The results panel now shows the pruned run: fewer parameters, its model card names the parent.
    metrics = json.loads((pruned / "metrics.json").read_text())
    parent = json.loads((run / "metrics.json").read_text())
    assert tab.results.run == pruned and tab.run_dir == pruned
    assert metrics["contract"]["model"]["params"] < parent["contract"]["model"]["params"] / 2
    assert f"<b>{pruned.name}</b>" in tab.results.summary.text() and f"{metrics['contract']['model']['params']:,} parameters" in tab.results.summary.text()
    assert "Pruned from run run (" in tab.results.card.toPlainText()  # markdown rendered: no backticks
    assert "| 50% |" in tab.log_view.toPlainText()  # the accuracy-vs-sparsity table
    assert tab.results.export_button.isEnabled()  # the next step works on the pruned run


def test_a_prune_that_fails_leaves_the_run_and_its_curves_on_screen(qtbot, small_dataset, tmp_path):
    # The run's dataset was moved away since training: the prune cannot fine-tune. The run on
    # screen stays whole: its curves too (they were cleared for the fine-tuning epochs).
    dataset = tmp_path / "imu.h5"
    dataset.write_bytes(small_dataset.read_bytes())
    run = _trained(dataset, tmp_path / "run")
    tab = TrainingTab()
    qtbot.addWidget(tab)
    assert tab.open_run(run)
    before = list(tab.curves["val_loss"].getData()[1])
    assert len(before) == 3
    dataset.unlink()
    with qtbot.waitSignal(tab.runner.finished, timeout=300_000) as blocker:
        tab.results.prune_button.click()
    assert blocker.args[0] == "failed", tab.log_view.toPlainText()[-2000:]
    assert tab.status.text().startswith("⚠ prune failed")
    assert list(tab.curves["val_loss"].getData()[1]) == pytest.approx(before)
    assert tab.results.run == run and tab.run_dir == run and tab.results.prune_button.isEnabled()
