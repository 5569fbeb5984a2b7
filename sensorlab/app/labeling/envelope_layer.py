"""A signal track's channel polylines, kept as pixels while the view is dragged.

Stroking the envelopes is the largest part of a scroll frame, and it is pixel-bound: Qt's
raster engine sets each pixel of a 1-px vertical stroke on its own (docs/PERFORMANCE.md,
§5). While the user drags the view by whole pixels, `SignalTrack.update_range` keeps the
same drawing (it holds half a view beyond each edge), so every frame would stroke the same
vertices again, one or more pixels further on. Here the second paint of an unchanged drawing
at the same scale renders the track's channels once into an image (transparent, in device
pixels, the channels in their painting order), and that paint and the following ones draw
the image moved by the whole pixels the view moved: one blend of the visible part instead of
every stroke. The first paint of a drawing (a jump, a zoom: every frame of a sweep) strokes
directly, as before, so frames that never repeat a drawing pay nothing extra.

The image holds exactly the pixels the direct strokes set: the same transform up to a whole
pixel translation, no antialiasing, opaque pens; pixels a stroke does not touch stay
transparent.
"""

from __future__ import annotations

import math

import numpy as np
from shiboken6 import wrapInstance as wrapinstance
from PySide6.QtCore import QLineF, QPoint, QRect, QRectF
from PySide6.QtGui import QImage, QPainter, QTransform

from sensorlab.app.live.traces import Trace

#: Widest image kept (device pixels): a drawing's margin makes it about twice the view.
MAX_IMAGE_WIDTH = 8192


class EnvelopeLayer:
    """What the channel traces of one track share: their drawing's version and its image."""

    def __init__(self, viewbox):
        self.viewbox = viewbox  # the track's: its rows are the image's
        self.traces: list[EnvelopeTrace] = []
        self.version = 0  # changes with every new drawing (setData)
        self.cached = False  # this paint pass draws the image (set by the first trace)
        self.renders = 0  # images rendered (tests, benchmarks)
        self.blits = 0  # paints that drew the image instead of stroking
        self._seen = None  # (version, scale key) of the last direct paint
        self._image: QImage | None = None
        self._image_key = None  # (version, scale key) the image was rendered for
        self._origin = (0, 0)  # device pixel of the image's top left when rendered
        self._dx = 0.0  # the transform's x translation when rendered

    def changed(self) -> None:
        self.version += 1
        self._image = None

    def begin(self, p: QPainter) -> bool:
        """Called by the first trace of each paint pass: draw the image (True: the traces do
        not stroke) or let them stroke (False)."""
        t = p.transform()
        if t.m12() or t.m21() or p.device().devicePixelRatio() != 1:
            self.cached = False
            return False
        dx, dy = t.dx(), t.dy()
        key = (self.version, t.m11(), t.m22(), round(dx % 1.0, 3) % 1.0, dy)
        if (self._image is not None and key == self._image_key) or (key == self._seen and self._render(p, t)):
            self._blit(p, dx)
        else:
            self._seen = key
            self.cached = False
            return False
        self.cached = True
        return True

    def _render(self, p: QPainter, t: QTransform) -> bool:
        """The drawing's strokes in an image of the painter's device pixels; False when too large."""
        traces = [tr for tr in self.traces if tr.isVisible() and tr.drawn()]
        if not traces:
            return False
        x0 = min(tr.x_extent()[0] for tr in traces)
        x1 = max(tr.x_extent()[1] for tr in traces)
        a, b = sorted((t.map(x0, 0.0)[0], t.map(x1, 0.0)[0]))
        # The view's rows (not the paint's clip: a partial repaint exposes only some of them).
        rows = t.mapRect(self.viewbox.viewRect())
        left, right = math.floor(a) - 2, math.ceil(b) + 2
        top, bottom = math.floor(rows.top()) - 1, math.ceil(rows.bottom()) + 1
        w, h = right - left, bottom - top
        if w <= 0 or h <= 0 or w > MAX_IMAGE_WIDTH:
            return False
        img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(0)
        q = QPainter(img)
        # Clipped to the image itself: the same pixels, but Qt's raster engine strokes 1-px
        # lines ~2.5× faster with a clip rect than with none (micro-benchmark: 0.83 against
        # 2.1 ms for one 916-stroke zig-zag; the view's own paint is clipped to the plot).
        q.setClipRect(QRect(0, 0, w, h))
        q.setTransform(t * QTransform.fromTranslate(-left, -top))
        for tr in traces:
            tr.stroke(q)
        q.end()
        self._image, self._image_key = img, self._seen
        self._origin, self._dx = (left, top), t.dx()
        self.renders += 1
        return True

    def _blit(self, p: QPainter, dx: float) -> None:
        shift = round(dx - self._dx)  # whole pixels (the key compares the fractions)
        p.save()
        p.resetTransform()
        p.drawImage(QPoint(self._origin[0] + shift, self._origin[1]), self._image)
        p.restore()
        self.blits += 1


class EnvelopeTrace(Trace):
    """One channel of a track whose channels share an `EnvelopeLayer`: a polyline (raw
    samples, `setData`) or vertical line segments (an envelope, `set_segments`).

    The first trace of the layer decides for the paint pass and its bounding rect covers every
    channel's, so whenever any channel is painted, it is painted first.
    """

    def __init__(self, pen, layer: EnvelopeLayer):
        super().__init__(pen)
        self.layer = layer
        self.first = not layer.traces
        layer.traces.append(self)
        self._lines = np.empty((0, 4))  # the segments (x, y0, x, y1) of an envelope
        self._segments = False  # the drawing is `_lines`, not the polyline

    def setData(self, *args, **kwargs) -> None:  # noqa: N802 - pyqtgraph API
        self._segments = False
        super().setData(*args, **kwargs)
        self._changed()

    def set_segments(self, lines: np.ndarray, rect: QRectF) -> None:
        """Draw vertical segments, rows ``(x, y0, x, y1)`` of the C-contiguous float64
        ``lines`` (data coordinates; kept, not copied), with one ``drawLines``; ``rect`` bounds
        them all."""
        self._segments = True
        self._lines = lines
        self._x, self._y = lines[:, 0], None
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()
        self._changed()

    def _changed(self) -> None:
        self.layer.changed()
        first = self.layer.traces[0]
        if not self.first and not first._rect.contains(self._rect):
            first.prepareGeometryChange()
            first._rect = first._rect.united(self._rect)

    def getData(self):  # noqa: N802 - pyqtgraph API
        """``(x, y)``; for segments, each as two points in a row: ``(x, y0), (x, y1)``."""
        if not self._segments:
            return super().getData()
        a = self._lines
        return np.repeat(a[:, 0], 2), a[:, 1:4:2].reshape(-1).copy()

    getOriginalDataset = getData

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):  # noqa: N802 - pyqtgraph API
        if not self._segments:
            return super().dataBounds(ax, frac, orthoRange)
        if not len(self._lines):
            return None, None
        r = self._rect
        return (r.left(), r.right()) if ax == 0 else (r.top(), r.bottom())

    def drawn(self) -> bool:
        """Whether there is anything to draw."""
        return len(self._lines) > 0 if self._segments else len(self._points) >= 2

    def x_extent(self) -> tuple[float, float]:
        """Data x of the first and last point or segment."""
        if self._segments:
            x = self._lines[:, 0]  # (segments are not in x order)
            return float(x.min()), float(x.max())
        return float(self._points[0, 0]), float(self._points[-1, 0])

    def stroke(self, p: QPainter) -> None:
        """Stroke the polyline or the segments on ``p``."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if not self._segments:
            Trace.stroke(self, p)  # not Trace.paint: that calls self.stroke, i.e. this (endless)
        elif len(self._lines):
            p.setPen(self._pen)
            # QPainter's drawLines(const QLineF *, int): the rows are QLineFs in memory
            p.drawLines(wrapinstance(self._lines.ctypes.data, QLineF), len(self._lines))

    def paint(self, p: QPainter, *args) -> None:
        if self.first:
            if self.layer.begin(p):
                return
        elif self.layer.cached:
            return
        self.stroke(p)


__all__ = ["EnvelopeLayer", "EnvelopeTrace"]
