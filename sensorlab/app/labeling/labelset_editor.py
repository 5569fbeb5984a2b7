"""`LabelSetEditor`: edit the project's labels (name, colour, hotkey, description) and save them.

Edits go straight to the `LabelSet` (which is evented, so the timeline recolours), and the
set is saved atomically to the project's ``labels.toml`` on OK. Renaming a label does not
rename existing segments (they keep their label text, shown with a fallback colour).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
    QVBoxLayout,
)

from sensorlab.labeling.labelset import DEFAULT_COLORS, LabelDef, LabelSet

COLUMNS = ("name", "colour", "hotkey", "description")


class LabelSetEditor(QDialog):
    """A table of labels; OK applies the table to ``labels`` and saves it to ``path``."""

    def __init__(self, labels: LabelSet, path: Path, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Label set · {path}")
        self.labels, self.path = labels, path
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.horizontalHeader().setStretchLastSection(True)
        for lab in labels:
            self._add_row(lab)
        self.table.cellDoubleClicked.connect(self._pick_colour)
        add, remove = QPushButton("Add"), QPushButton("Remove")
        add.clicked.connect(lambda: self._add_row(LabelDef(f"label{self.table.rowCount() + 1}",
                                                           DEFAULT_COLORS[self.table.rowCount() % len(DEFAULT_COLORS)])))
        remove.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.apply)
        buttons.rejected.connect(self.reject)
        # Problems show here, not in a message box over the table the user is fixing.
        self.error = QLabel(wordWrap=True, styleSheet="color:#ef5350")
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        row.addWidget(buttons)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addWidget(self.error)
        lay.addLayout(row)
        self.resize(560, 320)

    def _add_row(self, lab: LabelDef) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, value in enumerate((lab.name, lab.color, "" if lab.hotkey is None else str(lab.hotkey), lab.description)):
            item = QTableWidgetItem(value)
            if c == 1:
                item.setBackground(QColor(lab.color))
            self.table.setItem(r, c, item)

    def _pick_colour(self, row: int, col: int) -> None:
        if col != 1:
            return
        c = QColorDialog.getColor(QColor(self.table.item(row, 1).text()), self)
        if c.isValid():
            self.table.item(row, 1).setText(c.name())
            self.table.item(row, 1).setBackground(c)

    def rows(self) -> list[LabelDef]:
        """The table as label definitions (raises ValueError on an invalid row)."""
        out = []
        for r in range(self.table.rowCount()):
            name, color, hotkey, desc = (self.table.item(r, c).text().strip() for c in range(len(COLUMNS)))
            if hotkey and not (hotkey.isdigit() and 1 <= int(hotkey) <= 9):
                # int("s") said "invalid literal for int() with base 10", naming neither the row nor the fix
                raise ValueError(f"row {r + 1} ({name}): the hotkey must be a digit 1–9, not {hotkey!r}")
            out.append(LabelDef(name, color, int(hotkey) if hotkey else None, desc))
        return out

    def apply(self) -> None:
        """OK: check the table, save it, then apply it to the open set. A bad row or a file
        that cannot be written is said under the table, and nothing changes."""
        try:
            new = LabelSet(self.rows())  # validates names, colours and unique hotkeys
        except ValueError as e:
            self.error.setText(f"⚠ {e}")
            return
        try:
            new.save(self.path)  # first: a set that cannot be saved is not half applied
        except OSError as e:
            self.error.setText(f"⚠ cannot save {self.path}: {e.strerror or e}. Fix the folder or Cancel")
            return
        for name in [n for n in self.labels.names if n not in new]:
            self.labels.remove(name)
        for lab in new:
            if lab.name in self.labels:
                self.labels.update(lab.name, color=lab.color, hotkey=None, description=lab.description)
            else:
                self.labels.add(LabelDef(lab.name, lab.color, None, lab.description))
        for lab in new:  # hotkeys last, so swapping two hotkeys never collides midway
            self.labels.update(lab.name, hotkey=lab.hotkey)
        self.accept()


__all__ = ["LabelSetEditor"]
