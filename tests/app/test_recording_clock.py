"""The recording clock in the status bar: red while recording, plain after, restyled only on a change."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject


class _StyleChanges(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.StyleChange:
            self.count += 1
        return False


def test_the_recording_clock_turns_red_once_and_counts_without_restyling(qtbot, make_window):
    w = make_window()
    changes = _StyleChanges()
    w.elapsed.installEventFilter(changes)
    with qtbot.waitSignal(w.recording_started, timeout=10_000):
        w.record_button.click()
    qtbot.waitUntil(lambda: "REC" in w.elapsed.text(), timeout=10_000)
    assert "#ef5350" in w.elapsed.styleSheet()
    first = w.elapsed.text()
    qtbot.waitUntil(lambda: w.elapsed.text() != first, timeout=10_000)  # the clock ticked on
    # Each tick sets the text; setting the same style sheet again would re-polish the label.
    restyled = changes.count
    seen = w.elapsed.text()
    qtbot.waitUntil(lambda: w.elapsed.text() != seen, timeout=10_000)
    assert changes.count == restyled
    with qtbot.waitSignal(w.recording_stopped, timeout=30_000):
        w.record_button.click()
    qtbot.waitUntil(lambda: "not recording" in w.elapsed.text(), timeout=10_000)
    assert w.elapsed.styleSheet() == ""
