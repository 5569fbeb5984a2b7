"""`TimeRuler`: the labeling timeline's time axis, painted straight from its tick values.

The ruler changes on every scroll/zoom frame. pyqtgraph's `AxisItem` then rebuilds a
`QPicture` of its ticks and texts, measuring every text with ``QPainter.boundingRect`` and
creating a few `Point` objects per tick, and plays the picture back: ~3 ms of a ~14 ms frame
of the 10-hour session (docs/PERFORMANCE.md). This subclass keeps everything else of the
axis (its place in the plot's layout, its label, pyqtgraph's tick spacing and tick strings,
the crowding rule that decides whether the finer level gets texts) and paints directly: the
grid lines of one level with one ``drawLines``, each text with a cached `QStaticText`.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen, QStaticText


class TimeRuler(pg.AxisItem):
    """A top axis (``AxisItem("top")``) that paints its ticks, grid lines and texts itself."""

    #: Texts kept laid out (a session's tick strings repeat as the view moves).
    MAX_TEXTS = 2048

    def __init__(self, **kwargs):
        super().__init__("top", **kwargs)
        self._texts: dict[tuple[str, str], tuple[QStaticText, float]] = {}

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
        bottom = bounds.bottom()
        end = view.mapRectToItem(self, view.boundingRect()).bottom() if grid else bottom - self.style["tickLength"]
        scale = length / (x1 - x0)
        levels = self.tickValues(x0, x1, length)[: self.style["maxTickLevel"] + 1]
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        p.setPen(self.pen())
        p.drawLine(QPointF(bounds.left(), bottom), QPointF(bounds.right(), bottom))
        positions = []
        for i, (_spacing, values) in enumerate(levels):
            xs = [(v - x0) * scale + bounds.left() for v in values]
            positions.append(xs)
            # The same faint grid lines as `AxisItem` (alpha by level and tick density).
            alpha = 255 / (i + 1)
            if grid:
                alpha *= self.grid / 255.0 * min(max(0.05 * length / (len(values) + 1), 0.0), 1.0)
            pen = QPen(self.tickPen())
            color = QColor(pen.color())
            color.setAlpha(int(alpha))
            pen.setColor(color)
            p.setPen(pen)
            lines = [QLineF(x, bottom, x, end) for x in xs if bounds.left() <= x <= bounds.right()]
            if lines:
                p.drawLines(lines)
        if not self.style["showValues"]:
            return
        # Texts: the coarse level always, the finer one unless it would crowd the ruler
        # (pyqtgraph's ``textFillLimits`` rule, with widths from a cache instead of measuring).
        height = metrics.height()
        top = bottom - max(0, self.style["tickLength"]) - self.style["tickTextOffset"][1] - height
        drawn: list[tuple[float, QStaticText]] = []
        used = 0.0
        for i, (spacing, values) in enumerate(levels[: self.style["maxTextLevel"] + 1]):
            strings = self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing)
            level = []
            for x, s in zip(positions[i], strings):
                if not bounds.left() <= x <= bounds.right():
                    continue
                st, width = self._text(font_key, metrics, s)
                used += width
                if bounds.left() <= x - width / 2 and x + width / 2 <= bounds.right():
                    level.append((x - width / 2, st))
            if i > 0 and any(len(drawn) >= n and used / length >= limit for n, limit in self.style["textFillLimits"]):
                break
            drawn += level
        p.setPen(self.textPen())
        for x, st in drawn:
            p.drawStaticText(QPointF(x, top), st)
        self._updateMaxTextSize(int(height * 0.8))


__all__ = ["TimeRuler"]
