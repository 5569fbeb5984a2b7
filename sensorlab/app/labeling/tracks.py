"""Tracks of the labeling timeline: one per recorded stream, drawn on the shared time axis
(signals and the spectrogram here; events in `events_track.py`).

Every track owns one `pg.PlotItem` whose x axis is session seconds (``x = t - origin``;
host-clock seconds are ~10⁵ and would lose sub-millisecond precision in Qt's float maths
otherwise). `Timeline` calls ``update_range(t0, t1, pixels)`` on every scroll/zoom frame
and ``settle(t0, t1, pixels)`` once the view has stopped moving (for costly work such as
the spectrogram).

Speed rules (docs/ARCHITECTURE.md, Conventions): signal tracks never draw raw samples of a
long range; they ask the `Pyramid` for a few min/max pairs per pixel, merge them to one pair
per device pixel column and draw it as one vertical 1-px line per column (one ``drawLines``
per channel, no antialiasing), cut to the parts the channels painted later do not cover.
"""

from __future__ import annotations


import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QThreadPool, Signal
from PySide6.QtGui import QImage, QTransform
from shiboken6 import isValid
from superqt.utils import create_worker

from sensorlab.app.labeling.envelope_layer import EnvelopeLayer, EnvelopeTrace
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
        self.plot = pg.PlotItem(viewBox=self.viewbox)
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
            ends = env.t[[j0 - e0, min(j1 - e0, len(env.t)) - 1]]
            c0, c1 = np.floor((ends - t0) * px_per_s + left + 1e-3)
            a, b = np.searchsorted(col, [c0, c1 + 0.5])
            col, lo, hi = col[a:b], lo[a:b], hi[a:b]
        self.points = 0
        if not len(col):
            for c in self.curves:
                c.set_segments(np.empty((0, 4)), QRectF())
            return
        lo, hi = join_columns(col, lo, hi)
        # Each column's stroke at the column's centre: Qt draws a 1-px vertical line in column
        # floor(x), so the centre keeps it there whatever the rounding.
        x = (col + 0.5 - left) / px_per_s + (t0 - self.origin)
        y_lo, y_hi = float(lo.min()), float(hi.max())
        pad = 0.02 * (y_hi - y_lo) + 1e-6  # room for the 1-px pen at the extremes
        rect = QRectF(float(x[0]), y_lo - pad, max(float(x[-1] - x[0]), 1e-9), y_hi - y_lo + 2 * pad)
        lines, counts = visible_segments(x, lo, hi)
        ends = np.cumsum(counts).tolist()
        for c, a, b in zip(self.curves, [0, *ends], ends):
            c.set_segments(lines[a:b], rect)
        self.points = 2 * len(lines)

    def _device_x(self, pixels: int = 0) -> tuple[float, float]:
        """Device x of the plot area's left edge and its width in device pixels (the pixel
        columns the strokes fall in); ``(0, pixels)`` before the view is shown."""
        vb = self.viewbox
        views = vb.scene().views() if vb.scene() is not None else []
        if not views:
            return 0.0, float(pixels or vb.width()) or 1.0
        tr = vb.deviceTransform(views[0].viewportTransform())
        return float(tr.map(QPointF(0.0, 0.0)).x()), float(vb.width() * tr.m11()) or 1.0


def column_envelope(t: np.ndarray, lo: np.ndarray, hi: np.ndarray, t0: float, px_per_s: float, left: float,
                    drop_first: bool = False, drop_last: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min/max of the blocks starting in each device pixel column: ``(columns, lo, hi)``.

    ``t``: block start times (increasing); ``lo``/``hi``: (blocks, channels). A column no block
    starts in (blocks 1–2 px apart) shows the block it lies in, unless a recording gap is
    there. ``drop_first``/``drop_last``: leave out the first/last column (it may hold only
    some of its blocks).
    """
    if not len(t):
        return np.empty(0), lo[:0], hi[:0]
    x = (t - t0) * px_per_s + left
    # Blocks often start right on a column's edge (8 ms blocks, 16 ms columns), where the
    # rounding of host times (~1e-5 px) picked either column, differently for a view panned
    # by whole pixels: a thousandth of a pixel decides for the right-hand one.
    col = np.floor(x + 1e-3)
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    c = col[starts]
    if len(starts) == len(col):  # a block per column at most: nothing to merge
        lo_c, hi_c = lo, hi
    else:
        lo_c = np.minimum.reduceat(lo, starts, axis=0)
        hi_c = np.maximum.reduceat(hi, starts, axis=0)
    a, b = (1 if drop_first else 0), len(c) - (1 if drop_last else 0)
    c, lo_c, hi_c = c[a:b], lo_c[a:b], hi_c[a:b]
    if len(c) < 2:
        return c, lo_c, hi_c
    step = np.diff(c)
    if step.max() <= 1.0:
        return c, lo_c, hi_c
    # Columns between two block starts: the block before covers them, if it reaches: blocks
    # are `spacing` px apart, so a longer step is a gap in the recording (nothing drawn).
    spacing = float(np.partition(np.diff(x), len(x) // 2 - 1)[len(x) // 2 - 1]) if len(x) > 2 else 1.0
    reach = np.minimum(step, np.where(step <= 4.0 * spacing, step, np.ceil(spacing))).astype(np.intp)
    reach = np.r_[reach, 1]
    idx = np.repeat(np.arange(len(c)), reach)
    first = np.repeat(np.cumsum(reach) - reach, reach)
    cols = c[idx] + (np.arange(len(idx)) - first)
    return cols, lo_c[idx], hi_c[idx]


def join_columns(col: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spans widened so that neighbouring columns meet: where a column's span lies wholly above
    or below the next one's, both reach the middle of the step between them (as a line
    through the samples would join them). Columns with a gap between them are not joined."""
    if len(col) < 2:
        return lo, hi
    l0, h0, l1, h1 = lo[:-1], hi[:-1], lo[1:], hi[1:]
    up = l1 > h0  # the next column is above this one
    down = h1 < l0  # ... below it
    if not (up.any() or down.any()):  # zoomed out, neighbouring spans overlap
        return lo, hi
    adj = (np.diff(col) == 1.0)[:, None]
    up &= adj
    down &= adj
    lo, hi = lo.copy(), hi.copy()
    m_up, m_down = 0.5 * (h0 + l1), 0.5 * (l0 + h1)
    new_h0 = np.where(up, m_up, h0)
    new_l1 = np.where(up, m_up, l1)
    new_l0 = np.where(down, m_down, l0)
    new_h1 = np.where(down, m_down, h1)
    hi[:-1] = np.maximum(hi[:-1], new_h0)
    lo[1:] = np.minimum(lo[1:], new_l1)
    lo[:-1] = np.minimum(lo[:-1], new_l0)
    hi[1:] = np.maximum(hi[1:], new_h1)
    return lo, hi


def visible_segments(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The parts of each channel's column spans that the channels drawn after it (on top) do
    not cover, as ``(lines, counts)``: rows ``(x, y0, x, y1)`` of every channel in order,
    ``counts[i]`` of them channel i's.

    Channels are painted in order, each over the ones before; where later channels cover an
    earlier one's span (a zoomed-out IMU: six noisy channels in one band) stroking it sets
    pixels that are painted over. In each column, the spans of the channels after channel i
    are known to cover their hull when their union is one interval (each overlaps the hull of
    the ones after it), else the top channel's span at least; channel i's span is cut to its
    parts outside that: none, one, or one above and one below. The picture is unchanged: a
    cut part ends on the covering span's own end value, so on the same pixel row.
    """
    lo, hi = lo.T.astype(np.float64), hi.T.astype(np.float64)  # (channels, columns), rows contiguous
    channels, n = lo.shape
    # Per channel i, the hull of the spans of channels i + 1 … last, and whether their union
    # is that hull (one interval); row by row (NumPy's accumulate along a short axis is slow).
    after_lo = np.empty_like(lo)
    after_hi = np.empty_like(hi)
    after_lo[-1], after_hi[-1] = np.inf, -np.inf  # nothing is drawn over the last channel
    joined = np.ones(n, dtype=bool)
    for i in range(channels - 2, -1, -1):
        top_lo, top_hi = lo[i + 1], hi[i + 1]
        if i == channels - 2:
            after_lo[i], after_hi[i] = top_lo, top_hi
            continue
        # the union after i is one interval if channel i + 1 meets the (single) union after it
        joined &= (top_lo <= after_hi[i + 1]) & (top_hi >= after_lo[i + 1])
        h_lo, h_hi = np.minimum(top_lo, after_lo[i + 1]), np.maximum(top_hi, after_hi[i + 1])
        # else: the last channel's span, which is certainly drawn over channel i
        after_lo[i] = np.where(joined, h_lo, lo[-1])
        after_hi[i] = np.where(joined, h_hi, hi[-1])
    apart = (hi < after_lo) | (lo > after_hi)
    first = apart | (lo < after_lo)  # the span, or its part below the cover
    second = ~apart & (hi > after_hi)  # its part above the cover
    y0 = np.concatenate([lo, after_hi], axis=1)  # (channels, 2 columns)
    y1 = np.concatenate([np.where(apart, hi, after_lo), hi], axis=1)
    keep = np.flatnonzero(np.concatenate([first, second], axis=1))
    lines = np.empty((len(keep), 4))
    lines[:, 0] = lines[:, 2] = np.take(np.concatenate([x, x]), keep % (2 * n))
    lines[:, 1] = y0.take(keep)
    lines[:, 3] = y1.take(keep)
    return lines, np.bincount(keep // (2 * n), minlength=channels)


def gap_breaks(t: np.ndarray) -> np.ndarray:
    """Indices ``i`` where ``t[i] - t[i - 1]`` is a gap in the recording, not the usual step.

    A step over 4× the median one: the blocks of a pyramid level (or the raw samples) follow
    each other at a steady pace, so only a stretch with nothing recorded is that far apart.
    """
    if len(t) < 3:
        return np.empty(0, dtype=np.intp)
    dt = np.diff(t)
    # The middle step by partition: np.median's first call imports numpy.ma (~70 ms of
    # opening the view), and the upper median serves as well here.
    mid = float(np.partition(dt, len(dt) // 2)[len(dt) // 2])
    return np.flatnonzero(dt > 4.0 * mid) + 1


class OpaqueImageItem(pg.ImageItem):
    """An `ImageItem` whose picture is handed to Qt as opaque 32-bit RGB.

    pyqtgraph renders a colour-mapped image as an indexed (8-bit palette) `QImage`; drawn
    scaled onto the view, Qt's raster engine converts and blends it row by row on its thread
    pool and waits for it: ~1.7 ms of wall time a scroll frame for a spectrogram, against
    nothing measurable for the same pixels as RGB32 (docs/PERFORMANCE.md, slow machine).
    """

    def render(self, *args, **kwargs):
        super().render(*args, **kwargs)
        if self.qimage is not None and self.qimage.format() != QImage.Format.Format_RGB32:
            self.qimage = self.qimage.convertToFormat(QImage.Format.Format_RGB32)


class SpectrogramTrack(Track):
    """Spectrogram of the visible range of one audio channel, computed when the view settles.

    At most ``pixels / 2`` columns. Short ranges (up to 16 windows per column) are read whole
    and each column shows the loudest of its windows, so short transients are never skipped;
    for long ranges each column is one FFT window read at its position (a strided read), so
    an hour costs the same as a second.
    """

    NFFT = 512
    DB_RANGE = (-80.0, -5.0)
    #: Frequencies shown (Hz): the speech/event band; the image holds up to Nyquist.
    MAX_SHOWN_HZ = 8000.0
    #: Ranges of up to this many FFT windows per column are read whole (every transient
    #: shows); longer ones read one window per column (an hour costs what a minute does).
    #: 16 × 450 columns × 512 samples: 2.5 minutes at 48 kHz on a 1400 px wide window.
    WHOLE_READ_WINDOWS = 16
    #: FFT windows transformed at once (bounds the memory of a long contiguous range).
    FFT_BLOCK = 4096

    def __init__(self, stream: StreamReader, origin: float, channel: int = 0):
        super().__init__(f"{stream.name} spectrum", origin)
        self.stream = stream
        self.channel = channel
        self.rate = float(stream.info.nominal_rate or 48000.0)
        self.image = OpaqueImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("inferno"))
        self.plot.addItem(self.image)
        self.plot.setYRange(0, min(self.rate / 2, self.MAX_SHOWN_HZ), padding=0)
        self.plot.setLabel("left", f"{stream.name}<br><span style='font-size:8pt;color:#9aa0a6'>spectrum, Hz</span>")
        self.window = np.hanning(self.NFFT).astype(np.float32)
        self.columns = 0
        self._generation = 0  # of the latest request: older results are stale
        self._workers: set = set()

    def _with_samples(self, t0: float, t1: float, pixels: int) -> tuple[float, float, int]:
        """The part of ``t0 … t1`` the stream has samples in, and its share of the pixels. The
        image is placed over the samples it was computed from: zoomed out at a session's edge,
        columns of the samples alone stretched over the whole view, the claps beside the mic's."""
        a, b = max(t0, self.stream.first_time), min(t1, self.stream.last_time)
        return a, b, max(1, int(pixels * (b - a) / (t1 - t0))) if b > a and t1 > t0 else 1

    def settle(self, t0: float, t1: float, pixels: int) -> None:
        """Compute and show the spectrogram of ``t0 … t1`` now (blocks for its reads)."""
        self._generation += 1
        t0, t1, pixels = self._with_samples(t0, t1, pixels)
        self._show(self.compute(t0, t1, pixels), t0, t1)

    def settle_later(self, t0: float, t1: float, pixels: int) -> None:
        """`settle` on a worker thread: a zoomed-out hour takes ~450 reads and FFTs (0.4–0.9 s),
        which froze the window each time the view came to rest. A result the view has moved
        on from (a newer request, or `cancel`) is dropped."""
        self._generation += 1
        gen = self._generation
        t0, t1, pixels = self._with_samples(t0, t1, pixels)
        worker = create_worker(self.compute, t0, t1, pixels, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda res: gen == self._generation and isValid(self.image) and self._show(res, t0, t1))
        worker.finished.connect(lambda: self._workers.discard(worker))
        self._workers.add(worker)  # kept alive until it ends
        worker.start()

    def cancel(self) -> None:
        """Drop the results of computations still running (the session is about to close)."""
        self._generation += 1

    def wait(self, msecs: int = 10_000) -> bool:
        """Block until no computation is running (before closing the file they read)."""
        pool = QThreadPool.globalInstance()
        return not self._workers or pool.waitForDone(msecs)

    def _show(self, result, t0: float, t1: float) -> None:
        if result is None:
            self.image.clear()
            self.columns = 0
            return
        db, cols = result
        self.image.setImage(db.T, autoLevels=False, levels=self.DB_RANGE)
        self.image.setRect(QRectF(t0 - self.origin, 0.0, max(t1 - t0, 1e-6), self.rate / 2))
        self.columns = cols

    def compute(self, t0: float, t1: float, pixels: int) -> tuple[np.ndarray, int] | None:
        """``(dB image (columns × bins), columns)`` of ``t0 … t1``, or None when too short. No Qt."""
        s = self.stream
        i0, i1 = s.index_of(t0), s.index_of(t1)
        n = i1 - i0
        cols = int(min(max(1, pixels // 2), max(1, n // self.NFFT)))
        if n < self.NFFT:
            return None
        if n <= self.WHOLE_READ_WINDOWS * cols * self.NFFT:
            # Up to a few minutes: one contiguous read, FFT windows every half window, and each
            # column the loudest of its windows. One window per column would skip what falls
            # between them: a 20 ms clap vanished from most columns of a 30 s view at 48 kHz.
            x = np.asarray(s.read_index(i0, i1).data).reshape(n, -1)[:, self.channel]
            hop = self.NFFT // 2
            frames = np.lib.stride_tricks.sliding_window_view(x, self.NFFT)[::hop]
            of_col = np.arange(len(frames)) * cols // len(frames)
        else:
            starts = i0 + (np.arange(cols) * ((n - self.NFFT) / max(1, cols - 1))).astype(np.int64) if cols > 1 else np.array([i0])
            frames = np.stack([np.asarray(s.read_index(a, a + self.NFFT).data).reshape(-1, np.prod(s.info.sample_shape or (1,)))[:, self.channel] for a in starts])
            of_col = np.arange(cols)
        # In blocks of frames: the FFT of all of a few minutes' windows at once held ~100 MB.
        mag = np.zeros((cols, self.NFFT // 2 + 1))
        for b in range(0, len(frames), self.FFT_BLOCK):
            f, oc = frames[b : b + self.FFT_BLOCK], of_col[b : b + self.FFT_BLOCK]
            f = f / 32768.0 if f.dtype.kind in "iu" else f.astype(np.float32)
            m = np.abs(np.fft.rfft(f * self.window, axis=1)) * (2.0 / self.window.sum())
            at, first = np.unique(oc, return_index=True)
            mag[at] = np.maximum(mag[at], np.maximum.reduceat(m, first, axis=0))
        return 20.0 * np.log10(mag + 1e-9), cols


__all__ = ["OpaqueImageItem", "SignalTrack", "SpectrogramTrack", "TimeViewBox", "Track"]
