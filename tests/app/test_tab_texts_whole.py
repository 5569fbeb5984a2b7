"""An inactive tab's text is drawn whole: the underscore of a tab named after a model
(``clap_int8``) or a stream, and the descenders (``g`` of "Messages").

Qt's tab layout lowered an inactive tab's text by a pixel inside a rectangle that ends where
the font's descent does, and clipped it there: "clap int8", "Messaqes". The theme's style
(`theme.WholeTabTexts`) keeps inactive texts where the active tab's is."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QLabel, QTabWidget

from sensorlab.app.common.theme import WholeTabTexts
from tests.app.rendered import shown


def _ink_runs(tabs: QTabWidget, index: int) -> dict[int, int]:
    """Per pixel row of tab ``index``'s inside: its longest run of text pixels."""
    img = tabs.grab().toImage()
    bar = tabs.tabBar()
    r = bar.tabRect(index).translated(bar.mapTo(tabs, QPoint(0, 0)))
    inside = r.adjusted(4, 3, -4, -3)
    bg = img.pixelColor(inside.left(), inside.center().y()).lightness()
    runs = {}
    for y in range(inside.top(), inside.bottom() + 1):
        longest = run = 0
        for x in range(inside.left(), inside.right() + 1):
            run = run + 1 if abs(img.pixelColor(x, y).lightness() - bg) > 40 else 0
            longest = max(longest, run)
        if longest:
            runs[y] = longest
    return runs


def test_an_inactive_tab_draws_its_underscore_and_descenders_whole(qtbot):
    tabs = QTabWidget(documentMode=True)  # as the studio's tabs
    style = WholeTabTexts("Fusion")  # what `theme.apply` installs
    tabs.tabBar().setStyle(style)
    tabs.addTab(QLabel("live"), "Live")
    tabs.addTab(QLabel("model"), "clap_int8")
    shown(qtbot, tabs, 400, 120)
    tabs.setCurrentIndex(1)
    active = _ink_runs(tabs, 1)
    tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: not tabs.tabBar().tabRect(1).isEmpty(), timeout=5_000)
    inactive = _ink_runs(tabs, 1)
    # The underscore is the lowest row of the text, a run several pixels long (a descender
    # is one or two); inactive, the tab draws as many rows of text as active, underscore included.
    assert active and max(active.values()) > 0
    assert active[max(active)] >= 4, active
    assert inactive[max(inactive)] >= 4, inactive
    assert len(inactive) == len(active), (sorted(active), sorted(inactive))
