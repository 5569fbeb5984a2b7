"""`HistoryView`: the undo history as a list; clicking a row undoes/redoes up to it.

Observes an `UndoStack` (``index_changed``, fired on the GUI thread that pushes); row 0 is
"Opened" (nothing applied), row ``i`` is the i-th command. Rows after the current index can
be redone and are shown dimmed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from sensorlab.labeling.commands import UndoStack


class HistoryView(QListWidget):
    """List of the stack's commands; the current state is selected."""

    def __init__(self, stack: UndoStack, parent=None):
        super().__init__(parent)
        self.stack = stack
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the labeling view
        self.setToolTip("Undo history: click a row to go back (or forward) to that state")
        # The side column is narrow: a long step ("Relabel background → gesture") wraps onto a
        # second line instead of being cut at the column's edge behind a sideways scroll bar.
        self.setWordWrap(True)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        stack.index_changed.connect(self._on_index_changed)
        self.itemClicked.connect(self._on_clicked)
        self._on_index_changed(stack.index)

    def _on_index_changed(self, index: int) -> None:
        self.clear()
        for i, text in enumerate(["Opened", *self.stack.history]):
            item = QListWidgetItem(text)
            if i > index:
                item.setForeground(QColor("#6b6e73"))
            self.addItem(item)
        self.setCurrentRow(index)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        self.stack.set_index(self.row(item))


__all__ = ["HistoryView"]
