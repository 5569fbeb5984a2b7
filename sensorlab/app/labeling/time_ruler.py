"""`TimeRuler`: the labeling timeline's time axis, painted straight from its tick values.

The ruler changes on every scroll/zoom frame. pyqtgraph's `AxisItem` then rebuilds a
`QPicture` of its ticks and texts, measuring every text with ``QPainter.boundingRect`` and
creating a few `Point` objects per tick, and plays the picture back: ~3 ms of a ~14 ms frame
of the 10-hour session (docs/PERFORMANCE.md). This subclass keeps everything else of the
axis (its place in the plot's layout, its label, pyqtgraph's tick spacing and tick strings,
the crowding rule that decides whether the finer level gets texts) and paints directly: the
grid lines of one level with one ``drawLines``, each text with a cached `QStaticText` (the
paint preamble, text cache and text placement are shared with the live axis in `painted_axis`).
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF
from PySide6.QtGui import QPainter

from sensorlab.app.common.painted_axis import PaintedAxis


class TimeRuler(PaintedAxis):
    """A top axis (``AxisItem("top")``) that paints its ticks, grid lines and texts itself."""

    #: Texts kept laid out (a session's tick strings repeat as the view moves).
    MAX_TEXTS = 2048

    def __init__(self, **kwargs):
        super().__init__("top", **kwargs)

    def paint(self, p: QPainter, *_args) -> None:
        s = self._begin_paint(p)
        if s is None:
            return
        bottom = s.bounds.bottom()
        left, right = s.bounds.left(), s.bounds.right()
        end = s.view.mapRectToItem(self, s.view.boundingRect()).bottom() if s.grid else bottom - self.style["tickLength"]
        p.setPen(self.pen())
        p.drawLine(QPointF(left, bottom), QPointF(right, bottom))
        positions = []
        for i, (_spacing, values) in enumerate(s.levels):
            xs = [(v - s.x0) * s.scale + left for v in values]
            positions.append(xs)
            p.setPen(self.level_pen(s, i, len(values)))  # the same faint grid lines as `AxisItem`
            lines = [QLineF(x, bottom, x, end) for x in xs if left <= x <= right]
            if lines:
                p.drawLines(lines)
        if self.style["showValues"]:
            top = bottom - max(0, self.style["tickLength"]) - self.style["tickTextOffset"][1] - s.metrics.height()
            self._draw_texts(p, s, positions, top)


__all__ = ["TimeRuler"]
