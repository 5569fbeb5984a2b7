"""The studio's dark theme: Qt Fusion with a dark palette, and matching pyqtgraph defaults.

pyqtgraph options: no antialiasing and no OpenGL (no GPU: both cost frames per second),
1-px pens everywhere (measured figures: docs/TESTING.md, "Qt and plots").
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle

BACKGROUND = "#1b1c1f"
PANEL = "#242529"
TEXT = "#e8eaed"
ACCENT = "#4e9bf5"


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options for live plotting (call before creating plots)."""
    pg.setConfigOptions(antialias=False, useOpenGL=False, background=BACKGROUND, foreground="#b0b3b8")


class WholeTabTexts(QProxyStyle):
    """Fusion, with an inactive tab's text as whole as the active one's.

    Qt's tab layout lowers an inactive tab's text rectangle by its top only
    (``PM_TabBarTabShiftVertical``, 2 px), centres the text in it (a pixel lower) and clips
    the text to it, and that rectangle ends where the font's descent does: inactive tabs lost
    the last row of their descenders and the whole underscore ("clap int8" for a tab named
    after the model ``clap_int8``, "Messaqes"). Here inactive texts are not lowered, so they
    sit where the active tab's does, whole. (Fusion still draws an inactive tab's shape lower.)
    """

    def pixelMetric(self, metric, option=None, widget=None):  # noqa: N802 - Qt override
        if metric == QStyle.PixelMetric.PM_TabBarTabShiftVertical:
            return 0
        return super().pixelMetric(metric, option, widget)


def apply(app: QApplication) -> None:
    """Fusion style (`WholeTabTexts`), dark palette, pyqtgraph defaults."""
    app.setStyle(WholeTabTexts("Fusion"))
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: PANEL,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BACKGROUND,
        QPalette.ColorRole.AlternateBase: "#2a2b30",
        QPalette.ColorRole.ToolTipBase: PANEL,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: "#303136",
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: "#ff5252",
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#000000",
        QPalette.ColorRole.PlaceholderText: "#7d8086",
    }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b6e73"))
    app.setPalette(p)
    app.setStyleSheet("QToolBar{spacing:6px;padding:4px;border:none} QTabWidget::pane{border:none} "
                      "QDockWidget{font-weight:bold}")
    configure_pyqtgraph()
