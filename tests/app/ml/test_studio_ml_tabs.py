"""The studio window holds the Datasets and Training tabs beside the live view."""

from __future__ import annotations


def test_ml_tabs_use_the_sessions_folder_and_hand_a_built_dataset_to_training(qtbot, make_window, corpus, small_dataset):
    w = make_window()
    assert [w.main_tabs.tabText(i) for i in range(w.main_tabs.count())] == ["Live", "Datasets", "Training"]
    w.session_form.folder.setText(str(corpus))  # the folder the Sessions list shows
    assert w.datasets_tab.picker.infos == []  # not read while the tab is hidden
    w.main_tabs.setCurrentWidget(w.datasets_tab)
    assert [i.path.stem for i in w.datasets_tab.picker.selected()] == ["a1", "a2", "b1", "c1", "d1"]
    # The recording docks give the room to the dataset pages, and come back on Live.
    assert not any(d.isVisible() for d in w._docks)
    w.datasets_tab.open_dataset(small_dataset)
    qtbot.waitUntil(lambda: w.datasets_tab.train_button.isEnabled(), timeout=60_000)
    w.datasets_tab.train_button.click()
    assert w.main_tabs.currentWidget() is w.training_tab
    assert w.training_tab.dataset.text() == str(small_dataset) and w.training_tab.task.currentText() == "timeseries"
    w.main_tabs.setCurrentIndex(0)
    assert all(d.isVisible() for d in w._docks)


def test_use_in_live_view_runs_the_model_on_the_live_streams(qtbot, make_window, tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "inference"))
    from onnx_models import mean_model, write_mapping

    model = mean_model(tmp_path / "motion.onnx", channels=2)
    write_mapping(model, stream="imu", channels=["ch0", "ch1"], window=0.2, hop=0.1, scores_kind="logits", labels=["still", "moving"])
    w = make_window()
    w.main_tabs.setCurrentWidget(w.training_tab)
    w.training_tab.model_ready.emit(str(model))  # what the results panel's "Use in live view" emits
    assert w.main_tabs.currentIndex() == 0
    qtbot.waitUntil(lambda: "motion_pred" in w.live_view.panels, timeout=20_000)


def test_use_in_live_view_scrolls_to_the_models_panel(qtbot, make_window, tmp_path):
    """The predictions panel comes below every device's: on a short window it was out of sight,
    and "Use in live view" seemed to do nothing."""
    import sys
    from pathlib import Path

    from PySide6.QtCore import QPoint

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "inference"))
    from onnx_models import mean_model, write_mapping

    model = mean_model(tmp_path / "motion.onnx", channels=2)
    write_mapping(model, stream="imu", channels=["ch0", "ch1"], window=0.2, hop=0.1, scores_kind="logits", labels=["still", "moving"])
    from sensorlab.acquisition.emulated.signal import SignalSource
    from tests.app.conftest import small_rig

    # A rig of several signals, as a bench often has: their panels fill the live view's height.
    extra = [SignalSource(f"emg{i}", "timeseries", rate=200, shape=(2,), chunk_size=10, pattern="sine") for i in range(4)]
    w = make_window(small_rig() + extra)
    w.resize(1200, 700)
    w.main_tabs.setCurrentWidget(w.training_tab)
    w.training_tab.model_ready.emit(str(model))

    def shown_fully() -> bool:
        panel = w.live_view.panels.get("motion_pred")
        if panel is None or panel.height() <= 1:
            return False
        area = panel.parentWidget()
        while not hasattr(area, "viewport"):
            area = area.parentWidget()
        top = panel.mapTo(area.viewport(), QPoint(0, 0)).y()
        return top >= 0 and top + panel.height() <= area.viewport().height()

    qtbot.waitUntil(shown_fully, timeout=20_000)


def test_a_log_follows_new_lines_unless_scrolled_up(qtbot):
    from PySide6.QtWidgets import QPlainTextEdit

    from sensorlab.app.common.process_runner import append_log

    view = QPlainTextEdit(readOnly=True)
    qtbot.addWidget(view)
    view.resize(300, 100)
    view.show()
    bar = view.verticalScrollBar()
    for i in range(200):
        append_log(view, f"a long line of the log, number {i}, that wraps in a narrow view " * 2)
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    bar.setValue(0)  # the user scrolls up to read
    append_log(view, "more")
    assert bar.value() == 0
