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
(the paint preamble, text cache and text placement are shared with the labeling ruler in
`painted_axis`).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QPointF
from PySide6.QtGui import QPainter

from sensorlab.app.common.painted_axis import PaintedAxis
from sensorlab.app.live.plot_items import BoundsKeptAxis


class LiveTimeAxis(PaintedAxis, BoundsKeptAxis):
    """A bottom axis (x, seconds) that paints its ticks, grid lines and texts itself (its
    bounds kept between frames: `BoundsKeptAxis`)."""

    #: Texts kept laid out (tick strings repeat as the window scrolls).
    MAX_TEXTS = 512

    def __init__(self, **kwargs):
        super().__init__("bottom", **kwargs)
        self._spacing_key: tuple[float, float] | None = None
        self._spacings: list[tuple[float, float]] = []

    def tickValues(self, minVal: float, maxVal: float, size: float):
        """pyqtgraph's tick values, with the spacing kept while the span and size stay the same
        (the levels' values are recomputed from it: cheap; the spacing search is not)."""
        lo, hi = sorted((minVal * self.scale, maxVal * self.scale))
        key = (round(hi - lo, 9), float(size))
        if key != self._spacing_key:
            self._spacing_key = key
            self._spacings = list(self.tickSpacing(lo, hi, size))
        levels = []
        seen: list[float] = []
        for spacing, offset in self._spacings:
            start = math.ceil((lo - offset) / spacing) * spacing + offset
            num = int((hi - start) / spacing) + 1
            tol = spacing * 0.01
            values = [(start + k * spacing) / self.scale for k in range(max(0, num))]
            # Ticks of a coarser level are not repeated by the finer ones (as pyqtgraph does).
            values = [v for v in values if not any(abs(v - s) <= tol / self.scale for s in seen)]
            seen += values
            levels.append((spacing / self.scale, values))
        return levels

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
