"""Scroll a scroll area so that one of its widgets shows whole, also while its layout settles."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QScrollArea


def scroll_into_view(panel, tries: int = 200) -> None:
    """Scroll ``panel``'s scroll area so that the whole panel shows (retried until the new
    view's layout has given it a size: right after a rebuild it has none yet)."""
    from shiboken6 import isValid

    if not isValid(panel):
        return  # rebuilt again meanwhile
    area = panel.parentWidget()
    while area is not None and not isinstance(area, QScrollArea):
        area = area.parentWidget()
    if area is None:
        return
    if panel.height() <= 1 or not panel.isVisible():
        if tries:
            QTimer.singleShot(50, lambda: scroll_into_view(panel, tries - 1))
        return
    area.ensureWidgetVisible(panel, 0, 0)
    # The panel may still grow (its plot gets its height after the banner): shown with its
    # first height, it ended up at the bottom edge with its curves below the fold.
    _FollowResizes(area, panel)


class _FollowResizes(QObject):
    """Scrolls ``area`` to show ``panel`` again whenever the panel is resized, for ``ms``."""

    def __init__(self, area: QScrollArea, panel, ms: int = 3000):
        super().__init__(panel)
        self._area = area
        panel.installEventFilter(self)
        QTimer.singleShot(ms, self.deleteLater)  # a deleted filter is removed from the panel

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize:
            from shiboken6 import isValid

            area = self._area
            # After the layout pass that resized it, when the area's content has grown too.
            QTimer.singleShot(0, lambda: isValid(obj) and isValid(area) and area.ensureWidgetVisible(obj, 0, 0))
        return False


__all__ = ["scroll_into_view"]
