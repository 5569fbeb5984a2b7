"""A training run that fails says so on the progress bar too: it kept "epoch 0 / 40" under the
failure message, as if the run were still starting."""

from __future__ import annotations

import pytest

from tests.app.ml.conftest import write_tiny_dataset

pytest.importorskip("torch")


def test_a_failed_training_run_says_failed_on_the_progress_bar(qtbot, tmp_path):
    from sensorlab.app.training.tab import TrainingTab

    ds = write_tiny_dataset(tmp_path / "ds.h5", [2] * 8)  # test windows only: nothing to train on
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.set_dataset(ds)
    tab.epochs.setValue(40)
    with qtbot.waitSignal(tab.run_finished, timeout=300_000) as done:
        assert tab.start_training()
    assert done.args[0] == "failed"
    assert "no training windows" in tab.status.text()
    assert tab.progress.text() == "training failed before the first epoch"
