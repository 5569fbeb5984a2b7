"""A signal track's channels drawn as one image: the envelope filled without Qt's strokes, and
the pixels kept while the view is dragged.

An envelope (a min/max span per device pixel column and channel, `SignalTrack.update_range`)
was stroked by Qt as 1-px vertical lines, and Qt's raster engine sets each pixel of such a
stroke on its own: the largest part of a sweep frame (docs/PERFORMANCE.md, §5). Now the first
trace's paint fills every channel's spans, joined to their neighbours and in the channels'
painting order, into one premultiplied ARGB buffer (sensorlab/plotting/raster.py: compiled C,
or NumPy with the same pixels) and draws it with one `drawImage`. The image covers the whole
drawing (half a view beyond each edge while scrolling), so while the user drags the view by
whole pixels the following paints draw the same image moved by the pixels the view moved.

Raw samples (zoomed in to one sample per pixel or fewer) are polylines: Qt strokes them, and
their second paint at the same scale renders them once into an image that the following drag
frames draw moved, as the envelope's is.
"""

from __future__ import annotations

import math

import numpy as np
from shiboken6 import wrapInstance as wrapinstance
from PySide6.QtCore import QLineF, QPoint, QRect, QRectF
from PySide6.QtGui import QImage, QPainter, QTransform

from sensorlab.app.live.traces import Trace
from sensorlab.plotting.raster import envelope_image, join_columns, premultiplied

#: Widest image kept (device pixels): a drawing's margin makes it about twice the view.
MAX_IMAGE_WIDTH = 8192


class EnvelopeLayer:
    """What the channel traces of one track share: their drawing's version and its image."""

    def __init__(self, viewbox):
        self.viewbox = viewbox  # the track's: its rows are the image's
        self.traces: list[EnvelopeTrace] = []
        self.version = 0  # changes with every new drawing (setData)
        self.cached = False  # this paint pass draws the kept image (set by the first trace)
        self.imaged = False  # ... draws an image, kept or just filled: the traces do not stroke
        self.renders = 0  # images rendered or filled (tests, benchmarks)
        self.blits = 0  # paints that drew an image (the envelope's, or a polyline's kept one) instead of stroking
        self._seen = None  # (version, scale key) of the last direct paint
        self._image: QImage | None = None
        self._image_key = None  # (version, scale key) the image was rendered for
        self._origin = (0, 0)  # device pixel of the image's top left when rendered
        self._dx = 0.0  # the transform's x translation when rendered
        self._buffer = None  # the pixels `_image` wraps (kept alive with it)
        # The envelope (`set_envelope`): column x, spans (columns, channels); None: polylines
        self.envelope: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def changed(self) -> None:
        self.version += 1
        self._image = None
        self._buffer = None

    def set_envelope(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, rect: QRectF) -> None:
        """Draw channel i's span ``lo[:, i]..hi[:, i]`` (data y) in the pixel column of ``x``
        (data x of the columns' centres; float64, kept, not copied), every channel's trace in
        its colour; ``rect`` bounds them all."""
        self.envelope = (x, lo, hi)
        for i, tr in enumerate(self.traces):
            tr.show_envelope(i, rect)

    def begin(self, p: QPainter) -> bool:
        """Called by the first trace of each paint pass: draw the image (True: the traces do
        not stroke) or let them stroke (False)."""
        t = p.transform()
        self.imaged = False
        if t.m12() or t.m21() or p.device().devicePixelRatio() != 1:
            self.cached = False  # (the traces stroke their spans: `EnvelopeTrace.stroke`)
            return False
        dx, dy = t.dx(), t.dy()
        key = (self.version, t.m11(), t.m22(), round(dx % 1.0, 3) % 1.0, dy)
        if self.envelope is not None and self.traces[0]._segments:
            # an envelope is always drawn as its image: filled on its first paint
            self.cached = self._image is not None and key == self._image_key
            if not self.cached:
                self._seen = key
                if not self._fill(t):
                    return False
            self._blit(p, dx)
            self.imaged = True
            return True
        if (self._image is not None and key == self._image_key) or (key == self._seen and self._render(p, t)):
            self._blit(p, dx)
        else:
            self._seen = key
            self.cached = False
            return False
        self.cached = self.imaged = True
        return True

    def _image_rect(self, t: QTransform, x0: float, x1: float) -> tuple[int, int, int, int] | None:
        """Device pixels ``(left, top, width, height)`` of an image of data x ``x0..x1`` and the
        view's rows; None when too wide (then the view's columns only, not kept for a drag)."""
        a, b = sorted((t.map(x0, 0.0)[0], t.map(x1, 0.0)[0]))
        # The view's rows (not the paint's clip: a partial repaint exposes only some of them).
        rows = t.mapRect(self.viewbox.viewRect())
        left, right = math.floor(a) - 2, math.ceil(b) + 2
        top, bottom = math.floor(rows.top()) - 1, math.ceil(rows.bottom()) + 1
        w, h = right - left, bottom - top
        if w <= 0 or h <= 0 or w > MAX_IMAGE_WIDTH:
            return None
        return left, top, w, h

    def _fill(self, t: QTransform) -> bool:
        """The envelope's image (every visible channel) at the painter's device pixels."""
        x, lo, hi = self.envelope
        if not len(x):
            return False
        r = self._image_rect(t, float(x[0]), float(x[-1]))
        keep = r is not None
        if not keep:  # a huge window: only the view's columns, filled again each paint
            v = t.mapRect(self.viewbox.viewRect())
            r = self._image_rect(t, *sorted(((v.left() - t.dx()) / t.m11(), (v.right() - t.dx()) / t.m11())))
            if r is None:
                return False
        left, top, w, h = r
        colours = np.array([premultiplied(tr.pen_rgba()) if tr.isVisible() else 0 for tr in self.traces], np.uint32)
        buf = np.zeros((h, w), np.uint32)
        envelope_image(buf, x, lo, hi, colours, t.m11(), t.dx() - left, t.m22(), t.dy() - top)
        self._buffer = buf
        self._image = QImage(buf.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
        self._image_key = self._seen if keep else None
        self._origin, self._dx = (left, top), t.dx()
        self.renders += 1
        return True

    def _render(self, p: QPainter, t: QTransform) -> bool:
        """The drawing's strokes in an image of the painter's device pixels; False when too large."""
        traces = [tr for tr in self.traces if tr.isVisible() and tr.drawn()]
        if not traces:
            return False
        r = self._image_rect(t, min(tr.x_extent()[0] for tr in traces), max(tr.x_extent()[1] for tr in traces))
        if r is None:
            return False
        left, top, w, h = r
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
    samples, `setData`) or its column of the layer's envelope (`EnvelopeLayer.set_envelope`).

    The first trace of the layer decides for the paint pass and its bounding rect covers every
    channel's, so whenever any channel is painted, it is painted first.
    """

    def __init__(self, pen, layer: EnvelopeLayer):
        super().__init__(pen)
        self.layer = layer
        self.first = not layer.traces
        layer.traces.append(self)
        self._channel = len(layer.traces) - 1  # its column of the layer's envelope
        self._segments = False  # the drawing is the layer's envelope, not the polyline

    def setData(self, *args, **kwargs) -> None:  # noqa: N802 - pyqtgraph API
        self._segments = False
        self.layer.envelope = None
        super().setData(*args, **kwargs)
        self._changed()

    def show_envelope(self, channel: int, rect: QRectF) -> None:
        """Draw column ``channel`` of the layer's envelope; ``rect`` bounds every channel's."""
        self._segments = True
        self._channel = channel
        self._x, self._y = self.layer.envelope[0], None
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

    def pen_rgba(self) -> tuple[int, int, int, int]:
        c = self._pen.color()
        return c.red(), c.green(), c.blue(), c.alpha()

    def _spans(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, lo, hi = self.layer.envelope
        return x, lo[:, self._channel], hi[:, self._channel]

    def getData(self):  # noqa: N802 - pyqtgraph API
        """``(x, y)``; for an envelope, each column's span as two points in a row: ``(x, lo), (x, hi)``."""
        if not self._segments:
            return super().getData()
        x, lo, hi = self._spans()
        return np.repeat(x, 2), np.stack((lo, hi), axis=1).reshape(-1)

    getOriginalDataset = getData

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):  # noqa: N802 - pyqtgraph API
        if not self._segments:
            return super().dataBounds(ax, frac, orthoRange)
        if not self.drawn():
            return None, None
        r = self._rect
        return (r.left(), r.right()) if ax == 0 else (r.top(), r.bottom())

    def drawn(self) -> bool:
        """Whether there is anything to draw."""
        return len(self.layer.envelope[0]) > 0 if self._segments else len(self._points) >= 2

    def x_extent(self) -> tuple[float, float]:
        """Data x of the first and last point or column."""
        if self._segments:
            x = self.layer.envelope[0]
            return float(x[0]), float(x[-1])
        return float(self._points[0, 0]), float(self._points[-1, 0])

    def stroke(self, p: QPainter) -> None:
        """Stroke the polyline, or the envelope's joined spans as 1-px lines (a painter the
        layer's image does not fit: rotated, or a high-DPI device)."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if not self._segments:
            Trace.stroke(self, p)  # not Trace.paint: that calls self.stroke, i.e. this (endless)
        elif self.drawn():
            x, lo, hi = self._spans()
            lo, hi = join_columns(np.floor(x * p.transform().m11() + p.transform().dx()), lo[:, None], hi[:, None])
            lines = np.ascontiguousarray(np.stack((x, lo[:, 0], x, hi[:, 0]), axis=1))
            p.setPen(self._pen)
            # QPainter's drawLines(const QLineF *, int): the rows are QLineFs in memory
            p.drawLines(wrapinstance(lines.ctypes.data, QLineF), len(lines))

    def paint(self, p: QPainter, *args) -> None:
        if self.first:
            if self.layer.begin(p):
                return
        elif self.layer.imaged:
            return
        self.stroke(p)


__all__ = ["EnvelopeLayer", "EnvelopeTrace"]
