"""`SidecarWatch`: show labels another program adds to the open session's sidecar.

``sensorlab labels import``, ``sensorlab labels suggest`` and ``sensorlab predict --suggest``
may write the sidecar while a labeling window has the session open. The window's autosave
already keeps those segments in the file (`sensorlab.labeling.store`), but the window showed
them only after reopening, so a user who had just imported labels saw nothing arrive. Once a
second the watch asks the autosaver for segments it has never seen (one ``stat`` when nothing
changed) and adds them to the window's set: they appear in their lanes, and the status line
says how many came and on which tiers. They are not undo steps: undoing an edit made in the
window never deletes another program's labels. The window's own edits are saved after each
one, so there is nothing unsaved to lose.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import QObject, QTimer, Signal

#: How often the sidecar is checked, in ms: a label import shows within about a second.
CHECK_INTERVAL_MS = 1000


class SidecarWatch(QObject):
    """Add segments another program wrote to ``autosave.path`` to ``annotations``.

    Signals
    -------
    message(text)
        One line for the status bar when labels arrived.
    """

    message = Signal(str)

    def __init__(self, annotations, autosave, parent=None, *, message=None):
        super().__init__(parent)
        if message is not None:
            self.message.connect(message)
        self.annotations, self.autosave = annotations, autosave
        self.timer = QTimer(self, interval=CHECK_INTERVAL_MS)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> int:
        """Add what arrived since the last check; returns how many segments."""
        foreign = self.autosave.take_foreign(self.annotations)
        for seg in foreign:
            self.annotations.add(seg)
        if foreign:
            tiers = ", ".join(f"{n} on '{t}'" for t, n in Counter(s.tier for s in foreign).items())
            self.message.emit(f"{len(foreign)} label(s) added by another program (e.g. labels import): {tiers}")
        return len(foreign)

    def stop(self) -> None:
        self.timer.stop()


__all__ = ["CHECK_INTERVAL_MS", "SidecarWatch"]
