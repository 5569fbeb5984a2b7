"""`PaintedAxis`: the part shared by the axes that paint their ticks themselves.

pyqtgraph's `AxisItem` rebuilds a `QPicture` of its ticks and texts whenever the range moves,
measuring every text with ``QPainter.boundingRect``; the live view's scrolling axis
(`live_axis.LiveTimeAxis`) and the labeling timeline's ruler (`time_ruler.TimeRuler`) move on
every frame, so they paint straight from their tick values instead. What they share lives
here: the paint preamble (range, bounds, font and metrics, whether grid lines are drawn, the
tick levels), the tick values (their spacing kept while the span and length stay the same),
the pen of each tick level and the cache of laid-out tick texts. Each axis keeps its own geometry (which
side the ticks and texts are on).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen, QStaticText


class PaintSetup(NamedTuple):
    """What one ``paint`` needs, worked out once by `PaintedAxis._begin_paint`."""

    x0: float
    x1: float
    bounds: QRectF
    length: float
    metrics: QFontMetricsF
    font_key: str
    view: object  # the linked ViewBox, or None
    grid: bool  # grid lines across the view instead of short ticks
    scale: float  # pixels per unit of x
    levels: list  # [(spacing, values)] up to the style's maxTickLevel


class PaintedAxis(pg.AxisItem):
    """An `AxisItem` whose subclass paints itself; keeps a cache of laid-out texts."""

    #: Texts kept laid out (tick strings repeat as the view moves); subclasses size it.
    MAX_TEXTS = 512

    def __init__(self, orientation: str, **kwargs):
        super().__init__(orientation, **kwargs)
        self._texts: dict[tuple[str, str], tuple[QStaticText, float]] = {}
        self._spacing_key: tuple[float, float] | None = None
        self._spacings: list[tuple[float, float]] = []

    def tickValues(self, minVal: float, maxVal: float, size: float):
        """pyqtgraph's tick values, with the spacing kept while the span and size stay the same
        (the levels' values are recomputed from it: cheap; the spacing search is not), in plain
        floats: pyqtgraph's NumPy for a few dozen values (``arange``, an ``isclose`` matrix
        against the coarser levels, ``concatenate``) cost more than the values themselves."""
        if self.logMode:
            return super().tickValues(minVal, maxVal, size)
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

    def _text(self, font_key: str, metrics: QFontMetricsF, s: str) -> tuple[QStaticText, float]:
        """``s`` as a `QStaticText` laid out once, and its width (measured once)."""
        key = (font_key, s)
        hit = self._texts.get(key)
        if hit is None:
            if len(self._texts) >= self.MAX_TEXTS:
                self._texts.clear()
            st = QStaticText(s)
            st.setTextFormat(Qt.TextFormat.PlainText)
            hit = self._texts[key] = (st, metrics.horizontalAdvance(s))
        return hit

    def _begin_paint(self, p: QPainter) -> PaintSetup | None:
        """The paint preamble: sets the tick font and render hints on ``p``; None when there
        is nothing to paint (an empty range or a zero-width axis)."""
        x0, x1 = self.range
        bounds = self.mapRectFromParent(self.geometry())
        length = bounds.width()
        if not x1 > x0 or length <= 0:
            return None
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        font = p.font()
        view = self.linkedView()
        levels = self.tickValues(x0, x1, length)[: self.style["maxTickLevel"] + 1]
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        return PaintSetup(x0, x1, bounds, length, QFontMetricsF(font), font.key(), view, self.grid is not False and view is not None,
                          length / (x1 - x0), levels)  # fmt: skip

    def level_pen(self, s: PaintSetup, level: int, ticks: int) -> QPen:
        """The pen of one tick level's lines: `AxisItem`'s faint grid, fainter for finer levels
        and, as grid lines, for denser ticks (``ticks`` lines on the level); a style's
        ``tickAlpha`` wins when set."""
        alpha = self.style["tickAlpha"]
        if alpha is None:
            alpha = 255 / (level + 1)
            if s.grid:
                alpha *= self.grid / 255.0 * min(max(0.05 * s.length / (ticks + 1), 0.0), 1.0)
        pen = QPen(self.tickPen())
        color = QColor(pen.color())
        color.setAlpha(int(alpha))
        pen.setColor(color)
        return pen

    def _draw_texts(self, p: QPainter, s: PaintSetup, positions: list[list[float]], y: float) -> None:
        """The tick texts with their top at ``y``: the coarse level always, a finer one unless
        it would crowd the axis (pyqtgraph's ``textFillLimits`` rule, with widths from the
        cache instead of measuring). ``positions`` are the levels' x pixels."""
        left, right = s.bounds.left(), s.bounds.right()
        drawn: list[tuple[float, QStaticText]] = []
        used = 0.0
        for i, (spacing, values) in enumerate(s.levels[: self.style["maxTextLevel"] + 1]):
            strings = self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing)
            level = []
            for x, text in zip(positions[i], strings):
                if not left <= x <= right:
                    continue
                st, width = self._text(s.font_key, s.metrics, text)
                used += width
                if left <= x - width / 2 and x + width / 2 <= right:
                    level.append((x - width / 2, st))
            if i > 0 and any(len(drawn) >= n and used / s.length >= limit for n, limit in self.style["textFillLimits"]):
                break
            drawn += level
        p.setPen(self.textPen())
        for x, st in drawn:
            p.drawStaticText(QPointF(x, y), st)
        self._updateMaxTextSize(int(s.metrics.height() * 0.8))


__all__ = ["PaintSetup", "PaintedAxis"]


def no_si_prefix(axis) -> None:
    """Show ``axis``'s values as they are, never rescaled to an SI prefix ("x0.001", "ms").

    ``enableAutoSIPrefix(False)`` alone is not enough in pyqtgraph 0.14: it computes a prefix
    from the range at that moment and keeps it (a probability track set up while its range was
    0-0.8 read "200 … 800 (x0.001)" for good). With no range where a prefix applies, the scale it
    computes is 1.
    """
    axis.setSIPrefixEnableRanges(())
    axis.enableAutoSIPrefix(False)
