"""Fast graphics items of the live view and the labeling timeline.

`Trace`: one channel of a plot, drawn as a single polyline (the live view's hot path).

pyqtgraph's `PlotDataItem` re-derives its display data, its bounds and a `QPainterPath` on
every ``setData``, and strokes that path when painting; for the demo rig's ~30 channels
redrawn every frame that was most of the live view's CPU (docs/performance/live-view.md). A `Trace`
copies the (already decimated) points once into a `QPolygonF` and paints them with one
``drawPolyline`` with a 1-px cosmetic pen, the fastest line Qt's raster engine draws.

It keeps the parts of the `PlotDataItem` interface the studio uses: ``setData(x, y)``,
``getOriginalDataset()``, visibility, and an ``opts`` dict a `LegendItem` can draw.
x must be increasing (the live buffers are): the bounds are then its first and last value.

`TraceGroup`: the traces of one plot painted as one item (the live view's panels). When the
traces are envelopes (more points than the pixel columns they span, as a dense stream's
min/max pairs are), the group fills the range of each line within each pixel column into one
ARGB image (sensorlab/plotting/raster.py) and draws that, instead of Qt stroking every
segment; raw samples a pixel or more apart are still stroked.

`ViewOverlay` (the base of items drawn in a plot's pixels) and `CursorLine` are here too (the
images: `image_items`); the marker lines and their texts, a `ViewOverlay`, are
`sensorlab.app.live.marker_layer`.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from sensorlab.plotting.raster import premultiplied, trace_image

_VISIBLE_CHANGED = QGraphicsItem.GraphicsItemChange.ItemVisibleHasChanged
#: Pixels of the dot a point between two breaks is drawn as (a window between skipped ones).
LONE_POINT_PX = 3.0


class Trace(pg.GraphicsObject):
    """A polyline of ``(x, y)`` points in data coordinates of the plot it is added to."""

    _group: TraceGroup | None = None  # the group that paints it, if any (`TraceGroup`)
    _span: tuple[float, float, float, float] | None = None  # its bounds' left, top, right, bottom

    def __init__(self, pen, name: str | None = None):
        super().__init__()
        self.opts = {"pen": pen, "name": name, "antialias": False, "fillLevel": None, "symbol": None, "brush": None}
        self._pen = pg.mkPen(pen)
        # Its pixel value in a group's image (`TraceGroup._fill`): the pen is not changed later.
        self._premultiplied = premultiplied(self._pen.color().getRgb())
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None
        self._n = 0  # points
        self._poly = fn.create_qpolygonf(0)
        self._points = np.zeros((0, 2))
        self._stale = False  # `_points` not yet the points (`TraceGroup.set_rows` copies them when stroked)
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
        self._copy(x, y, n)
        if breaks is not None and len(breaks):
            for a, b in zip(np.r_[0, breaks], np.r_[breaks, n]):
                poly = fn.create_qpolygonf(int(b - a))
                fn.ndarray_from_qpolygonf(poly)[:] = self._points[a:b]
                self._pieces.append(poly)
        if n:
            lo, hi = (float(np.min(y)), float(np.max(y))) if bounds is None else bounds
            pad = 0.02 * (hi - lo) + 1e-6  # room for the 1-px pen at the extremes
            rect = QRectF(float(x[0]), lo - pad, max(float(x[-1] - x[0]), 1e-9), hi - lo + 2 * pad)
            self._span = (rect.left(), rect.top(), rect.right(), rect.bottom()) if n >= 2 else None
        else:
            rect = QRectF()
            self._span = None
        if self._group is not None:
            self._rect = rect  # painted by its group, which the caller tells (`TraceGroup.changed`)
            self._group._rows = None  # its rows are no longer the group's (`TraceGroup.set_rows`)
            return
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def _copy(self, x: np.ndarray, y: np.ndarray, n: int) -> None:
        """Keep ``x``, ``y`` and copy them into the polyline's points (unbroken)."""
        self._keep(x, y, n)
        self._polyline()

    def _keep(self, x: np.ndarray, y: np.ndarray, n: int) -> None:
        """Keep ``x``, ``y`` (unbroken); the polyline's points are copied when it is stroked."""
        self._x, self._y, self._n = x, y, n
        self._pieces = []
        self._stale = True

    def _polyline(self):
        """The points as a `QPolygonF`, copied from ``x``, ``y`` if they changed since."""
        if self._stale:
            n = self._n
            if n != len(self._points):
                self._poly = fn.create_qpolygonf(n)
                self._points = fn.ndarray_from_qpolygonf(self._poly)
            points = self._points
            points[:, 0] = self._x
            points[:, 1] = self._y
            self._stale = False
        return self._poly

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
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.stroke(p)

    def stroke(self, p: QPainter) -> None:
        """Draw the polyline with ``p`` (antialiasing off: the caller's)."""
        if self._n < 2:
            return
        p.setPen(self._pen)
        if self._pieces:
            lone = [poly for poly in self._pieces if poly.size() == 1]
            for poly in self._pieces:
                if poly.size() > 1:
                    p.drawPolyline(poly)
            if lone:  # a point between two breaks: a line of one point draws nothing
                dot = QPen(self._pen)
                dot.setWidthF(LONE_POINT_PX)
                p.setPen(dot)
                for poly in lone:
                    p.drawPoints(poly)
        else:
            p.drawPolyline(self._polyline())

    def itemChange(self, change, value):
        ret = super().itemChange(change, value)
        if change == _VISIBLE_CHANGED and self._group is not None:
            self._group._colours = None
            self._group.changed()  # shown or hidden from the legend or the channel menu
        return ret


class TraceGroup(pg.GraphicsObject):
    """The traces of one plot painted as one item, in the order they were added.

    Qt asks each item it paints for its bounds two to four times a frame and calls its
    ``paint``, each a call into Python; for the live view's ~30 traces, every frame, that
    was ~150 calls. The traces of a group are not items of the plot: they keep their data,
    pen, name and visibility (a legend draws and toggles them as before), and the group,
    whose bounds are the union of the shown traces', strokes them in one ``paint``. Call
    `changed` after giving the traces new data (`Trace.setData` does not, so a panel
    updating all its channels tells the group once)."""

    def __init__(self):
        super().__init__()
        self.traces: list[Trace] = []
        self._rect = QRectF()
        # The (traces, points) rows the traces draw, when `set_rows` gave them (the image is
        # filled from them in place, `_fill`); None after a trace was given other data.
        self._rows: np.ndarray | None = None
        self._colours: np.ndarray | None = None  # each trace's pixel value for `_rows`, 0 if hidden
        self.fills = 0  # paints that drew the traces as one image (tests, benchmarks)

    def add(self, trace: Trace) -> Trace:
        trace._group = self
        self.traces.append(trace)
        self._colours = None
        return trace

    def changed(self) -> None:
        spans = [t._span for t in self.traces if t._span is not None and t.isVisible()]
        if spans:
            x0, y0 = min(s[0] for s in spans), min(s[1] for s in spans)
            rect = QRectF(x0, y0, max(s[2] for s in spans) - x0, max(s[3] for s in spans) - y0)
        else:
            rect = QRectF()
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def set_rows(self, x: np.ndarray, rows: np.ndarray, shown_only: bool = True) -> None:
        """Give the traces, in order, the rows of ``rows`` (channels × points) against ``x``
        (increasing, no breaks), then `changed`: what ``setData`` per trace does, in one call
        for a panel's channels. ``setData`` costs ~20 µs of Python per trace (its keywords,
        two float conversions of ``x``'s ends, a `QRectF`), the points' copy 2–5 of it; with
        ~30 channels refreshed each frame that was ~0.6 ms. ``shown_only``: hidden traces
        keep their data (the caller hands a trace its data when showing it)."""
        n = len(x)
        if n:
            lows, highs = rows.min(axis=1).tolist(), rows.max(axis=1).tolist()
            x0 = float(x[0])
            x1 = x0 + max(float(x[-1]) - x0, 1e-9)
        # The points are copied into each trace's polyline only if it is stroked: an envelope
        # is filled from ``rows`` as it is (`_fill`).
        self._rows = rows if len(rows) == len(self.traces) else None
        for i, trace in enumerate(self.traces):
            if shown_only and not trace.isVisible():
                continue
            trace._keep(x, rows[i], n)
            if n >= 2:
                lo, hi = lows[i], highs[i]
                pad = 0.02 * (hi - lo) + 1e-6  # as `Trace.setData`
                trace._span = (x0, lo - pad, x1, (lo - pad) + (hi - lo + 2 * pad))  # QRectF's bottom
            else:
                trace._span = None
        self.changed()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        bounds = [b for t in self.traces if t.isVisible() for b in [t.dataBounds(ax)] if b[0] is not None]
        if not bounds:
            return None, None
        return min(b[0] for b in bounds), max(b[1] for b in bounds)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, *_args) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        shown = [trace for trace in self.traces if trace.isVisible() and trace._n >= 2]
        if shown and self._fill(p, shown):
            return
        for trace in shown:
            trace.stroke(p)

    def _fill(self, p: QPainter, shown: list[Trace]) -> bool:
        """Draw the shown traces as one image when they are envelopes (more points than the
        pixel columns they span): their per-column spans, joined to the neighbouring columns
        as the lines join them, filled in their colours and order (sensorlab/plotting/raster.py)
        and drawn with one ``drawImage``. Qt strokes such a polyline segment by segment, each
        pixel on its own: half a live frame's instructions (docs/performance/live-view.md,
        fifteenth round). False: the caller strokes them (few points, gaps, a rotated or scaled device,
        pens wider than a pixel, traces not sharing one x)."""
        t = p.transform()
        if t.m12() or t.m21() or t.m11() <= 0 or p.device().devicePixelRatio() != 1:
            return False
        x = shown[0]._x
        for tr in shown:
            if (tr._x is not x and not np.array_equal(tr._x, x)) or tr._pieces or tr._pen.widthF() > 1:
                return False
        dev = p.device()
        region = QRectF(0, 0, dev.width(), dev.height())
        if p.hasClipping():
            region = region.intersected(t.mapRect(p.clipBoundingRect()))
        m11, dx = t.m11(), t.dx()
        # the points' device x at the ends (as NumPy computes ``x * m11 + dx`` for each point)
        px0, px1 = float(x[0]) * m11 + dx, float(x[-1]) * m11 + dx
        first, last = max(math.floor(region.left()), math.floor(px0)), min(math.ceil(region.right()) - 1, math.floor(px1))
        top, bottom = math.floor(region.top()), math.ceil(region.bottom())
        if last < first or bottom <= top:
            return True  # nothing of them in the exposed part
        if len(x) <= last - first + 1:
            return False  # no more points than columns: raw samples (`trace_image` says so too)
        rows = self._rows
        if rows is not None and shown[0]._x is x and all(tr._x is x for tr in shown):
            # the rows as `set_rows` gave them, hidden traces left out by their colour 0
            if self._colours is None:  # (again when a trace is shown or hidden: `Trace.itemChange`)
                self._colours = np.array([tr._premultiplied if tr.isVisible() else 0 for tr in self.traces], np.uint32)
            colours = self._colours
        else:
            rows = np.stack([tr._y for tr in shown])
            colours = np.array([tr._premultiplied for tr in shown], np.uint32)
        w, h = last - first + 1, bottom - top
        buf = np.empty((h, w), np.uint32)  # (`trace_image` writes every pixel)
        if not trace_image(buf, x, rows, colours, m11, dx, first, last, t.m22(), t.dy() - top):
            return False  # raw samples, a pixel apart or more: Qt's lines
        image = QImage(buf.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
        p.save()
        p.resetTransform()
        p.drawImage(first, top, image)
        p.restore()
        self.fills += 1
        return True


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
        # `x_to_px` in plain floats: NumPy for one value cost more than the line (five
        # cursors are painted every frame of the labeling timeline).
        (x0, x1), _ = self.viewbox.viewRange()
        r = self._rect
        px = (self._value - x0) * (r.width() / (x1 - x0 or 1.0)) + r.left()
        if r.left() <= px <= r.right():
            p.setPen(self._pen)
            p.drawLine(QPointF(px, r.top()), QPointF(px, r.bottom()))
