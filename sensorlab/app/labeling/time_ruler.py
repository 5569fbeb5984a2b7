"""`TimeRuler`: the labeling timeline's time axis, painted straight from its tick values.

The ruler changes on every scroll/zoom frame. pyqtgraph's `AxisItem` then rebuilds a
`QPicture` of its ticks and texts, measuring every text with ``QPainter.boundingRect`` and
creating a few `Point` objects per tick, and plays the picture back: ~3 ms of a ~14 ms frame
of the 10-hour session (docs/performance/labeling.md). This subclass keeps everything else of the
axis (its place in the plot's layout, its label, pyqtgraph's tick spacing and tick strings,
the crowding rule that decides whether the finer level gets texts) and paints directly: the
grid lines of one level with one ``drawLines``, each text with a cached `QStaticText` (the
paint preamble, text cache and text placement are shared with the live axis in `painted_axis`).

The grid lines are opaque, their faint colour mixed with the background beforehand, and the
ruler sits below the plot's view (`GRID_Z`), so the signal is drawn over them as over paper.
Faint (translucent) lines over the view cost Qt's raster engine a blend per pixel row,
which it hands to its thread pool in pieces and waits for: about 1.5 ms of wall time a
frame for ~30 lines, six times the CPU of opaque ones, and on a machine with little CPU to
spare the hand-offs wait for throttled threads (docs/performance/labeling.md, slow machine).
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF
from PySide6.QtGui import QColor, QPainter, QPen

from sensorlab.app.common.painted_axis import PaintedAxis
from sensorlab.app.live.plot_items import BoundsKeptAxis


#: Z value of the ruler: below its plot's `ViewBox` (pyqtgraph puts it at -100, axes at 0.5),
#: so the signal is painted over the grid lines.
GRID_Z = -200.0


def opaque_over(pen: QPen, background: QColor) -> QPen:
    """``pen`` with its translucent colour replaced by that colour painted over ``background``:
    the same pixels on that background, without the per-pixel blend."""
    c, a = pen.color(), pen.color().alphaF()
    mixed = QColor.fromRgbF(*(a * x + (1.0 - a) * y for x, y in zip(c.getRgbF()[:3], background.getRgbF()[:3])))
    out = QPen(pen)
    out.setColor(mixed)
    return out


class TimeRuler(PaintedAxis, BoundsKeptAxis):
    """A top axis (``AxisItem("top")``) that paints its ticks, grid lines and texts itself (its
    bounds kept between frames: `BoundsKeptAxis`)."""

    #: Texts kept laid out (a session's tick strings repeat as the view moves).
    MAX_TEXTS = 2048

    def __init__(self, **kwargs):
        super().__init__("top", **kwargs)
        self._pens: dict[tuple, QPen] = {}  # a level's opaque grid pen (see `_grid_pen`)

    def setZValue(self, z: float) -> None:  # noqa: N802 - Qt override
        # pyqtgraph's PlotItem puts every axis at 0.5, above the view: keep the grid beneath.
        super().setZValue(GRID_Z)

    def _background(self) -> QColor:
        views = self.scene().views() if self.scene() is not None else []
        return views[0].backgroundBrush().color() if views else QColor(0, 0, 0)

    def _grid_pen(self, s, level: int, ticks: int, background: QColor) -> QPen:
        """The same faint grid lines as `AxisItem`'s, painted opaque (see the module doc); kept
        per level, tick count, axis length and colours (a pan at one zoom reuses them). The
        axis' pens are told apart by identity: pyqtgraph replaces them on `setPen`/`setTickPen`,
        and building them to compare (`tickPen()` makes a new `QPen`) was the cost saved."""
        key = (level, ticks, s.length, s.grid, background.rgba(), id(self._pen), id(self._tickPen), self.grid, self.style["tickAlpha"])
        pen = self._pens.get(key)
        if pen is None:
            if len(self._pens) > 256:
                self._pens.clear()
            pen = self._pens[key] = opaque_over(self.level_pen(s, level, ticks), background)
        return pen

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
        background = self._background()
        for i, (_spacing, values) in enumerate(s.levels):
            xs = [(v - s.x0) * s.scale + left for v in values]
            positions.append(xs)
            p.setPen(self._grid_pen(s, i, len(values), background))
            lines = [QLineF(x, bottom, x, end) for x in xs if left <= x <= right]
            if lines:
                p.drawLines(lines)
        if self.style["showValues"]:
            top = bottom - max(0, self.style["tickLength"]) - self.style["tickTextOffset"][1] - s.metrics.height()
            self._draw_texts(p, s, positions, top)


__all__ = ["TimeRuler"]
