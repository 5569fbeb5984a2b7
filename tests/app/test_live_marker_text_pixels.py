"""The events panel's marker texts start on whole device pixels, so the window's repaint and a
fresh paint of the same frame draw them alike.

At a fractional x the two drew one glyph of a text with different anti-aliasing (a 7 x 7 px
difference where the text crossed the next marker's line): the on-screen test of the lean
views (`test_live_lean_views.py`) left the events panel out for it."""

from __future__ import annotations

from PySide6.QtGui import QImage, QPainter

from tests.app.rendered import shown_events_panel


class _Recording:
    """A painter that notes where each static text lands in device pixels (and paints it)."""

    def __init__(self, painter: QPainter):
        self._p = painter
        self.at: list[tuple[float, float]] = []

    def drawStaticText(self, point, text):  # noqa: N802 - QPainter's name
        dev = self._p.deviceTransform().map(point)
        self.at.append((dev.x(), dev.y()))
        self._p.drawStaticText(point, text)

    def __getattr__(self, name):
        return getattr(self._p, name)


def test_marker_texts_start_on_whole_device_pixels_wherever_the_view_scrolled(qtbot):
    panel = shown_events_panel(qtbot)
    for i in range(12):
        panel.add_marker(0.37 + 0.83 * i, f"markers {i}")  # texts run over the next line
    layer = panel._marker_layer
    qtbot.waitUntil(lambda: layer.boundingRect().width() > 300, timeout=5_000)
    image = QImage(layer.boundingRect().size().toSize(), QImage.Format.Format_ARGB32_Premultiplied)
    for start in (0.0, 0.013, 0.291, 1.5077):  # view starts that put the texts between pixels
        panel.plot.setXRange(start, start + 10.0, padding=0)
        painter = QPainter(image)
        painter.translate(0.25, 0.5)  # the item's own offset in the view may be fractional too
        recording = _Recording(painter)
        try:
            layer.paint(recording)
        finally:
            painter.end()
        assert len(recording.at) >= 3, start  # in place, pinned to the left edge, at the right edge
        off = [(x, y) for x, y in recording.at if abs(x - round(x)) > 1e-6 or abs(y - round(y)) > 1e-6]
        assert not off, (start, off)
