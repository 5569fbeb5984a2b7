"""Fast graphics items of the live view and the labeling timeline.

`Trace`: one channel of a plot, drawn as a single polyline (the live view's hot path).

pyqtgraph's `PlotDataItem` re-derives its display data, its bounds and a `QPainterPath` on
every ``setData``, and strokes that path when painting; for the demo rig's ~30 channels
redrawn every frame that was most of the live view's CPU (docs/PERFORMANCE.md). A `Trace`
copies the (already decimated) points once into a `QPolygonF` and paints them with one
``drawPolyline`` with a 1-px cosmetic pen, the fastest line Qt's raster engine draws.

It keeps the parts of the `PlotDataItem` interface the studio uses: ``setData(x, y)``,
``getOriginalDataset()``, visibility, and an ``opts`` dict a `LegendItem` can draw.
x must be increasing (the live buffers are): the bounds are then its first and last value.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPen,
    QStaticText,
    QTransform,
)


class Trace(pg.GraphicsObject):
    """A polyline of ``(x, y)`` points in data coordinates of the plot it is added to."""

    def __init__(self, pen, name: str | None = None):
        super().__init__()
        self.opts = {"pen": pen, "name": name, "antialias": False, "fillLevel": None, "symbol": None, "brush": None}
        self._pen = pg.mkPen(pen)
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._poly = fn.create_qpolygonf(0)
        self._points = np.zeros((0, 2))
        self._pieces: list = []  # the polyline cut at its breaks, when it has any
        self._rect = QRectF()

    def name(self) -> str | None:
        return self.opts["name"]

    def _updateView(self) -> None:
        """Stay off the view's signals: pyqtgraph connects every item in a `ViewBox` to its
        range and transform signals (two Python slots per item, called on every frame of a
        scrolling plot: ~60 a frame for the demo rig's ~30 traces), to drop cached view
        geometry a `Trace` does not keep. Its points are in data coordinates; Qt maps them."""

    def setData(self, x: np.ndarray, y: np.ndarray, breaks: np.ndarray | None = None,
                bounds: tuple[float, float] | None = None, **_ignored) -> None:
        """Draw ``y`` against ``x`` from now on (both 1-D, same length, x increasing).

        ``breaks``: indices of points not joined to the point before them (a recording gap:
        a line across it would draw samples the file does not have). ``bounds``: ``y``'s
        minimum and maximum when the caller has them (a panel finds them for all its channels
        with one NumPy call, not two per channel).
        """
        n = len(x)
        self._x, self._y = x, y
        if n != len(self._points):
            self._poly = fn.create_qpolygonf(n)
            self._points = fn.ndarray_from_qpolygonf(self._poly)
        self._points[:, 0] = x
        self._points[:, 1] = y
        self._pieces = []
        if breaks is not None and len(breaks):
            for a, b in zip(np.r_[0, breaks], np.r_[breaks, n]):
                poly = fn.create_qpolygonf(int(b - a))
                fn.ndarray_from_qpolygonf(poly)[:] = self._points[a:b]
                self._pieces.append(poly)
        if n:
            lo, hi = (float(np.min(y)), float(np.max(y))) if bounds is None else bounds
            pad = 0.02 * (hi - lo) + 1e-6  # room for the 1-px pen at the extremes
            rect = QRectF(float(x[0]), lo - pad, max(float(x[-1] - x[0]), 1e-9), hi - lo + 2 * pad)
        else:
            rect = QRectF()
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def getOriginalDataset(self):
        return self._x, self._y

    getData = getOriginalDataset

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        if self._x is None or not len(self._x):
            return None, None
        if ax == 0:
            return float(self._x[0]), float(self._x[-1])
        return float(np.min(self._y)), float(np.max(self._y))

    def boundingRect(self) -> QRectF:
        # Set in setData, widened there for the pen: asking for the pixel size here (as
        # pyqtgraph's items do) cost more than drawing the line.
        return self._rect

    def paint(self, p: QPainter, *_args) -> None:
        if len(self._points) < 2:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setPen(self._pen)
        if self._pieces:
            for poly in self._pieces:
                p.drawPolyline(poly)
        else:
            p.drawPolyline(self._poly)


class ColumnImage(pg.GraphicsObject):
    """A scrolling colour image (a spectrogram) drawn straight from a `RollingBuffer`.

    Columns are coloured once, when they arrive (``colour``), into 32-bit RGB values, so a
    frame neither re-applies a colour map to the whole image nor copies it: the painted
    `QImage` reads the buffer's memory in place (its rows are the buffer's channel rows,
    ``bytesPerLine`` skips the unused part). Row 0 is drawn at the bottom of ``rect``.
    """

    def __init__(self, cmap: pg.ColorMap, levels: tuple[float, float]):
        super().__init__()
        self._lut = np.ascontiguousarray(cmap.getLookupTable(nPts=256, mode="byte", alpha=False)).astype(np.uint32)
        # QImage.Format_RGB32 stores 0xffRRGGBB per pixel.
        self._argb = (0xFF000000 | (self._lut[:, 0] << 16) | (self._lut[:, 1] << 8) | self._lut[:, 2]).astype(np.uint32)
        self.levels = levels
        self._image: QImage | None = None
        self._keep = None  # the array the QImage reads (kept alive with it)
        self._rect = QRectF()

    def colour(self, values: np.ndarray) -> np.ndarray:
        """``values`` (any shape) mapped through the colour map between ``levels``."""
        lo, hi = self.levels
        idx = np.clip((values - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
        return self._argb[idx]

    def set_columns(self, backing: np.ndarray, start: int, stop: int, rect: QRectF) -> None:
        """Show columns ``start:stop`` of the C-contiguous uint32 ``backing`` (rows × columns)
        over ``rect`` (data coordinates)."""
        rows, width = backing.shape
        flat = backing.reshape(-1)[start:]  # the image starts at column `start` of row 0
        self._keep = flat
        self._image = QImage(flat.data, stop - start, rows, width * 4, QImage.Format.Format_RGB32)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)

    def paint(self, p: QPainter, *_args) -> None:
        if self._image is None:
            return
        p.drawImage(self._rect, self._image)


class ViewOverlay(pg.GraphicsObject):
    """Base of items drawn in a `ViewBox`'s pixel space rather than its data space.

    A pyqtgraph item in data space (an ``InfiniteLine`` per marker, a ``TextItem`` per label)
    recomputes its geometry on every change of the view range, which on a scrolling plot is
    every frame, once per item. An overlay is one item whatever it draws: a child of the
    ViewBox covering its whole rectangle, repainted when the range changes, that maps x to
    pixels itself in `paint` (see `x_to_px`). It takes no mouse buttons, so clicks reach the
    items below it.
    """

    def __init__(self, viewbox: pg.ViewBox, z: float = 100.0):
        super().__init__()
        self.viewbox = viewbox
        self.setParentItem(viewbox)
        self.setZValue(z)
        self.setAcceptedMouseButtons(pg.QtCore.Qt.MouseButton.NoButton)
        self.setFlag(self.GraphicsItemFlag.ItemClipsToShape, True)
        self._rect = QRectF(viewbox.rect())
        viewbox.sigRangeChanged.connect(self._on_range)
        viewbox.sigResized.connect(self._on_resized)

    def _on_range(self, *_args) -> None:
        self.update()

    def _on_resized(self, *_args) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(self.viewbox.rect())
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def shape(self):
        path = pg.QtGui.QPainterPath()
        path.addRect(self._rect)
        return path

    def x_to_px(self, x: np.ndarray | float) -> np.ndarray | float:
        """Data x (one value or an array) → pixel x in this item's coordinates."""
        (x0, x1), _ = self.viewbox.viewRange()
        return (np.asarray(x, dtype=np.float64) - x0) * (self._rect.width() / (x1 - x0 or 1.0)) + self._rect.left()


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


class CursorLine(ViewOverlay):
    """A vertical line at data x ``value`` across the plot (the labeling timeline's cursor)."""

    def __init__(self, viewbox: pg.ViewBox, color: str, value: float = 0.0):
        super().__init__(viewbox, z=1000.0)
        self._pen = QPen(QColor(color), 0)
        self._value = float(value)

    def value(self) -> float:
        return self._value

    def setValue(self, x: float) -> None:
        if x != self._value:
            self._value = float(x)
            self.update()

    def paint(self, p: QPainter, *_args) -> None:
        px = float(self.x_to_px(self._value))
        r = self._rect
        if r.left() <= px <= r.right():
            p.setPen(self._pen)
            p.drawLine(QPointF(px, r.top()), QPointF(px, r.bottom()))
