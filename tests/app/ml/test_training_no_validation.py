"""A dataset too small for validation windows: training said "val acc 1.000" (the training
figures under the validation name); it says there is no validation split and what to do."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.app.ml.conftest import write_tiny_dataset

pytest.importorskip("torch")


def _dataset_without_val(tmp_path):
    """3 train windows (15 % of 3 rounds to none held out) and 6 test windows, no 'val' split."""

    return write_tiny_dataset(tmp_path / "ds.h5", np.where(np.arange(9) < 3, 0, 2))  # train, test


def test_train_without_validation_windows_says_so_instead_of_a_val_accuracy(tmp_path):
    from sensorlab.cli import app

    ds = _dataset_without_val(tmp_path)
    r = CliRunner().invoke(app, ["train", str(ds), "--task", "timeseries", "--epochs", "2", "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    assert "val acc" not in r.output and "val loss" not in r.output
    assert "warning: no validation split: the dataset has no 'val' windows and 15% of its 3 train windows rounds to none" in r.output
    assert "give the dataset a val split" in r.output and "val_fraction" in r.output
    assert r.output.count("(no validation split)") == 2  # each epoch line
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert [h["val_acc"] for h in metrics["history"]] == [None, None] and metrics["n_val"] == 0
    assert metrics["val_source"] == "none"


def test_training_tab_says_there_is_no_validation_split(qtbot, tmp_path):
    from sensorlab.app.training.tab import TrainingTab

    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.set_dataset(_dataset_without_val(tmp_path))
    tab.epochs.setValue(2)
    with qtbot.waitSignal(tab.run_finished, timeout=300_000) as done:
        assert tab.start_training()
    assert done.args[0] == "ok", tab.log_view.toPlainText()
    log = tab.log_view.toPlainText()
    assert "val acc" not in log and "warning: no validation split" in log and log.count("(no validation split)") == 2
    # The validation curves stay empty: nothing was measured.
    assert all(np.isnan(tab.curves["val_acc"].getData()[1]))
