"""Helpers for GUI tests that check what Qt renders: a widget shown at a size, an events panel on
screen, and the pixels drawn in about a colour."""

from __future__ import annotations

from PySide6.QtGui import QColor

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import IRREGULAR, StreamInfo, StreamKind
from sensorlab.app.live.events import EventsPanel


def shown(qtbot, widget, width: int, height: int):
    """``widget`` closed after the test, resized, shown and exposed (its pixels can be read)."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def axis_texts(plot, side: str) -> list[str]:
    """The tick texts ``plot``'s ``side`` axis draws (pyqtgraph's draw specs: only those that
    fit), from the bottom or left end along the axis."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(10, 10, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        _axis, _ticks, texts = plot.getAxis(side).generateDrawSpecs(painter)
    finally:
        painter.end()
    vertical = side in ("left", "right")
    return [t[2] for t in sorted(texts, key=lambda t: -t[0].center().y() if vertical else t[0].center().x()) if t[2]]


def shown_events_panel(qtbot, ring: ChunkRing | None = None, name: str = "events", width: int = 600) -> EventsPanel:
    """A 100 px high events panel over ``ring`` (a new one unless given), on screen, showing 0 to 10 s."""
    info = StreamInfo(name, StreamKind.EVENTS, IRREGULAR, dtype="str")
    panel = shown(qtbot, EventsPanel(info, ChunkRing(seconds=30.0) if ring is None else ring, 0.0, window=10.0), width, 100)
    panel.plot.setXRange(0.0, 10.0, padding=0)
    return panel


def near(c: QColor, want: QColor) -> bool:
    """About the same colour: the plot's grid, drawn over lines with some transparency, and
    antialiasing shift it a little."""
    return max(abs(c.red() - want.red()), abs(c.green() - want.green()), abs(c.blue() - want.blue())) <= 40


def columns_with(image, y: int, colour: str) -> list[int]:
    """Pixel columns of row ``y`` drawn in about ``colour``."""
    want = QColor(colour)
    return [x for x in range(image.width()) if near(image.pixelColor(x, y), want)]


def pixels_with(image, rect, colour: str) -> int:
    """How many pixels inside ``rect`` are drawn in about ``colour``."""
    want = QColor(colour)
    return sum(near(image.pixelColor(x, y), want)
               for y in range(max(0, int(rect.top())), min(image.height(), int(rect.bottom())))
               for x in range(max(0, int(rect.left())), min(image.width(), int(rect.right()))))  # fmt: skip
