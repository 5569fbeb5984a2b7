"""`RecordButton`: the studio's Record / Stop button and its Ctrl+R, pressed at any time.

The button is disabled while a recording starts (the file is being created) or is being saved,
and while no rig is open. A disabled button's shortcut does nothing at all: a Ctrl+R pressed
in those seconds (a busy machine takes several to save) was dropped without a word, and the
user, who had pressed it to record again, labeled a take that was never recorded. So while the
button is disabled a window shortcut takes Ctrl+R instead and `refused` tells the window, which
says why and when Ctrl+R works again.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QPushButton, QWidget

RECORD_SHORTCUT = QKeySequence("Ctrl+R")


class RecordButton(QPushButton):
    """Record / Stop: keeps Ctrl+R whatever its text says (``QPushButton.setText`` replaces the
    shortcut with the text's mnemonic, none, which left the second Ctrl+R, the one that stops,
    doing nothing); while disabled, Ctrl+R emits `refused` (after `refuse_in`)."""

    refused = Signal()

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setShortcut(RECORD_SHORTCUT)
        self._while_disabled: QShortcut | None = None

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        self.setShortcut(RECORD_SHORTCUT)

    def refuse_in(self, window: QWidget) -> None:
        """Take Ctrl+R in ``window`` while the button is disabled (one of the two shortcuts is
        enabled at a time: two enabled ones on one key would both be ambiguous and do nothing)."""
        self._while_disabled = QShortcut(RECORD_SHORTCUT, window, context=Qt.ShortcutContext.WindowShortcut)
        self._while_disabled.activated.connect(self.refused)
        self._while_disabled.setEnabled(not self.isEnabled())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.EnabledChange and self._while_disabled is not None:
            self._while_disabled.setEnabled(not self.isEnabled())


__all__ = ["RECORD_SHORTCUT", "RecordButton"]
