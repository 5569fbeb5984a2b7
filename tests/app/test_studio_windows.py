"""The toolbar's Label… button, the labeling window's size, Ctrl+Q, and closing the studio."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication

from sensorlab.app.labeling.main import LabelingWindow

from .test_main_window import _record


def _expected_size(window) -> QSize:
    avail = window.screen().availableGeometry().size()
    return QSize(min(1400, int(avail.width() * 0.9)), min(900, int(avail.height() * 0.9)))


def _loaded(qtbot, labeling) -> None:
    """Wait until the labeling window has built its timeline (no worker left running)."""
    qtbot.waitUntil(lambda: labeling.view is not None and not labeling.view.runner.busy, timeout=20_000)


def _activate(qtbot, window) -> None:
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)


def test_label_button_opens_the_last_session_in_a_full_size_window(qtbot, make_window):
    w = make_window()
    path = _record(qtbot, w, seconds=0.5)
    w.label_action.trigger()  # the real toolbar action (triggered(bool) once arrived as the path)
    qtbot.waitUntil(lambda: w.label_dialog is not None and w.label_dialog.isVisible(), timeout=5000)
    assert w.label_dialog.selectedFiles() == [path]  # the session just recorded is preselected
    w.label_dialog.accept()
    qtbot.waitUntil(lambda: bool(w._labeling_windows), timeout=10_000)
    labeling = w._labeling_windows[-1]
    qtbot.addWidget(labeling)
    assert str(labeling.view.path) == path
    _loaded(qtbot, labeling)
    # Same size as `sensorlab label FILE` (fitted to the screen), not Qt's small default.
    assert labeling.size() == _expected_size(labeling)


def test_ctrl_q_closes_the_labeling_window_and_the_studio_and_closing_the_studio_closes_all(qtbot, make_window):
    w = make_window()
    path = _record(qtbot, w, seconds=0.5)
    w.open_labeling(path)
    first = w._labeling_windows[-1]
    qtbot.addWidget(first)
    _loaded(qtbot, first)
    _activate(qtbot, first)
    qtbot.keyClick(first, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not first.isVisible(), timeout=5000)
    # A labeling window left open does not keep the process alive after the studio closes.
    w.open_labeling(path)
    second = w._labeling_windows[-1]
    qtbot.addWidget(second)
    _loaded(qtbot, second)
    assert second.isVisible()
    _activate(qtbot, w)
    qtbot.keyClick(w, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=30_000)
    assert not second.isVisible()
    assert [x for x in QApplication.topLevelWidgets() if x.isVisible() and x.isWindow()] == []


def test_labeling_window_from_the_command_line_has_the_same_size(qtbot, make_window):
    w = make_window()
    path = _record(qtbot, w, seconds=0.5)
    window = LabelingWindow(path, play_audio=False)
    qtbot.addWidget(window)
    _loaded(qtbot, window)
    assert window.size() == _expected_size(window)
