"""The size a main window opens at the first time: its preferred size, shrunk to the screen;
and a splitter's placeholder replaced without moving the splitter's other panes.

Shared by the studio and the labeling window. Without it the studio opened at 1400×900 on a
1280×800 laptop: the window ran off the screen, and the Datasets tab's session buttons, its
Workers box and the build status were out of reach.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSplitter, QWidget

#: Share of the available screen area a first window takes at most (room for a panel or dock).
SCREEN_SHARE = 0.9


def fit_to_screen(window: QWidget, preferred: QSize) -> QSize:
    """``preferred``, shrunk to `SCREEN_SHARE` of the available screen area when that is smaller."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        return preferred
    avail = screen.availableGeometry().size()
    return QSize(min(preferred.width(), int(avail.width() * SCREEN_SHARE)), min(preferred.height(), int(avail.height() * SCREEN_SHARE)))


def replace_first(splitter: QSplitter, widget: QWidget, proportions: list[int]) -> None:
    """Put ``widget`` in the place of ``splitter``'s first widget (a placeholder), at its width.

    The other widgets keep the widths they were drawn with (or dragged to meanwhile): the
    labeling view's side column kept half the window until its tracks came, then jumped. Not
    shown yet, nothing is laid out: ``proportions`` apply."""
    sizes = splitter.sizes() if splitter.isVisible() else proportions
    splitter.widget(0).setParent(None)
    splitter.insertWidget(0, widget)
    splitter.setSizes(sizes)


__all__ = ["SCREEN_SHARE", "fit_to_screen", "replace_first"]
