"""Open run… puts the run's dataset and settings back in the form, so Train repeats or varies it."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from sensorlab.app.training.tab import TrainingTab


def test_open_run_restores_the_form_and_train_repeats_the_run(qtbot, small_dataset, tmp_path):
    # A run trained from the command line with settings that are not the form's defaults, one
    # of which (weight decay) the form has no field for.
    config = tmp_path / "mine.toml"
    config.write_text("batch_size = 16\nlr = 0.01\npatience = 3\nwidth = 8\nweight_decay = 0.001\n", encoding="utf-8")
    run = tmp_path / "runs" / "mine"
    done = subprocess.run([sys.executable, "-m", "sensorlab.cli", "train", str(small_dataset), "--task", "timeseries",
                           "--config", str(config), "--epochs", "2", "--seed", "5", "--out", str(run)],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr

    tab = TrainingTab()
    qtbot.addWidget(tab)
    assert tab.open_run(run)
    assert tab.dataset.text() == str(small_dataset.resolve())
    assert tab.task.currentText() == "timeseries"
    assert (tab.epochs.value(), tab.batch_size.value(), tab.patience.value(), tab.width.value(), tab.seed.value()) == (2, 16, 3, 8, 5)
    assert tab.lr.value() == pytest.approx(0.01)
    assert "settings are in the form" in tab.status.text()
    # Train writes a new folder (the opened one is never overwritten) with the same settings.
    proposed = tab.run_edit.text()
    assert proposed and proposed != str(run)
    doc = tab.config_doc()
    assert doc["weight_decay"] == pytest.approx(0.001) and doc["batch_size"] == 16 and doc["width"] == 8
    assert tomllib.loads((run / "config.toml").read_text())["weight_decay"] == pytest.approx(0.001)
    # Another dataset: the opened run's extra settings no longer apply to it.
    tab.set_dataset(tmp_path / "other.h5")
    assert "weight_decay" not in tab.config_doc()
