"""Ctrl+R starts a recording and Ctrl+R stops it again.

The tooltip promises "Start / stop recording (Ctrl+R)". A QPushButton's ``setText`` replaces its
shortcut with the text's mnemonic (none), so after the button turned into "Stop" the second
Ctrl+R did nothing and the user had to find the mouse.
"""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_ctrl_r_starts_and_stops_the_recording(qtbot, make_window):
    w = make_window()
    w.activateWindow()
    target = w.live_view  # keys go to whatever has the focus, here the plots
    with qtbot.waitSignal(w.recording_started, timeout=10_000):
        qtbot.keyClick(target, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert w.record_button.text().endswith("Stop")
    qtbot.waitUntil(w.record_button.isEnabled, timeout=10_000)
    with qtbot.waitSignal(w.recording_stopped, timeout=30_000) as stopped:
        qtbot.keyClick(target, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert stopped.args[0].endswith(".h5")
    qtbot.waitUntil(lambda: w.record_button.isEnabled() and w.record_button.text().endswith("Record"), timeout=30_000)
    # and a third press records again: the shortcut survives every change of the button's text
    with qtbot.waitSignal(w.recording_started, timeout=10_000):
        qtbot.keyClick(target, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(w.record_button.isEnabled, timeout=10_000)
    with qtbot.waitSignal(w.recording_stopped, timeout=30_000):
        w.record_button.click()
