"""The Training tab runs the real `sensorlab train|export|quantize` as subprocesses on a dataset built from sessions."""

from __future__ import annotations

import json

import pytest

from sensorlab.app.training.tab import TrainingTab
from tests.app.rendered import shown
from tests.app.ml.conftest import set_run

pytest.importorskip("torch")


def test_train_draws_every_epoch_then_shows_results_exports_quantizes_and_hands_the_model_on(qtbot, small_dataset, tmp_path):
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.set_dataset(small_dataset)
    assert tab.task.currentText() == "timeseries"  # guessed from the dataset's imu stream
    assert tab.run_edit.text().endswith("runs/imu-timeseries")
    run = tmp_path / "run"
    set_run(tab, run, epochs=4, patience=50, batch_size=16)
    events = []
    tab.runner.event.connect(events.append)
    with qtbot.waitSignal(tab.run_finished, timeout=300_000) as blocker:
        assert tab.start_training()
        assert not tab.train_button.isEnabled() and tab.cancel_button.isEnabled()
    assert blocker.args == ["ok", str(run)], tab.log_view.toPlainText()[-2000:]
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    # The live curves hold exactly the values of the JSON lines, epoch by epoch.
    for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
        x, y = tab.curves[key].getData()
        assert list(x) == [1, 2, 3, 4]
        assert list(y) == pytest.approx([e[key] for e in epochs])
    assert tab.progress.value() == tab.progress.maximum() == 4
    # And they match what the run folder recorded.
    history = json.loads((run / "metrics.json").read_text())["history"]
    assert [h["val_loss"] for h in history] == pytest.approx([e["val_loss"] for e in epochs])
    # Results: test accuracy as in metrics.json, confusion matrix image, model card.
    test = json.loads((run / "metrics.json").read_text())["test"]
    assert f"test accuracy <b>{test['accuracy']:.3f}</b>" in tab.results.summary.text()
    assert not tab.results.confusion.pixmap().isNull()
    assert "Model card" in tab.results.card.toPlainText() or run.name in tab.results.card.toPlainText()
    assert not tab.results.use_button.isEnabled()  # nothing the live view can run before the ONNX export

    with qtbot.waitSignal(tab.runner.finished, timeout=300_000) as blocker:
        tab.results.export_button.click()
    assert blocker.args[0] == "ok", tab.log_view.toPlainText()[-2000:]
    assert (run / "model.onnx").exists() and tab.results.quantize_button.isEnabled()
    assert tab.status.text() == f"exported {run.name}/model.onnx: Use in live view, or Quantize int8"  # was "export: done"
    with qtbot.waitSignal(tab.runner.finished, timeout=300_000) as blocker:
        tab.results.quantize_button.click()
    assert blocker.args[0] == "ok", tab.log_view.toPlainText()[-2000:]
    assert "int8 static (QDQ)" in tab.results.quant.toPlainText()
    assert tab.status.text() == f"quantized: int8 builds of {run.name} in the build list (compared in the Quantization tab)"
    assert tab.results.tabs.currentWidget() is tab.results.quant
    # Use in live view: the studio's live inference connects to model_ready.
    assert [tab.results.model_choice.itemData(i) for i in range(tab.results.model_choice.count())] == [
        str(run / "model.onnx"), str(run / "model.int8.onnx"), str(run / "model.dynamic.onnx")]
    with qtbot.waitSignal(tab.model_ready, timeout=5_000) as blocker:
        tab.results.model_choice.setCurrentIndex(1)
        tab.results.use_button.click()
    assert blocker.args == [str(run / "model.int8.onnx")]

    # Open run… in a fresh tab (another day): the recorded curves, the results and the builds.
    later = TrainingTab()
    qtbot.addWidget(later)
    assert later.open_run(run)
    x, y = later.curves["val_loss"].getData()
    assert list(x) == [1, 2, 3, 4] and list(y) == pytest.approx([e["val_loss"] for e in epochs])
    assert f"test accuracy <b>{test['accuracy']:.3f}</b>" in later.results.summary.text()
    assert later.results.model_choice.count() == 3 and later.task.currentText() == "timeseries"
    assert later.dataset.text() == str(small_dataset.resolve())
    assert not later.open_run(tmp_path)  # not a run folder: said so, nothing replaced
    assert later.status.text().startswith(f"⚠ {tmp_path} is not a finished training run (no metrics.json)")
    assert later.results.run == run


def test_cancel_stops_the_process_and_leaves_no_run_folder(qtbot, small_dataset, tmp_path):
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.set_dataset(small_dataset)
    run = tmp_path / "cancelled"
    set_run(tab, run, epochs=5000, patience=5000)
    with qtbot.waitSignal(tab.run_finished, timeout=300_000) as blocker:
        assert tab.start_training()
        qtbot.waitUntil(lambda: len(tab.history) >= 1, timeout=240_000)
        tab.cancel_button.click()
    assert blocker.args[0] == "cancelled"
    assert not tab.runner.running
    assert not run.exists()
    assert tab.status.text().startswith(f"Cancelled after {len(tab.history)} epoch(s): nothing saved")
    assert "interrupted; nothing saved" in tab.log_view.toPlainText()  # the command's own clean exit, no traceback
    x, _ = tab.curves["val_loss"].getData()
    assert len(x) == len(tab.history) >= 1  # the epochs it did stay on the plot
    assert tab.train_button.isEnabled() and not tab.cancel_button.isEnabled()


def test_an_early_stop_says_where_training_stopped_instead_of_a_full_planned_count(qtbot, small_dataset, tmp_path):
    """The bar read "epoch 40 / 40" after an early stop at epoch 9: it now names the epoch it stopped at."""
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.set_dataset(small_dataset)
    run = tmp_path / "run"
    set_run(tab, run, epochs=200, patience=1, batch_size=16)  # stops at the first epoch without a better validation loss
    events = []
    tab.runner.event.connect(events.append)
    with qtbot.waitSignal(tab.run_finished, timeout=300_000) as blocker:
        assert tab.start_training()
    assert blocker.args == ["ok", str(run)], tab.log_view.toPlainText()[-2000:]
    stop = next(e for e in events if e["event"] == "early_stop")
    ran = json.loads((run / "metrics.json").read_text())["epochs_run"]
    assert stop["epoch"] == ran < 200
    assert tab.progress.text() == f"stopped early: epoch {ran} of 200 (best {stop['best_epoch']})"
    assert tab.progress.value() == tab.progress.maximum() == ran  # full: the run is over


def test_the_epoch_axes_label_whole_epochs_only_before_and_after_the_first_epoch(qtbot):
    """Before the first epoch the empty Loss and Accuracy plots labelled the epoch axis 0.1 … 0.9:
    epochs are whole numbers, so the axis labels 0 and 1 (and a one-epoch history only 1)."""
    from tests.app.rendered import axis_texts

    tab = shown(qtbot, TrainingTab(), 1200, 800)

    def labels(plot):
        return sorted(float(t) for t in axis_texts(plot, "bottom"))

    for plot in (tab.loss_plot, tab.acc_plot):
        assert labels(plot) == [0.0, 1.0]
    epoch = {"event": "epoch", "epoch": 1, "epochs": 5, "train_loss": 0.7, "val_loss": 0.69, "train_acc": 0.5, "val_acc": 0.5,
             "lr": 1e-3, "seconds": 0.1}  # fmt: skip
    tab._on_event(epoch)
    for plot in (tab.loss_plot, tab.acc_plot):
        qtbot.waitUntil(lambda plot=plot: 0 < plot.viewRange()[0][0] < 1 < plot.viewRange()[0][1] < 2, timeout=10_000)  # the data's range
        assert labels(plot) == [1.0]
    for n in range(2, 13):
        tab._on_event({**epoch, "epoch": n})
    for plot in (tab.loss_plot, tab.acc_plot):
        qtbot.waitUntil(lambda plot=plot: plot.viewRange()[0][1] > 12, timeout=10_000)
        values = labels(plot)
        assert 12.0 in values and all(v == int(v) for v in values), values
