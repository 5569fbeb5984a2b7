"""Tracks of the labeling timeline: one per recorded stream, drawn on the shared time axis
(the base `Track` and `SignalTrack` here; the spectrogram in `spectrogram_track.py`, events in
`events_track.py`).

Every track owns one `pg.PlotItem` whose x axis is session seconds (``x = t - origin``;
host-clock seconds are ~10⁵ and would lose sub-millisecond precision in Qt's float maths
otherwise). `Timeline` calls ``update_range(t0, t1, pixels)`` on every scroll/zoom frame
and ``settle(t0, t1, pixels)`` once the view has stopped moving (for costly work such as
the spectrogram).

Speed rules (docs/ARCHITECTURE.md, Conventions): signal tracks never draw raw samples of a
long range; they ask the `Pyramid` for a few min/max pairs per pixel, merge them to one pair
per device pixel column (`envelope_columns.py`), and every channel's columns are filled into
one image per track, joined to their neighbours, without Qt's strokes (`envelope_layer.py`,
sensorlab/plotting/raster.py).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QTransform

from sensorlab.app.labeling.envelope_columns import column_envelope, gap_breaks
from sensorlab.app.labeling.envelope_layer import EnvelopeLayer, EnvelopeTrace
from sensorlab.app.live.plot_items import BoundsKeptAxis
from sensorlab.session.pyramid import Pyramid
from sensorlab.session.reader import StreamReader

#: Channel colours (same palette family as the live view, readable on the dark theme).
PALETTE = ("#4e9bf5", "#f5a623", "#5ac85a", "#ef5350", "#b388ff", "#26c6da", "#f06292", "#bdbdbd")
AXIS_WIDTH = 78


class TimeViewBox(pg.ViewBox):
    """A ViewBox that pans/zooms in x only and reports left clicks as session times.

    Signals
    -------
    clicked(x)
        Left click at plot x (session seconds since origin); the timeline moves the cursor.
    """

    clicked = Signal(float)

    def __init__(self, **kwargs):
        super().__init__(enableMenu=False, **kwargs)
        self.setMouseEnabled(x=True, y=False)
        # Qt called two Python `itemChange`s for every range change of every row (the view's
        # child group is moved each frame), and nothing here uses them.
        self.childGroup.setFlag(self.childGroup.GraphicsItemFlag.ItemSendsGeometryChanges, False)

    def updateMatrix(self, changed=None):  # noqa: N802 - pyqtgraph override
        """pyqtgraph's `ViewBox.updateMatrix` with plain floats: the same transform, without
        the `Point` and `QRectF` objects it made for each row every frame."""
        st = self.state
        if not self._matrixNeedsUpdate or st["xInverted"] or st["yInverted"]:
            return super().updateMatrix(changed)
        (x0, x1), (y0, y1) = st["viewRange"]
        vw, vh = x1 - x0, y1 - y0
        if vw == 0 or vh == 0:
            return None
        w, h = self.width(), self.height()
        sx, sy = w / vw, -(h / vh)
        # translate to the centre, scale, translate the view's centre to 0, as pyqtgraph does
        dx, dy = w / 2 + (-(x0 + vw / 2)) * sx, h / 2 + (-(y0 + vh / 2)) * sy
        self.childGroup.setTransform(QTransform(sx, 0.0, 0.0, sy, dx, dy))
        self._matrixNeedsUpdate = False
        self.sigTransformChanged.emit(self)
        return None

    def mouseClickEvent(self, ev):  # noqa: N802 - Qt/pyqtgraph override
        if ev.button() == pg.QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(float(self.mapSceneToView(ev.scenePos()).x()))
        else:
            ev.ignore()


class Track:
    """Base: a named plot on the timeline. Subclasses draw in `update_range` / `settle`."""

    #: Relative height (stretch) of the track's row, or a fixed pixel height if negative.
    stretch = 2

    def __init__(self, name: str, origin: float):
        self.name = name
        self.origin = origin
        self.viewbox = TimeViewBox()
        # Bounds kept (`BoundsKeptAxis`): Qt's scene walk asks for them several times a frame.
        self.plot = pg.PlotItem(viewBox=self.viewbox, axisItems={"left": BoundsKeptAxis("left")})
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=False, alpha=0.12)
        left = self.plot.getAxis("left")
        left.setWidth(AXIS_WIDTH)
        # Tracks are stacked without spacing: a tick label at a plot's top or bottom edge
        # would be drawn over the neighbour's (e.g. "-1.5" over "1.0"), so labels that do
        # not fit inside their own axis are hidden.
        left.setStyle(tickLength=-4, hideOverlappingLabels=True)
        self.plot.showAxis("bottom", False)

    def update_range(self, t0: float, t1: float, pixels: int) -> None:
        """Redraw for the visible host-time range ``[t0, t1]`` (GUI thread, every frame)."""

    def settle(self, t0: float, t1: float, pixels: int) -> None:
        """The view stopped moving: do costly work for the visible range (GUI thread)."""


class SignalTrack(Track):
    """Every channel of an audio or time-series stream, as a min/max envelope from the pyramid."""

    #: Fraction of the value range added above and below.
    Y_MARGIN = 0.06
    #: Pyramid blocks read per pixel at most (merged to about one per pixel before drawing).
    OVERSAMPLE = 4
    #: While scrolling, this fraction of the visible span is drawn beyond each edge.
    PAN_MARGIN = 0.5
    #: Blocks read beyond each end of a drawing, whose first and last pixel columns (perhaps
    #: holding only some of their blocks) are left out: more than a column's worth.
    EDGE_BLOCKS = OVERSAMPLE + 2

    def __init__(self, stream: StreamReader, pyramid: Pyramid, origin: float, y_range: tuple[float, float] | None = None):
        super().__init__(stream.name, origin)
        self.stream = stream
        self.pyramid = pyramid
        info = stream.info
        n_ch = max(1, int(np.prod(info.sample_shape)) if info.sample_shape else 1)
        self.curves = []
        # Kept as pixels while the view is dragged (envelope_layer.py).
        self.layer = EnvelopeLayer(self.viewbox)
        for i in range(n_ch):
            # One polyline per channel (live_traces.Trace): a PlotCurveItem built and stroked a
            # QPainterPath and recomputed its bounds every frame, most of a scroll frame.
            c = EnvelopeTrace(pg.mkPen(PALETTE[i % len(PALETTE)], width=1), self.layer)
            self.plot.addItem(c)
            self.curves.append(c)
        # Name and rate only: the label is drawn along the axis, and "timeseries · 1000 Hz" was
        # longer than a track of the demo recording (it ran into the next track's label).
        rate = f"{info.nominal_rate:g} Hz" if info.nominal_rate else "irregular"
        self.plot.setLabel("left", f"{stream.name}<br><span style='font-size:8pt;color:#9aa0a6'>{rate}</span>")
        self.level = -1  # pyramid level drawn last (0 = raw samples)
        self.group = 1  # blocks of that level merged into each drawn min/max pair
        self.points = 0  # vertices handed to Qt last frame (all channels)
        self._drawn = None  # (key, first block, end block, span, t0) of what the polylines hold
        if y_range is None:
            env = pyramid.query(stream.name, None, -np.inf, np.inf, 512)
            lo, hi = float(np.min(env.min)), float(np.max(env.max))
            y_range = (lo, hi if hi > lo else lo + 1.0)
        # A margin above and below so the extreme ticks (e.g. ±1.0 of audio) keep their labels.
        pad = self.Y_MARGIN * (y_range[1] - y_range[0])
        self.plot.setYRange(y_range[0] - pad, y_range[1] + pad, padding=0)

    def update_range(self, t0: float, t1: float, pixels: int) -> None:
        # Ask for up to OVERSAMPLE blocks per pixel, then merge groups of blocks down to about
        # one per pixel. Levels are 8× apart, so the level with at most one block per pixel
        # can have as few as one per 8 pixels: a smooth ramp then looks like a staircase of
        # 8-px steps, plateaus the data does not have.
        k, j0, j1 = self.pyramid.locate(self.name, t0, t1, pixels * self.OVERSAMPLE)
        self.level = k
        raw = k == 0 and j1 - j0 <= pixels  # at most one raw sample per pixel: a plain polyline
        g = 1 if raw else max(1, -(-(j1 - j0) // max(1, pixels)))
        span = t1 - t0
        left, width = self._device_x(pixels)
        px_per_s = width / max(span, 1e-12)
        # The polylines are in data coordinates: while the view pans at the same scale over
        # blocks they already hold, the view's transform moves them and nothing is read,
        # merged or handed to Qt again (most of a drag-scroll frame's range update). The
        # strokes' directions depend on the pixel columns the groups fall in, so a pan keeps
        # them only if it moves the view by whole pixels, as a mouse drag does.
        d = self._drawn
        same = d is not None and d[0] == (k, g, raw, pixels, left, width) and abs(d[3] - span) <= 1e-9 * span
        if same and not raw:
            shift = (t0 - d[4]) * px_per_s
            same = abs(shift - round(shift)) < 1e-3
        if same and d[1] <= j0 and j1 <= d[2]:
            return
        # Whole groups aligned to block indices: a pixel's envelope does not depend on where the
        # range starts or ends, so nothing shimmers while panning.
        j0 -= j0 % g
        j1 = j0 + -(-(j1 - j0) // g) * g
        if same and d[1] < j1 and j0 < d[2]:
            # A pan that overlaps the last drawing: the user is scrolling, so draw a margin on
            # both sides, and the frames that follow reuse it. A jump or a zoom draws the
            # visible range only (no extra vertices to clip).
            m = -(-int((j1 - j0) * self.PAN_MARGIN) // g) * g
            j0, j1 = max(0, j0 - m), j1 + m
        self._drawn = ((k, g, raw, pixels, left, width), j0, j1, span, t0)
        self.group = g
        if raw:
            env = self.pyramid.blocks(self.name, k, j0, j1)
            x = env.t - self.origin
            breaks = gap_breaks(env.t)
            for i, c in enumerate(self.curves):
                c.setData(x, env.min[:, i], breaks=breaks, skipFiniteCheck=True)
            self.points = len(env.t) * len(self.curves)
            return
        # A few blocks more on each side: the first and last pixel columns of the drawing may
        # hold only some of their blocks, and are left out.
        e0, e1 = max(0, j0 - self.EDGE_BLOCKS), j1 + self.EDGE_BLOCKS
        env = self.pyramid.blocks(self.name, k, e0, e1)
        col, lo, hi = column_envelope(env.t, env.min, env.max, t0, px_per_s, left, drop_first=e0 > 0, drop_last=len(env.t) == e1 - e0)
        if len(col) and len(env.t) > j0 - e0:
            # only the columns of the blocks asked for (the extra ones complete the edge columns)
            # (in Python floats, the same arithmetic as column_envelope's: NumPy on two values
            # cost five calls)
            tt = env.t
            c0 = math.floor((float(tt[j0 - e0]) - t0) * px_per_s + left + 1e-3)
            c1 = math.floor((float(tt[min(j1 - e0, len(tt)) - 1]) - t0) * px_per_s + left + 1e-3)
            a, b = col.searchsorted((c0, c1 + 0.5)).tolist()
            if a > 0 or b < len(col):
                col, lo, hi = col[a:b], lo[a:b], hi[a:b]
        self.points = 0
        if not len(col):
            self.layer.set_envelope(np.empty(0), np.empty((0, len(self.curves))), np.empty((0, len(self.curves))), QRectF())
            return
        # Each column at its centre: the image fills column floor(x) of the device pixels, so
        # the centre keeps it there whatever the rounding. (The neighbouring columns' spans are
        # joined as the image is filled: `join_columns` in sensorlab/plotting/raster.py.)
        x = (col + 0.5 - left) / px_per_s + (t0 - self.origin)
        lo, hi = np.ascontiguousarray(lo, dtype=np.float64), np.ascontiguousarray(hi, dtype=np.float64)
        y_lo, y_hi = float(lo.min()), float(hi.max())
        pad = 0.02 * (y_hi - y_lo) + 1e-6  # room for the 1-px pen at the extremes
        rect = QRectF(float(x[0]), y_lo - pad, max(float(x[-1] - x[0]), 1e-9), y_hi - y_lo + 2 * pad)
        self.layer.set_envelope(x, lo, hi, rect)
        self.points = 2 * lo.size

    def _device_x(self, pixels: int = 0) -> tuple[float, float]:
        """Device x of the plot area's left edge and its width in device pixels (the pixel
        columns the strokes fall in); ``(0, pixels)`` before the view is shown."""
        vb = self.viewbox
        views = vb.scene().views() if vb.scene() is not None else []
        if not views:
            return 0.0, float(pixels or vb.width()) or 1.0
        tr = vb.deviceTransform(views[0].viewportTransform())
        return float(tr.map(QPointF(0.0, 0.0)).x()), float(vb.width() * tr.m11()) or 1.0


__all__ = ["AXIS_WIDTH", "PALETTE", "SignalTrack", "TimeViewBox", "Track"]
