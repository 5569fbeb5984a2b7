"""The labeling window's undo history shows every step whole in its narrow side column.

Found labeling a board's session at 1280 × 800: "Relabel walk → gesture" lost its last letters
at the column's edge, behind a sideways scroll bar; longer label names lost more."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt

from sensorlab.app.labeling.history_view import HistoryView
from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.commands import AddSegment, RelabelSegment, UndoStack


def test_long_history_steps_wrap_instead_of_being_cut(qtbot):
    stack = UndoStack(AnnotationSet())
    seg = Segment.create("default", "walk", 10.0, 12.0)
    stack.push(AddSegment(seg))
    stack.push(RelabelSegment(seg.id, "background_noise"))
    stack.push(RelabelSegment(seg.id, "gesture"))
    view = HistoryView(stack)
    qtbot.addWidget(view)
    view.resize(140, 240)  # the side column's width in a 1280 px window
    view.show()
    qtbot.waitExposed(view)
    assert view.count() == 4 and view.item(2).text() == "Relabel walk → background_noise"
    width = view.viewport().width()
    assert view.horizontalScrollBar().maximum() == 0  # nothing hidden sideways
    for row in range(view.count()):
        item = view.item(row)
        shown = view.visualItemRect(item)
        needs = view.fontMetrics().boundingRect(QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap, item.text())
        assert shown.right() <= width and shown.height() >= needs.height(), (item.text(), shown, needs)
