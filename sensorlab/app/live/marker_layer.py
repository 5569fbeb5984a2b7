"""`MarkerLayer`: a plot's marker lines (live labels, board and model events) and their texts,
drawn as one item per plot.

The live view repaints every plot with every frame while it scrolls; a pyqtgraph item per
marker (an ``InfiniteLine`` and a ``TextItem``) recomputed its geometry on each of them. The
layer is one `ViewOverlay` that lays its lines and texts out in pixels, once, and shifts them
while the plot scrolls; texts are put in rows so they neither overprint nor leave the plot.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QStaticText, QTransform

from sensorlab.app.live.traces import ViewOverlay


class Marker(NamedTuple):
    """A vertical line at data x, with an optional text right of it."""

    x: float
    text: str
    color: str


class MarkerLayer(ViewOverlay):
    """Vertical marker lines (live labels, events) with their texts, as one item per plot.

    It is repainted with every frame of a scrolling plot, so a paint does little Python per
    marker: the markers' x are kept in an array (visibility is one NumPy expression), the lines
    are drawn with one ``drawLines`` per colour, and text widths are measured once per text.
    """

    #: At most this many text rows from the top of the plot (the signal stays readable below).
    MAX_ROWS = 4
    #: Pixels left of the plot within which a marker's text may still reach into it.
    TEXT_REACH = 400

    def __init__(self, viewbox: pg.ViewBox):
        super().__init__(viewbox, z=50.0)
        self.markers: deque[Marker] = deque()
        self._pens: dict[str, QPen] = {}
        self.font = QFont()
        self._metrics = QFontMetricsF(self.font)
        self._xs: np.ndarray | None = None  # the markers' x, rebuilt after a change
        self._drawn: tuple | None = None  # (key, lines, texts) as laid out by `paint`
        self._widths: dict[str, float] = {}
        self._texts: dict[str, QStaticText] = {}
        #: (text, rect in this item's pixels) of every text the last paint drew.
        self.drawn_texts: list[tuple[str, QRectF]] = []

    def add(self, marker: Marker) -> None:
        self.markers.append(marker)
        self._xs = self._drawn = None
        self.update()

    def prune(self, x_min: float) -> None:
        """Forget markers left of ``x_min`` (they are off screen for good)."""
        n = len(self.markers)
        while self.markers and self.markers[0].x < x_min:
            self.markers.popleft()
        if len(self.markers) != n:
            self._xs = self._drawn = None
            self.update()

    def _visible(self) -> list[tuple[Marker, float]]:
        """Markers that may show (texts reach right of their line), with their pixel x."""
        if not self.markers:
            return []
        if self._xs is None:
            self._xs = np.fromiter((m.x for m in self.markers), dtype=np.float64, count=len(self.markers))
        r = self._rect
        px = self.x_to_px(self._xs)
        index = np.flatnonzero((px >= r.left() - self.TEXT_REACH) & (px <= r.right()))
        markers = self.markers
        return [(markers[i], float(px[i])) for i in index.tolist()]

    def _width(self, text: str) -> float:
        w = self._widths.get(text)
        if w is None:
            if len(self._widths) > 1000:  # many distinct texts (free-form events): start over
                self._widths.clear()
            w = self._widths[text] = self._metrics.horizontalAdvance(text)
        return w

    def _static(self, text: str) -> QStaticText:
        """The text laid out once (drawing a `QStaticText` skips the layout `drawText` redoes
        on every call, and the few texts of a plot are drawn on every frame)."""
        st = self._texts.get(text)
        if st is None:
            if len(self._texts) > 1000:
                self._texts.clear()
            st = self._texts[text] = QStaticText(text)
            st.setTextFormat(Qt.TextFormat.PlainText)
            st.prepare(QTransform(), self.font)
        return st

    def text_rects(self, visible: list[tuple[Marker, float]] | None = None) -> list[tuple[Marker, QRectF]]:
        """Where the texts are drawn: in rows one line high from the top of the plot, each in
        the first row where it clears the text before it; a text with no free row is left out
        (its line is still drawn). Laid out in pixels at paint time, so texts neither overprint
        ("clap startclap stop" in the 70 px events panel) nor leave a short plot."""
        tops = self._row_tops()
        row_end = [float("-inf")] * len(tops)
        out = []
        for m, px in self._visible() if visible is None else visible:
            if not m.text:
                continue
            x = px + 3
            for k, top in enumerate(tops):
                if x >= row_end[k]:
                    w = self._width(m.text)
                    row_end[k] = x + w + 4
                    out.append((m, QRectF(x, top, w, self._metrics.height())))
                    break
        return out

    def _row_tops(self) -> list[float]:
        r, line = self._rect, self._metrics.height()
        return [r.top() + 1 + k * line for k in range(max(1, min(self.MAX_ROWS, int((r.height() - 2) // line))))]

    def _pen(self, color: str) -> QPen:
        pen = self._pens.get(color)
        if pen is None:
            pen = self._pens[color] = QPen(QColor(color), 0)
        return pen

    def paint(self, p: QPainter, *_args) -> None:
        """Draw the visible markers. Scrolling moves them all by the same number of pixels, so
        what is drawn (lines grouped by colour, texts in their rows) is laid out once, relative
        to the first visible marker, and only shifted in later frames; it is laid out again
        when the markers, the visible set, the scale or the plot's size change. (Laid out
        in every frame, a plot with ~50 visible markers cost ~0.5 ms of Python per frame.)"""
        self.drawn_texts = []
        if not self.markers:
            return
        if self._xs is None:
            self._xs = np.fromiter((m.x for m in self.markers), dtype=np.float64, count=len(self.markers))
        r = self._rect
        (x0, x1), _ = self.viewbox.viewRange()
        scale = r.width() / (x1 - x0 or 1.0)
        px = (self._xs - x0) * scale + r.left()
        index = np.flatnonzero((px >= r.left() - self.TEXT_REACH) & (px <= r.right()))
        if not len(index):
            return
        first = int(index[0])
        # The scale is rounded: a window's length in floating point differs in its last bits
        # from frame to frame, which moves a marker by far less than a pixel.
        key = (first, int(index[-1]), len(self.markers), round(scale, 6), r.top(), r.height(), r.left(), r.width())
        if self._drawn is None or self._drawn[0] != key:
            self._drawn = (key, *self._lay_out(index, px - px[first]))
        _key, lines, texts = self._drawn
        shift = float(px[first])
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.translate(shift, 0.0)
        for color, group in lines:
            p.setPen(self._pen(color))
            p.drawLines(group)
        p.setFont(self.font)
        # A text whose line has scrolled off the left edge stays pinned to that edge, whole,
        # until the next text of its row needs the room (then it is left out): drawn where it
        # was laid out, the plot's clip cut it to a stub ("ech" of "speech").
        edge = r.left() + 1 - shift
        # The newest texts (live, at the right edge) would run past it and be cut ("backg" of
        # "background"): from the first text that does, they end at the edge instead, each in
        # the first row where it clears the texts before it (or left out, its line still drawn).
        right = r.right() - 1 - shift
        tail = next((i for i, t in enumerate(texts) if t[1].x() + t[3] > right), len(texts))
        drawn = []
        row_end: dict[float, float] = {}
        for i, (color, point, static, width, room) in enumerate(texts):
            if i >= tail:
                x = max(edge, min(point.x(), right - width))
                y = next((y for y in self._row_tops() if x >= row_end.get(y, -np.inf)), None)
                if y is None:
                    continue
                point = QPointF(x, y)
            elif point.x() < edge:
                if edge + width + 4 > room:
                    continue
                point = QPointF(edge, point.y())
            row_end[point.y()] = point.x() + width + 4
            p.setPen(self._pen(color))
            p.drawStaticText(point, static)
            drawn.append((static.text(), QRectF(point.x() + shift, point.y(), width, self._metrics.height())))
        self.drawn_texts = drawn
        p.translate(-shift, 0.0)

    def _lay_out(self, index: np.ndarray, rel: np.ndarray) -> tuple[list, list]:
        """Lines by colour and texts of the markers at ``index``, at pixel x ``rel`` relative
        to the first of them (lines left of the plot are cut off by the plot's clip)."""
        r = self._rect
        top, bottom = r.top(), r.bottom()
        markers = self.markers
        visible = [(markers[i], float(rel[i])) for i in index.tolist()]
        by_colour: dict[str, list[QLineF]] = {}
        for m, x in visible:
            by_colour.setdefault(m.color, []).append(QLineF(x, top, x, bottom))
        # `text_rects` lays rows out from the plot's left edge: relative to the first marker
        # that edge is at -px[first]; only the texts' relative places matter here.
        # Each text also carries its width and where the next text of its row starts (the room
        # it has when pinned to the left edge in `paint`).
        boxes = self.text_rects(visible)
        room: dict[float, float] = {}
        texts = []
        for m, box in reversed(boxes):
            texts.append((m.color, box.topLeft(), self._static(m.text), box.width(), room.get(box.top(), float("inf"))))
            room[box.top()] = box.left()
        texts.reverse()
        return list(by_colour.items()), texts
