"""`MarkerLayer`: a plot's marker lines (live labels, board and model events) and their texts,
drawn as one item per plot.

The live view repaints every plot with every frame while it scrolls; a pyqtgraph item per
marker (an ``InfiniteLine`` and a ``TextItem``) recomputed its geometry on each of them. The
layer is one `ViewOverlay` that lays its lines and texts out in pixels, once, and shifts them
while the plot scrolls; texts are put in rows so they neither overprint nor leave the plot.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
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
    marker: the layout (which markers show, their lines by colour, their texts' rows, worked
    out with NumPy on the markers' x) is kept while the plot scrolls, the lines are drawn with
    one ``drawLines`` per colour, and text widths are measured once per text.
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
        self._drawn: _Layout | None = None  # as laid out by `paint`
        self._last: tuple | None = None  # where the last paint drew its texts (`drawn_texts`)
        self._widths: dict[str, float] = {}
        self._texts: dict[str, QStaticText] = {}

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
        when the markers, the visible set, the scale or the plot's size change.

        A frame in between does no NumPy, and Python only for the texts at the plot's edges:
        the layout knows the range of view starts over which its visible set holds
        (`_Layout.x0_range`), and which texts reach past an edge is found by bisection. (Laid out in every frame, ~50 markers cost
        ~0.5 ms a plot; with per-frame NumPy and a loop over the texts, ~0.25 ms a plot with no
        text and ~1 ms for the events panel: the largest Python item of a frame.)"""
        self._last = None
        if not self.markers:
            return
        r = self._rect
        x0, x1 = self.viewbox.state["viewRange"][0]
        scale = r.width() / (x1 - x0 or 1.0)
        lay = self._drawn
        # The scale is rounded: a window's length in floating point differs in its last bits
        # from frame to frame, which moves a marker by far less than a pixel.
        if (lay is None or lay.scale != round(scale, 6) or lay.geometry != (r.top(), r.height(), r.left(), r.width())
                or not lay.x0_range[0] < x0 < lay.x0_range[1]):
            lay = self._drawn = self._lay_out(x0, scale)
        if lay is None:  # nothing visible
            return
        shift = (lay.x_first - x0) * scale + r.left()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.translate(shift, 0.0)
        for pen, group in lay.lines:
            p.setPen(pen)
            p.drawLines(group)
        if lay.texts:
            self._paint_texts(p, lay, shift)
        p.translate(-shift, 0.0)

    def _paint_texts(self, p: QPainter, lay: _Layout, shift: float) -> None:
        """The texts, ``p`` translated by ``shift`` (layout pixels → the item's)."""
        r = self._rect
        texts = lay.texts
        # A text whose line has scrolled off the left edge stays pinned to that edge, whole,
        # until the next text of its row needs the room (then it is left out): drawn where it
        # was laid out, the plot's clip cut it to a stub ("ech" of "speech").
        edge = r.left() + 1 - shift
        # The newest texts (live, at the right edge) would run past it and be cut ("backg" of
        # "background"): from the first text that does, they end at the edge instead, each in
        # the first row where it clears the texts before it (or left out, its line still drawn).
        right = r.right() - 1 - shift
        tail = bisect_right(lay.ends, right)  # the first text running past the right edge
        pinned_end = min(bisect_left(lay.starts, edge), tail)  # texts [0, pinned_end) start left of the edge
        p.setFont(self.font)
        # Each text starts on a whole device pixel. At a fractional x, the window's own
        # repaint and a fresh paint of the same frame (``grab``) drew one of a text's glyphs
        # with different anti-aliasing (a 7 x 7 px difference where a text crossed the next
        # marker's line), so what the panel showed depended on how it had been painted.
        # Lines are drawn without anti-aliasing, on whole pixels, already.
        dev = p.deviceTransform()
        dx, dy = dev.dx(), dev.dy()

        def at(pt: QPointF) -> QPointF:
            return QPointF(round(pt.x() + dx) - dx, round(pt.y() + dy) - dy)

        pinned = []
        for i in range(pinned_end):
            t = texts[i]
            if edge <= t.pin_until:  # room for it at the edge
                pinned.append((i, QPointF(edge, t.top)))
                p.setPen(t.pen)
                p.drawStaticText(at(pinned[-1][1]), t.static)
        pen = None
        for t in texts[pinned_end:tail]:
            if t.pen is not pen:
                pen = t.pen
                p.setPen(pen)
            p.drawStaticText(at(t.point), t.static)
        placed = []
        if tail < len(texts):
            row_end = self._row_ends(lay, pinned_end, tail, pinned, edge)
            tops = lay.tops
            for i in range(tail, len(texts)):
                t = texts[i]
                x = max(edge, min(t.point.x(), right - t.width))
                y = next((y for y in tops if x >= row_end.get(y, -np.inf)), None)
                if y is None:
                    continue
                row_end[y] = x + t.width + 4
                placed.append((i, QPointF(x, y)))
                p.setPen(t.pen)
                p.drawStaticText(at(placed[-1][1]), t.static)
        self._last = (lay, shift, pinned, pinned_end, tail, placed)

    @staticmethod
    def _row_ends(lay: _Layout, pinned_end: int, tail: int, pinned: list, edge: float) -> dict[float, float]:
        """Where each row's drawn texts before ``tail`` end (+ 4 px), in layout pixels: the
        room the right edge's texts must leave."""
        shown_pinned = dict(pinned)
        out = {}
        for top, members in lay.rows.items():
            for i in reversed(members[: bisect_left(members, tail)]):
                t = lay.texts[i]
                if i >= pinned_end:
                    out[top] = t.point.x() + t.width + 4
                    break
                if i in shown_pinned:
                    out[top] = edge + t.width + 4
                    break
        return out

    @property
    def drawn_texts(self) -> list[tuple[str, QRectF]]:
        """(text, rect in this item's pixels) of every text the last paint drew, in the order
        of their markers (pinned to the left edge, in place, at the right edge)."""
        if self._last is None:
            return []
        lay, shift, pinned, pinned_end, tail, placed = self._last
        h = self._metrics.height()
        at = [(i, pt) for i, pt in pinned] + [(i, lay.texts[i].point) for i in range(pinned_end, tail)] + placed
        return [(lay.texts[i].static.text(), QRectF(pt.x() + shift, pt.y(), lay.texts[i].width, h)) for i, pt in at]

    def _lay_out(self, x0: float, scale: float) -> _Layout | None:
        """Lines by colour and texts of the markers visible with the view starting at ``x0``
        at ``scale`` pixels a unit, at pixel x relative to the first of them (lines left of
        the plot are cut off by the plot's clip); None when none is visible."""
        if self._xs is None:
            self._xs = np.fromiter((m.x for m in self.markers), dtype=np.float64, count=len(self.markers))
        xs, r = self._xs, self._rect
        # A marker is visible (`_visible`) while x0 lies in [x - width / scale, x + reach / scale].
        enters, leaves = xs - r.width() / scale, xs + self.TEXT_REACH / scale
        index = np.flatnonzero((enters <= x0) & (x0 <= leaves))
        lo = max(float(np.max(enters, where=enters <= x0, initial=-np.inf)), float(np.max(leaves, where=leaves < x0, initial=-np.inf)))
        hi = min(float(np.min(enters, where=enters > x0, initial=np.inf)), float(np.min(leaves, where=leaves >= x0, initial=np.inf)))
        if not len(index):
            return None
        # Left to right (markers come in time order, so this is their order but for a rare
        # late one): the texts' rows and the bisections in `_paint_texts` assume it.
        index = index[np.argsort(xs[index], kind="stable")]
        first = float(xs[index[0]])
        rel = (xs - first) * scale
        top, bottom = r.top(), r.bottom()
        markers = self.markers
        visible = [(markers[i], float(rel[i])) for i in index.tolist()]
        by_colour: dict[str, list[QLineF]] = {}
        for m, x in visible:
            by_colour.setdefault(m.color, []).append(QLineF(x, top, x, bottom))
        # `text_rects` lays rows out from the plot's left edge: relative to the first marker
        # that edge is elsewhere; only the texts' relative places matter here.
        # Each text also carries where the next text of its row starts (the room it has when
        # pinned to the left edge in `paint`).
        boxes = self.text_rects(visible)
        room: dict[float, float] = {}
        texts = []
        for m, box in reversed(boxes):
            until = room.get(box.top(), np.inf) - box.width() - 4
            texts.append(_Text(self._pen(m.color), box.topLeft(), box.top(), self._static(m.text), box.width(), until))
            room[box.top()] = box.left()
        texts.reverse()
        rows: dict[float, list[int]] = {}
        for i, t in enumerate(texts):
            rows.setdefault(t.top, []).append(i)
        ends = np.maximum.accumulate([t.point.x() + t.width for t in texts]).tolist() if texts else []
        return _Layout(round(scale, 6), (r.top(), r.height(), r.left(), r.width()), (lo, hi), first,
                       [(self._pen(c), g) for c, g in by_colour.items()], texts,
                       [t.point.x() for t in texts], ends, rows, self._row_tops())  # fmt: skip


class _Text(NamedTuple):
    """A marker's text as laid out: drawn at ``point`` unless pinned to an edge (`paint`)."""

    pen: QPen
    point: QPointF  # top left, layout pixels
    top: float
    static: QStaticText
    width: float
    pin_until: float  # pinned to the left edge while the edge is left of this (then the next text needs the room)


class _Layout(NamedTuple):
    """What `MarkerLayer.paint` draws while the visible markers and the scale stay the same,
    in pixels relative to the first visible marker."""

    scale: float  # pixels a unit of x, rounded
    geometry: tuple  # the plot's top, height, left, width
    x0_range: tuple[float, float]  # view starts (exclusive) over which the same markers are visible
    x_first: float  # data x of the first visible marker
    lines: list  # [(pen, [QLineF])]
    texts: list[_Text]  # left to right
    starts: list[float]  # the texts' left x, ascending
    ends: list[float]  # the texts' right x, running maximum
    rows: dict  # row top -> indices of its texts
    tops: list[float]  # the rows' tops
