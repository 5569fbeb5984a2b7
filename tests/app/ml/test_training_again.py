"""Training tab, as a user uses it twice in a row: Train, then Train again."""

from __future__ import annotations

import pytest

from sensorlab.app.training.tab import TrainingTab
from tests.app.ml.conftest import set_run

pytest.importorskip("torch")


def test_train_again_proposes_the_next_free_run_folder_instead_of_refusing(qtbot, small_dataset, tmp_path):
    # A copy of the dataset in a folder of its own, so runs/ beside it is this test's.
    dataset = tmp_path / "imu.h5"
    dataset.write_bytes(small_dataset.read_bytes())
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.set_dataset(dataset)
    first = tmp_path / "runs" / "imu-timeseries"
    assert tab.run_edit.text() == str(first)
    # The first Train wrote the proposed folder (as `sensorlab train` does when it ends).
    first.mkdir(parents=True)
    (first / "metrics.json").write_text("{}")
    tab.epochs.setValue(1)  # trained to its end: no Cancel racing the child's start-up
    with qtbot.waitSignal(tab.run_finished, timeout=300_000) as blocker:
        assert tab.start_training(), tab.status.text()  # was refused: "… exists and is not empty"
        assert tab.run_edit.text() == str(tmp_path / "runs" / "imu-timeseries-2")
    assert blocker.args == ["ok", str(tmp_path / "runs" / "imu-timeseries-2")], tab.log_view.toPlainText()[-2000:]
    assert (tmp_path / "runs" / "imu-timeseries-2" / "metrics.json").exists()
    assert (first / "metrics.json").read_text() == "{}"  # the earlier run is untouched


def test_a_run_folder_the_user_typed_is_never_replaced_by_a_proposal(qtbot, small_dataset, tmp_path):
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.set_dataset(small_dataset)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "x").write_text("taken")
    tab.run_edit.setText(str(mine))
    tab.run_edit.setModified(True)  # typed by the user
    assert not tab.start_training()
    assert tab.run_edit.text() == str(mine)
    assert "exists and is not empty" in tab.status.text()


def test_cancelling_a_second_run_keeps_the_first_runs_results_on_screen(qtbot, small_dataset, tmp_path):
    # Train, look at the results, Train again with other settings, change one's mind: Cancel.
    # The first run's results (and its Export / Use buttons) were gone until Open run….
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.set_dataset(small_dataset)
    first = tmp_path / "first"
    set_run(tab, first, epochs=2, patience=50)
    with qtbot.waitSignal(tab.run_finished, timeout=300_000) as blocker:
        assert tab.start_training()
    assert blocker.args == ["ok", str(first)], tab.log_view.toPlainText()[-2000:]
    summary = tab.results.summary.text()
    assert "first" in summary and tab.results.export_button.isEnabled()
    first_curve = list(tab.curves["val_loss"].getData()[1])

    second = tmp_path / "second"
    set_run(tab, second, epochs=5000, patience=5000)
    with qtbot.waitSignal(tab.run_finished, timeout=300_000) as blocker:
        assert tab.start_training()
        qtbot.waitUntil(lambda: len(tab.history) >= 1, timeout=240_000)  # the second run's curves are drawn
        # Open run… cannot replace what is on screen while training: disabled, and said so.
        assert not tab.open_button.isEnabled()
        assert not tab.open_run(first) and "train is running" in tab.status.text()
        tab.cancel_button.click()
    assert blocker.args[0] == "cancelled"
    assert not second.exists() and tab.open_button.isEnabled()
    # The first run is back: its results, its curves, and what the buttons act on.
    assert tab.results.run == first and tab.results.summary.text() == summary
    assert tab.results.export_button.isEnabled()
    assert list(tab.curves["val_loss"].getData()[1]) == pytest.approx(first_curve)
    assert tab.run_dir == first
    assert tab.status.text().startswith("Cancelled after") and f"showing {first.name} again" in tab.status.text()
    with qtbot.waitSignal(tab.runner.finished, timeout=300_000) as blocker:
        tab.results.export_button.click()  # exports the first run, the one on screen
    assert blocker.args[0] == "ok", tab.log_view.toPlainText()[-2000:]
    assert (first / "model.onnx").exists()
