"""`LiveTimeAxis`: the live view's scrolling time axis, painted straight from its tick values.

The live view's time range moves with every frame. pyqtgraph's `AxisItem` then works out its
tick spacing again, builds a list of draw specs (a few `Point` objects and a
``QPainter.boundingRect`` text measurement per tick), records them into a `QPicture` and
plays it back: ~2–3 ms of GUI-thread CPU in every frame, the largest single item of the
live view (docs/PERFORMANCE.md §4). This subclass keeps the axis's place in the plot's
layout, its label, pyqtgraph's tick spacing, tick strings, grid lines and crowding rule, and
paints directly instead: the spacing is worked out again only when the window's length or
the axis's width changes (scrolling moves the ticks, it does not change their spacing),
each level's lines are one ``drawLines``, and each text is a `QStaticText` laid out once
(the paint preamble, tick values, text cache and text placement are shared with the labeling
ruler in `painted_axis`).
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF
from PySide6.QtGui import QPainter

from sensorlab.app.common.painted_axis import PaintedAxis
from sensorlab.app.live.plot_items import BoundsKeptAxis

#: What the studio's time axes count: the live view's and the parity views' (x = host time − the
#: live view's origin, `sensorlab.acquisition.clock.EPOCH` unless given).
TIME_AXIS_LABEL = "host clock, s since sensorlab started"


class LiveTimeAxis(PaintedAxis, BoundsKeptAxis):
    """A bottom axis (x, seconds) that paints its ticks, grid lines and texts itself (its
    bounds kept between frames: `BoundsKeptAxis`)."""

    #: Texts kept laid out (tick strings repeat as the window scrolls).
    MAX_TEXTS = 512

    def __init__(self, **kwargs):
        super().__init__("bottom", **kwargs)

    def paint(self, p: QPainter, *_args) -> None:
        s = self._begin_paint(p)
        if s is None:
            return
        top = s.bounds.top()
        # Grid lines run from the top of the plot's view down to the axis; plain ticks point
        # up into the view by the tick length (pyqtgraph's defaults).
        start = s.view.mapRectToItem(self, s.view.boundingRect()).top() if s.grid else top
        left, right = s.bounds.left(), s.bounds.right()
        p.setPen(self.pen())
        p.drawLine(QPointF(left - 1, top + 1), QPointF(right + 1, top + 1))
        positions = []
        for i, (_spacing, values) in enumerate(s.levels):
            xs = [(v - s.x0) * s.scale + left for v in values]
            positions.append(xs)
            p.setPen(self.level_pen(s, i, len(values)))
            stop = top if s.grid else top + self.style["tickLength"] / (i * 0.5 + 1.0)
            lines = [QLineF(x, start, x, stop) for x in xs if left <= x <= right]
            if lines:
                p.drawLines(lines)
        if self.style["showValues"]:
            self._draw_texts(p, s, positions, top + max(0, self.style["tickLength"]) + self.style["tickTextOffset"][1])

__all__ = ["LiveTimeAxis"]
