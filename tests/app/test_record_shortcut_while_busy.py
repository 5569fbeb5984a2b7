"""Ctrl+R pressed while the recording is still starting or still being saved is not dropped
without a word.

The Record / Stop button is disabled in those seconds, and a disabled button's shortcut does
nothing: a user who stopped a take and pressed Ctrl+R again to record the next one (a busy
machine takes seconds to save) got no recording, no message, and labeled a take that was never
recorded. Now the status bar and the Messages tab say why the key was not taken and when it
works again, and the key does not toggle anything later by surprise.
"""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from sensorlab.app.common import workers


def _ctrl_r(qtbot, w) -> None:
    qtbot.keyClick(w.live_view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)


def _messages(w) -> list[str]:
    return [w.messages.item(i).text() for i in range(w.messages.count())]


@pytest.mark.parametrize("phase", ["saving", "starting"])
def test_ctrl_r_while_the_button_is_busy_says_why(qtbot, make_window, monkeypatch, phase):
    w = make_window()
    w.activateWindow()
    release = threading.Event()  # holds the worker in its phase (a slow disk, a busy machine)
    real = getattr(workers, f"{'stop' if phase == 'saving' else 'start'}_recording")

    def held(*args):
        release.wait(30)
        return (yield from real(*args))

    monkeypatch.setattr(workers, f"{'stop' if phase == 'saving' else 'start'}_recording", held)
    if phase == "saving":
        with qtbot.waitSignal(w.recording_started, timeout=10_000):
            _ctrl_r(qtbot, w)
        qtbot.waitUntil(w.record_button.isEnabled, timeout=10_000)
        _ctrl_r(qtbot, w)  # Stop: saving starts
        qtbot.waitUntil(lambda: w.record_button.text() == "saving…", timeout=5000)
    else:
        _ctrl_r(qtbot, w)  # Record: the file is being created
        qtbot.waitUntil(lambda: w.record_button.text().endswith("Stop"), timeout=5000)
    assert not w.record_button.isEnabled()
    before = len(_messages(w))
    _ctrl_r(qtbot, w)  # pressed again while the button is disabled
    expected = "still being saved" if phase == "saving" else "still starting"
    qtbot.waitUntil(lambda: any(expected in m for m in _messages(w)[before:]), timeout=5000)
    assert expected in w.statusBar().currentMessage()
    assert "Ctrl+R again" in w.statusBar().currentMessage() or "once the button says Stop" in w.statusBar().currentMessage()
    release.set()
    if phase == "saving":
        qtbot.waitUntil(lambda: w.record_button.isEnabled() and w.record_button.text().endswith("Record"), timeout=30_000)
        assert not w.studio.recording  # the refused press started nothing
    else:
        qtbot.waitUntil(w.record_button.isEnabled, timeout=30_000)
        assert w.studio.recording and w.record_button.text().endswith("Stop")  # the refused press stopped nothing
        with qtbot.waitSignal(w.recording_stopped, timeout=30_000):
            _ctrl_r(qtbot, w)  # and Ctrl+R works again once enabled


def test_ctrl_r_stays_the_record_key_when_enabled(qtbot, make_window):
    """The window's stand-in shortcut must not make Ctrl+R ambiguous while the button takes it."""
    w = make_window()
    w.activateWindow()
    with qtbot.waitSignal(w.recording_started, timeout=10_000):
        _ctrl_r(qtbot, w)
    qtbot.waitUntil(w.record_button.isEnabled, timeout=10_000)
    with qtbot.waitSignal(w.recording_stopped, timeout=30_000):
        _ctrl_r(qtbot, w)
    assert not any("not taken" in m for m in _messages(w))
