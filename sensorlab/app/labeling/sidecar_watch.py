"""`SidecarWatch`: show what another program changes in the open session's sidecar.

``sensorlab labels import`` (also ``--replace``), ``sensorlab labels suggest``, ``sensorlab
predict --suggest`` and a second labeling window may write the sidecar while a labeling window
has the session open. Once a second the watch asks the autosaver for what changed (one
``stat`` when nothing did): segments the other program added, deleted or changed are merged
into the window's set three ways (`sensorlab.labeling.sidecar_merge`: a segment this window
edited keeps its edit), so they appear, disappear or move in their lanes, and the status line
says what happened. Merges done by a save (an edit made in the second before the check) are
reported the same way. Added segments are not undo steps: undoing an edit made in the window
never deletes another program's labels. When another program deleted or changed segments, the
window's undo history is cleared: its steps may refer to segments that are gone, and undoing
one would bring back what the other program deleted.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

#: How often the sidecar is checked, in ms: a label import shows within about a second.
CHECK_INTERVAL_MS = 1000


class SidecarWatch(QObject):
    """Merge what another program wrote to ``autosave.path`` into ``annotations``.

    ``stack``: the window's `UndoStack`, cleared when another program deleted or changed
    segments (None: no history to clear).

    Signals
    -------
    message(text)
        One line for the status bar when the file changed.
    """

    message = Signal(str)

    def __init__(self, annotations, autosave, parent=None, *, message=None, stack=None):
        super().__init__(parent)
        if message is not None:
            self.message.connect(message)
        self.annotations, self.autosave, self.stack = annotations, autosave, stack
        self.timer = QTimer(self, interval=CHECK_INTERVAL_MS)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> int:
        """Merge what changed since the last check; returns how many segments it touched."""
        merge = self.autosave.take_changes(self.annotations)
        if not merge:
            return 0
        text = merge.message()
        if (merge.removed or merge.changed) and self.stack is not None and (self.stack.can_undo or self.stack.can_redo):
            self.stack.clear()
            text += " (undo history cleared: it referred to labels that changed)"
        self.message.emit(text)
        return len(merge.added) + len(merge.removed) + len(merge.changed) + len(merge.kept)

    def stop(self) -> None:
        self.timer.stop()


__all__ = ["CHECK_INTERVAL_MS", "SidecarWatch"]
