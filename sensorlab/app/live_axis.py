"""`LiveTimeAxis`: the live view's scrolling time axis, painted straight from its tick values.

The live view's time range moves with every frame. pyqtgraph's `AxisItem` then works out its
tick spacing again, builds a list of draw specs (a few `Point` objects and a
``QPainter.boundingRect`` text measurement per tick), records them into a `QPicture` and
plays it back: ~2–3 ms of GUI-thread CPU in every frame, the largest single item of the
live view (docs/PERFORMANCE.md §4). This subclass keeps the axis's place in the plot's
layout, its label, pyqtgraph's tick spacing, tick strings, grid lines and crowding rule, and
paints directly instead: the spacing is worked out again only when the window's length or
the axis's width changes (scrolling moves the ticks, it does not change their spacing),
each level's lines are one ``drawLines``, and each text is a `QStaticText` laid out once.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen, QStaticText


class LiveTimeAxis(pg.AxisItem):
    """A bottom axis (x, seconds) that paints its ticks, grid lines and texts itself."""

    #: Texts kept laid out (tick strings repeat as the window scrolls).
    MAX_TEXTS = 512

    def __init__(self, **kwargs):
        super().__init__("bottom", **kwargs)
        self._texts: dict[tuple[str, str], tuple[QStaticText, float]] = {}
        self._spacing_key: tuple[float, float] | None = None
        self._spacings: list[tuple[float, float]] = []

    def _text(self, font_key: str, metrics: QFontMetricsF, s: str) -> tuple[QStaticText, float]:
        key = (font_key, s)
        hit = self._texts.get(key)
        if hit is None:
            if len(self._texts) >= self.MAX_TEXTS:
                self._texts.clear()
            st = QStaticText(s)
            st.setTextFormat(Qt.TextFormat.PlainText)
            hit = self._texts[key] = (st, metrics.horizontalAdvance(s))
        return hit

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
        x0, x1 = self.range
        bounds = self.mapRectFromParent(self.geometry())
        length = bounds.width()
        if not x1 > x0 or length <= 0:
            return
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        font = p.font()
        metrics = QFontMetricsF(font)
        font_key = font.key()
        view = self.linkedView()
        grid = self.grid is not False and view is not None
        top = bounds.top()
        # Grid lines run from the top of the plot's view down to the axis; plain ticks point
        # up into the view by the tick length (pyqtgraph's defaults).
        start = view.mapRectToItem(self, view.boundingRect()).top() if grid else top
        scale = length / (x1 - x0)
        left, right = bounds.left(), bounds.right()
        levels = self.tickValues(x0, x1, length)[: self.style["maxTickLevel"] + 1]
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        p.setPen(self.pen())
        p.drawLine(QPointF(left - 1, top + 1), QPointF(right + 1, top + 1))
        positions = []
        for i, (_spacing, values) in enumerate(levels):
            xs = [(v - x0) * scale + left for v in values]
            positions.append(xs)
            alpha = self.style["tickAlpha"]
            if alpha is None:
                alpha = 255 / (i + 1)
                if grid:
                    alpha *= self.grid / 255.0 * min(max(0.05 * length / (len(values) + 1), 0.0), 1.0)
            pen = QPen(self.tickPen())
            color = QColor(pen.color())
            color.setAlpha(int(alpha))
            pen.setColor(color)
            p.setPen(pen)
            stop = top if grid else top + self.style["tickLength"] / (i * 0.5 + 1.0)
            lines = [QLineF(x, start, x, stop) for x in xs if left <= x <= right]
            if lines:
                p.drawLines(lines)
        if not self.style["showValues"]:
            return
        # Texts: the coarse level always, a finer one unless it would crowd the axis
        # (pyqtgraph's ``textFillLimits`` rule, with widths from the cache instead of measuring).
        height = metrics.height()
        text_top = top + max(0, self.style["tickLength"]) + self.style["tickTextOffset"][1]
        drawn: list[tuple[float, QStaticText]] = []
        used = 0.0
        for i, (spacing, values) in enumerate(levels[: self.style["maxTextLevel"] + 1]):
            strings = self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing)
            level = []
            for x, s in zip(positions[i], strings):
                if not left <= x <= right:
                    continue
                st, width = self._text(font_key, metrics, s)
                used += width
                if left <= x - width / 2 and x + width / 2 <= right:
                    level.append((x - width / 2, st))
            if i > 0 and any(len(drawn) >= n and used / length >= limit for n, limit in self.style["textFillLimits"]):
                break
            drawn += level
        p.setPen(self.textPen())
        for x, st in drawn:
            p.drawStaticText(QPointF(x, text_top), st)
        self._updateMaxTextSize(int(height * 0.8))


__all__ = ["LiveTimeAxis"]
