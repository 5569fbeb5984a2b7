"""One live panel per stream kind: time series, audio (waveform + spectrogram), video, frames, events.

Every panel is built once for one `StreamInfo` and one bounded `ChunkRing`, and `refresh()` is
called by `LiveView`'s single timer: it pulls what arrived since the last call, appends it to a
fixed-size display buffer and calls ``setData`` / ``setImage`` once per item. Panels never
receive chunks from device threads directly.

Time plots share one x axis: host-clock seconds minus the view's origin (``x = t - origin``), so
all of them can be linked and zoomed together. Speed settings (docs/ARCHITECTURE.md, Conventions):
1-px pens, no antialiasing, a fixed peak-downsampling factor, clip-to-view, skipFiniteCheck.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QGraphicsItem, QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import StreamInfo, StreamKind
from sensorlab.app.live_traces import ColumnImage, Marker, MarkerLayer, Trace

#: Distinct colours for channels (Tableau-like, readable on a dark background).
PALETTE = (
    "#4e9bf5", "#f5a623", "#5ac85a", "#ef5350", "#b388ff", "#8d6e63", "#f06292", "#bdbdbd",
    "#d4e157", "#26c6da", "#90caf9", "#ffcc80", "#a5d6a7", "#ef9a9a", "#ce93d8", "#80cbc4",
)
#: Min/max pairs per curve in a window (about one per pixel column of a typical plot; more
#: only costs paint time).
TARGET_BINS = 700


class RollingBuffer:
    """The newest ``capacity`` rows of ``(t, values)``, readable as contiguous views.

    Values are stored channel-major (``v[channel, row]``) so each channel handed to a curve
    is contiguous. Backed by arrays of twice the capacity so appending rarely allocates and
    reading never copies; when the write position reaches the end, the newest ``capacity``
    rows are copied to the front of *new* arrays (one copy every ``capacity`` rows).

    A view handed out is never written again: pyqtgraph keeps the arrays given to
    ``setData``/``setImage`` and may draw them later (a hidden curve is not updated every
    frame, then shown again), so compacting in place made such a curve draw other samples.
    """

    def __init__(self, capacity: int, width: int, dtype=np.float32):
        self.capacity = max(1, int(capacity))
        self.t = np.zeros(2 * self.capacity, dtype=np.float64)
        self.v = np.zeros((width, 2 * self.capacity), dtype=dtype)
        self._end = 0
        self.total = 0  # rows ever appended: the absolute index of a row is stable

    def append(self, t: np.ndarray, values: np.ndarray) -> None:
        """Append ``n`` timestamps and ``(n, width)`` values."""
        n = len(t)
        self.total += n
        if n >= self.capacity:
            t, values, n = t[-self.capacity :], values[-self.capacity :], self.capacity
        if self._end + n > 2 * self.capacity:
            keep = self.capacity - n
            t_new, v_new = np.empty_like(self.t), np.empty_like(self.v)
            t_new[:keep] = self.t[self._end - keep : self._end]
            v_new[:, :keep] = self.v[:, self._end - keep : self._end]
            self.t, self.v, self._end = t_new, v_new, keep
        self.t[self._end : self._end + n] = t
        self.v[:, self._end : self._end + n] = values.reshape(n, -1).T
        self._end += n

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        """``(t, v)``: ``t`` of shape ``(n,)`` and ``v`` of shape ``(width, n)``."""
        start, stop = self.span()
        return self.t[start:stop], self.v[:, start:stop]

    def span(self) -> tuple[int, int]:
        """Columns ``start:stop`` of the backing arrays ``t`` / ``v`` that `view` returns."""
        return max(0, self._end - self.capacity), self._end

    def __len__(self) -> int:
        return min(self._end, self.capacity)


class PeakEnvelope:
    """Incremental min/max decimation of a multi-channel stream into a `RollingBuffer`.

    Every ``block`` samples become two rows (the block's minimum at its first timestamp and
    its maximum at its last), so a 10 s window of 1 kHz data is drawn with ~1 400 points per
    channel and each frame only decimates the samples that arrived since the last one. With
    ``block == 1`` samples pass through unchanged.
    """

    def __init__(self, block: int, window_samples: int, width: int):
        self.block = max(1, int(block))
        rows = window_samples if self.block == 1 else 2 * (window_samples // self.block + 1)
        self.buffer = RollingBuffer(rows, width)
        self._pending_t = np.zeros(0, dtype=np.float64)
        self._pending_v = np.zeros((0, width), dtype=np.float32)

    def add(self, t: np.ndarray, values: np.ndarray) -> None:
        if self.block == 1:
            self.buffer.append(t, values)
            return
        if len(self._pending_t):
            t = np.concatenate([self._pending_t, t])
            values = np.concatenate([self._pending_v, values])
        n = len(t) // self.block
        if n:
            m = n * self.block
            blocks = values[:m].reshape(n, self.block, -1)
            tb = t[:m].reshape(n, self.block)
            rows = np.empty((2 * n, blocks.shape[2]), dtype=np.float32)
            rows[0::2] = blocks.min(axis=1)
            rows[1::2] = blocks.max(axis=1)
            times = np.empty(2 * n)
            times[0::2] = tb[:, 0]
            times[1::2] = tb[:, -1]
            self.buffer.append(times, rows)
        self._pending_t = t[n * self.block :]
        self._pending_v = values[n * self.block :]


def coarsen(t: np.ndarray, v: np.ndarray, group: int, first: int) -> tuple[np.ndarray, np.ndarray]:
    """Envelope rows ``(t, v[channel, row])`` merged ``group`` at a time into one min/max pair.

    A group's minimum is drawn at its first time and its maximum at its last, so the coarse
    curve still spans every value the fine one drew. Groups are aligned to the absolute row
    index (``first`` is that of row 0), so a curve does not shimmer as new rows arrive.

    Examples
    --------
    >>> t, v = coarsen(np.arange(8.0), np.array([[0, 5, 1, 2, 9, 3, 4, 4.0]]), 4, first=0)
    >>> t.tolist(), v.tolist()
    ([0.0, 3.0, 4.0, 7.0], [[0.0, 5.0, 3.0, 9.0]])
    """
    skip = (-first) % group
    t, v = t[skip:], v[:, skip:]
    n = len(t)
    full = n // group
    m = full * group
    lo = [v[:, :m].reshape(len(v), full, group).min(axis=2)]
    hi = [v[:, :m].reshape(len(v), full, group).max(axis=2)]
    t_lo, t_hi = [t[:m:group]], [t[group - 1 : m : group]]
    if n > m:  # the newest, incomplete group
        lo.append(v[:, m:].min(axis=1, keepdims=True))
        hi.append(v[:, m:].max(axis=1, keepdims=True))
        t_lo.append(t[m : m + 1])
        t_hi.append(t[n - 1 :])
    k = full + (n > m)
    out_t = np.empty(2 * k)
    out_t[0::2], out_t[1::2] = np.concatenate(t_lo), np.concatenate(t_hi)
    out_v = np.empty((len(v), 2 * k), dtype=v.dtype)
    out_v[:, 0::2], out_v[:, 1::2] = np.concatenate(lo, axis=1), np.concatenate(hi, axis=1)
    return out_t, out_v


class Panel(QWidget):
    """Base class: a titled widget fed from one ring. Subclasses implement `_pull`."""

    #: True for panels drawn against the shared time axis (their ``plot`` is x-linked).
    time_axis = False

    def __init__(self, info: StreamInfo, ring: ChunkRing, origin: float, window: float, parent=None):
        super().__init__(parent)
        self.info = info
        self.ring = ring
        self.origin = origin
        self.history = window
        self.newest = float("-inf")  # host time of the newest sample handed to Qt
        self.plot: pg.PlotItem | None = None
        self._marker_layer: MarkerLayer | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(2, 2, 2, 2)
        self._layout.setSpacing(1)
        self._header = QHBoxLayout()
        rate = f"{info.nominal_rate:g} Hz" if info.regular else "irregular"
        self.title = QLabel(f"<b>{info.name}</b> &nbsp;<span style='color:#9aa0a6'>{info.kind.value} · {rate}</span>")
        self._header.addWidget(self.title)
        self._header.addStretch(1)
        self._layout.addLayout(self._header)

    #: Level of detail (0 = full); `LiveView` raises it when the machine cannot keep up.
    detail = 0

    def refresh(self) -> bool:
        """Pull new data and update the items (GUI thread). Returns True when something changed."""
        return self._pull()

    def set_detail(self, level: int) -> None:
        """Draw with less detail (``level`` 1, 2: coarser envelopes, a smaller spectrogram) or
        full detail again (0). Takes effect with the next data."""
        self.detail = level

    def _envelope_view(self, buffer: RollingBuffer) -> tuple[np.ndarray, np.ndarray]:
        """What a curve draws from its envelope buffer: all rows, or at reduced detail the
        rows merged 2**detail at a time (half or a quarter of the points to copy and paint)."""
        t, v = buffer.view()
        if self.detail:
            t, v = coarsen(t, v, 2 << self.detail, first=buffer.total - len(t))
        return t, v

    def _pull(self) -> bool:
        raise NotImplementedError

    @property
    def markers(self) -> list[Marker]:
        """Marker lines drawn on this panel, oldest first."""
        return list(self._marker_layer.markers) if self._marker_layer is not None else []

    def add_marker(self, t: float, text: str, color: str = "#ffd54f") -> None:
        """Draw a vertical line at host time ``t`` (time-axis panels only); its text goes
        where it does not overprint the others (`MarkerLayer.text_rects`)."""
        if self.plot is None:
            return
        if self._marker_layer is None:
            # One item draws every marker of the plot: an InfiniteLine per marker recomputed
            # its geometry on every frame of the scrolling axis (docs/PERFORMANCE.md).
            self._marker_layer = MarkerLayer(self.plot.getViewBox())
        self._marker_layer.add(Marker(t - self.origin, text, color))

    def prune_markers(self, x_min: float) -> None:
        if self._marker_layer is not None:
            self._marker_layer.prune(x_min)

    def _new_plot(self, widget: pg.GraphicsLayoutWidget, row: int = 0) -> pg.PlotItem:
        plot = widget.addPlot(row=row, col=0)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        left = plot.getAxis("left")
        left.setWidth(48)
        # The y axis rarely changes but is repainted with every frame of the curves: cache it.
        left.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # The time axis moves every frame: with an automatic SI prefix each move re-rendered
        # its label as HTML, on every linked plot, shown or not. Its unit is always seconds.
        for side in ("bottom", "top"):
            plot.getAxis(side).enableAutoSIPrefix(False)
        return plot

    def show_time_axis(self, show: bool) -> None:
        """Show or hide the x-axis ticks (the view shows them under the lowest plot only:
        redrawing a scrolling axis is the most expensive part of a frame)."""
        for plot in self._time_plots():
            plot.showAxis("bottom", show)
            if show:
                plot.setLabel("bottom", "host clock, s since sensorlab started")
                # Major and minor ticks only: the finest level's ticks and labels were a third
                # of the cost of this axis, which is redrawn every frame.
                plot.getAxis("bottom").setStyle(maxTickLevel=1, maxTextLevel=1)

    def _time_plots(self) -> list[pg.PlotItem]:
        return [self.plot] if self.plot is not None else []


#: A legend is shown when the plot is at least this many times its height.
LEGEND_ROOM = 3.0


class TimeseriesPanel(Panel):
    """Multi-channel time series: per-channel show/hide, autoscale or fixed y range."""

    time_axis = True
    autoscale_changed = Signal(bool)

    def __init__(self, info, ring, origin, window, parent=None):
        super().__init__(info, ring, origin, window, parent)
        n_ch = max(1, info.channel_count)
        rate = info.nominal_rate if info.regular else 100.0
        self.envelope = PeakEnvelope(int(rate * window / TARGET_BINS), int(rate * window * 1.05) + 16, n_ch)
        self.buffer = self.envelope.buffer
        self.graphics = pg.GraphicsLayoutWidget()
        self.plot = self._new_plot(self.graphics)
        names = list(info.channel_names) or [f"ch{i}" for i in range(n_ch)]
        units = list(info.units)
        # A legend names the channels by colour (several rows for many channels, e.g. EEG).
        self.legend = self.plot.addLegend(offset=(-4, 2), colCount=min(n_ch, 8), labelTextSize="8pt",
                                          brush=pg.mkBrush(20, 22, 26, 170), verSpacing=-6, horSpacing=8)  # fmt: skip
        self.curves: list[Trace] = []
        for i in range(n_ch):
            # Decimated by PeakEnvelope and drawn as one polyline (live_traces.Trace).
            curve = Trace(pg.mkPen(PALETTE[i % len(PALETTE)], width=1), name=names[i] if i < len(names) else f"ch{i}")
            self.plot.addItem(curve)
            self.legend.addItem(curve, curve.name())
            self.curves.append(curve)
        self.plot.getViewBox().sigResized.connect(self._fit_legend)
        # The y axis names its units (plain text: SI prefixes would turn g into "mg").
        distinct = list(dict.fromkeys(u for u in units if u))
        if distinct:
            self.plot.setLabel("left", " · ".join(distinct))
        # Channel menu: one checkable action per channel.
        self.channels_button = QToolButton(text=f"Channels ({n_ch})")
        self.channels_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.channels_button)
        self.channel_actions: list[QAction] = []
        for i, curve in enumerate(self.curves):
            unit = f" [{units[i]}]" if i < len(units) and units[i] else ""
            act = QAction(f"{names[i] if i < len(names) else i}{unit}", menu, checkable=True, checked=True)
            act.toggled.connect(lambda on, i=i: self._show_channel(i, on))
            menu.addAction(act)
            self.channel_actions.append(act)
        self.channels_button.setMenu(menu)
        self.autoscale = QCheckBox("Auto Y", checked=True)
        self.autoscale.setToolTip("Autoscale the y axis to the visible data; untick to keep the current range fixed")
        self.autoscale.toggled.connect(self.set_autoscale)
        self._header.addWidget(self.channels_button)
        self._header.addWidget(self.autoscale)
        # Autoscale is done here at a few Hz from the display buffer: pyqtgraph's own autorange
        # asks every curve for its bounds on every frame, which costs more than drawing them.
        self.plot.disableAutoRange(axis="y")
        self._ticks = 0
        self._y_range: tuple[float, float] | None = None
        self._layout.addWidget(self.graphics, 1)

    def set_channel_visible(self, index: int, visible: bool) -> None:
        self.channel_actions[index].setChecked(visible)

    def _fit_legend(self, *_args) -> None:
        """Show the legend only where it leaves most of the plot to the traces: in a short panel
        (many streams stacked) the 16 names of an EEG covered every trace. The Channels menu
        names them too."""
        room = self.plot.getViewBox().height()
        self.legend.setVisible(room >= LEGEND_ROOM * self.legend.boundingRect().height())

    def _show_channel(self, index: int, visible: bool) -> None:
        curve = self.curves[index]
        if visible:
            # Hidden curves are not updated: hand this one the current data before it paints.
            t, v = self._envelope_view(self.buffer)
            curve.setData(t - self.origin, v[index], skipFiniteCheck=True)
        curve.setVisible(visible)

    def set_autoscale(self, on: bool) -> None:
        """Autoscale the y axis to the visible channels (True) or keep the current range."""
        if self.autoscale.isChecked() != on:
            self.autoscale.setChecked(on)
        if on:
            self._y_range = None
            self._rescale()

    def _rescale(self) -> None:
        _, v = self.buffer.view()
        visible = [i for i, c in enumerate(self.curves) if c.isVisible()]
        if not len(v) or not visible:
            return
        vis = v[visible] if len(visible) < v.shape[0] else v
        lo, hi = float(vis.min()), float(vis.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        pad = 0.05 * (hi - lo)
        lo, hi = lo - pad, hi + pad
        old = self._y_range
        # Only move the axis when the data left the range or uses less than half of it.
        if old is None or lo < old[0] or hi > old[1] or (hi - lo) < 0.5 * (old[1] - old[0]):
            self._y_range = (lo, hi)
            self.plot.setYRange(lo, hi, padding=0)  # type: ignore[union-attr]

    def _pull(self) -> bool:
        chunk = self.ring.since(self.newest)
        if chunk is None:
            return False
        data = np.asarray(chunk.data, dtype=np.float32).reshape(len(chunk), -1)
        self.envelope.add(chunk.timestamps, data)
        self.newest = float(chunk.timestamps[-1])
        t, v = self._envelope_view(self.buffer)
        x = t - self.origin
        for i, curve in enumerate(self.curves):
            if curve.isVisible():
                curve.setData(x, v[i], skipFiniteCheck=True)
        self._ticks += 1
        if self.autoscale.isChecked() and (self._ticks % 8 == 1 or self._y_range is None):
            self._rescale()
        return True


class AudioPanel(Panel):
    """Audio: a min/max envelope of every channel and a live spectrogram of the first channel."""

    time_axis = True
    BLOCK = 480  # samples per envelope bin (10 ms at 48 kHz: 1000 bins in a 10 s window)
    NFFT = 512  # spectrogram window = hop (no overlap; 94 columns/s at 48 kHz)
    DB_RANGE = (-85.0, -15.0)  # dBFS mapped onto the colour map

    def __init__(self, info, ring, origin, window, parent=None):
        super().__init__(info, ring, origin, window, parent)
        self.rate = info.nominal_rate or 48000.0
        n_ch = max(1, info.channel_count)
        self.envelope = PeakEnvelope(self.BLOCK, int(self.rate * window * 1.05), n_ch)
        self.graphics = pg.GraphicsLayoutWidget()
        self.plot = self._new_plot(self.graphics, 0)
        self.plot.setYRange(-1, 1)
        self.plot.setLabel("left", "amplitude")
        self.curves = []
        for i in range(n_ch):
            curve = Trace(pg.mkPen(PALETTE[i % len(PALETTE)], width=1))
            self.plot.addItem(curve)
            self.curves.append(curve)
        self.spec_plot = self._new_plot(self.graphics, 1)
        self.spec_plot.setXLink(self.plot)
        self.spec_plot.setLabel("left", "kHz")
        self.spec_plot.setYRange(0, self.rate / 2000, padding=0)
        self.spec_plot.setMouseEnabled(x=True, y=False)
        self.columns = int(self.rate / self.NFFT * window * 1.05) + 2
        # Columns are stored already coloured (ColumnImage): a frame only colours new ones.
        self.spec = RollingBuffer(self.columns, self.NFFT // 2 + 1, dtype=np.uint32)
        self.image = ColumnImage(pg.colormap.get("inferno"), self.DB_RANGE)
        self.spec_plot.addItem(self.image)
        self._window = np.hanning(self.NFFT).astype(np.float32)
        self._spec_pending = np.zeros(0, dtype=np.float32)
        self._spec_t0 = 0.0
        self._layout.addWidget(self.graphics, 1)
        self.graphics.ci.layout.setRowStretchFactor(0, 1)
        self.graphics.ci.layout.setRowStretchFactor(1, 2)
        # A crowded studio scrolls and gives each panel its minimum height: keep both rows
        # tall enough for their axis labels (rotated along the axis) and a few ticks.
        # (The view's minimum height is what the splitter honours; the rows' follows from it.)
        rows = [max(48.0, plot.getAxis("left").label.boundingRect().width() + 12.0) for plot in (self.plot, self.spec_plot)]
        for row, height in enumerate(rows):
            self.graphics.ci.layout.setRowMinimumHeight(row, height)
        self.graphics.setMinimumHeight(int(sum(rows)) + 24)  # + spacing and margins

    def _time_plots(self) -> list[pg.PlotItem]:
        return [self.plot, self.spec_plot]  # type: ignore[list-item]

    #: Height of the waveform and spectrogram rows per level of detail: the spectrogram is
    #: the largest image the view paints, scaled every frame, so it shrinks first.
    SPEC_ROWS = ((1, 2), (1, 1), (2, 1))

    def set_detail(self, level: int) -> None:
        super().set_detail(level)
        wave, spec = self.SPEC_ROWS[min(level, len(self.SPEC_ROWS) - 1)]
        self.graphics.ci.layout.setRowStretchFactor(0, wave)
        self.graphics.ci.layout.setRowStretchFactor(1, spec)

    def _pull(self) -> bool:
        chunk = self.ring.since(self.newest)
        if chunk is None:
            return False
        raw = np.asarray(chunk.data)
        data = raw.reshape(len(chunk), -1).astype(np.float32)
        if raw.dtype.kind == "i":  # integer PCM: scale to [-1, 1]
            data /= float(np.iinfo(raw.dtype).max) + 1.0
        self.newest = float(chunk.timestamps[-1])
        self.envelope.add(chunk.timestamps, data)
        t, v = self._envelope_view(self.envelope.buffer)
        x = t - self.origin
        for i, curve in enumerate(self.curves):
            curve.setData(x, v[i], skipFiniteCheck=True)
        self._spectrogram(data[:, 0], float(chunk.timestamps[0]))
        return True

    def _spectrogram(self, mono: np.ndarray, t0: float) -> None:
        if len(self._spec_pending) == 0:
            self._spec_t0 = t0
        pending = np.concatenate([self._spec_pending, mono])
        n_cols = len(pending) // self.NFFT
        if n_cols:
            frames = pending[: n_cols * self.NFFT].reshape(n_cols, self.NFFT) * self._window
            mag = np.abs(np.fft.rfft(frames, axis=1)) * (2.0 / self._window.sum())
            db = 20.0 * np.log10(mag + 1e-9, dtype=np.float32)
            times = self._spec_t0 + np.arange(n_cols) * (self.NFFT / self.rate)
            self.spec.append(times, self.image.colour(db))
            self._spec_pending = pending[n_cols * self.NFFT :]
            self._spec_t0 += n_cols * self.NFFT / self.rate
        else:
            self._spec_pending = pending
            return
        start, stop = self.spec.span()
        if stop <= start:
            return
        # Rows are frequency bins, columns are time (the buffer's layout).
        width = (stop - start) * self.NFFT / self.rate
        rect = QRectF(self.spec.t[start] - self.origin, 0.0, width, self.rate / 2000)
        self.image.set_columns(self.spec.v, start, stop, rect)


class ImagePanel(Panel):
    """The newest sample of a video or frame stream as an image, with its age."""

    def __init__(self, info, ring, origin, window, parent=None):
        super().__init__(info, ring, origin, window, parent)
        self.is_video = info.kind is StreamKind.VIDEO
        self.graphics = pg.GraphicsLayoutWidget()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.color_bar: pg.ColorBarItem | None = None
        if self.is_video:
            # Video rows run top to bottom; pixels need no axes.
            self.view = self.graphics.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
            self.view.addItem(self.image)
        else:
            # A map (e.g. range × Doppler): bins on both axes (row 0 at the bottom) and a
            # colour scale in the stream's unit.
            self.map_plot = self.graphics.addPlot()
            self.map_plot.setMenuEnabled(False)
            self.map_plot.hideButtons()
            self.map_plot.setLabel("left", "row (bin)")
            self.map_plot.setLabel("bottom", "column (bin)")
            self.view = self.map_plot.getViewBox()
            self.view.addItem(self.image)
            cmap = pg.colormap.get("viridis")
            self.image.setColorMap(cmap)
            unit = info.units[0] if info.units and info.units[0] else "value"
            self.color_bar = pg.ColorBarItem(colorMap=cmap, interactive=False, width=12, label=unit)
            self.graphics.addItem(self.color_bar, row=0, col=1)
        self.stamp = QLabel("waiting for data…")
        self.stamp.setStyleSheet("color:#9aa0a6")
        self._header.addWidget(self.stamp)
        self._layout.addWidget(self.graphics, 1)
        self._levels: tuple[float, float] | None = None
        self._bar_levels: tuple[float, float] | None = None  # the levels the colour bar shows
        self.frames_shown = 0

    #: The colour bar follows the image's levels once they moved by this fraction of their span.
    BAR_STEP = 0.05

    def _bar_moved(self) -> bool:
        if self._bar_levels is None:
            return True
        (a, b), (c, d) = self._bar_levels, self._levels
        return max(abs(a - c), abs(b - d)) > self.BAR_STEP * max(b - a, d - c, 1e-12)

    def _pull(self) -> bool:
        chunk = self.ring.latest()
        if chunk is None or chunk.timestamps[-1] <= self.newest:
            return False
        frame = np.asarray(chunk.data[-1])
        self.newest = float(chunk.timestamps[-1])
        if self.is_video:
            if frame.ndim == 3 and frame.shape[1] > 400:
                frame = frame[::2, ::2]  # half resolution is plenty for a preview
            if frame.ndim == 3 and frame.shape[2] >= 3:
                frame = frame[..., 2::-1]  # BGR -> RGB
            self.image.setImage(np.ascontiguousarray(frame), autoLevels=False, levels=(0, 255))
        else:
            img = frame.reshape(frame.shape[0], -1) if frame.ndim > 1 else frame[None, :]
            lo, hi = float(np.min(img)), float(np.max(img))
            # Levels follow the data slowly so the colours do not flicker frame to frame.
            if self._levels is None:
                self._levels = (lo, hi if hi > lo else lo + 1)
            else:
                a, b = self._levels
                self._levels = (0.9 * a + 0.1 * lo, max(0.9 * b + 0.1 * hi, 0.9 * a + 0.1 * lo + 1e-6))
            self.image.setImage(img, autoLevels=False, levels=self._levels)
            if self.color_bar is not None and self._bar_moved():
                # Redrawing the bar repaints its four axes: only when the levels moved visibly.
                self._bar_levels = self._levels
                self.color_bar.setLevels(self._levels)
        self.frames_shown += 1
        self.stamp.setText(f"t = {self.newest - self.origin:8.3f} s")
        return True


#: Events repeating the previous one's text within this many seconds continue its run (one marker).
REPEAT_S = 0.5


class EventsPanel(Panel):
    """An event stream as vertical lines with their text, on the shared time axis."""

    time_axis = True
    #: Emitted for every new event: (host time, text), so the view can mark other plots too.
    new_event = Signal(float, str)

    def __init__(self, info, ring, origin, window, parent=None):
        super().__init__(info, ring, origin, window, parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.plot = self._new_plot(self.graphics)
        self.plot.hideAxis("left")
        self.plot.setYRange(0, 1)
        self.plot.setMouseEnabled(x=True, y=False)
        self.graphics.setFixedHeight(self.HEIGHT)
        self._layout.addWidget(self.graphics)
        self.count = 0
        self._run: tuple[str, float] = ("", -math.inf)  # text and time of the last event of a run of repeats

    #: Height of the plot's view; under the time axis (ticks and its label, ~58 px) it grows,
    #: or the plot was 12 px high, less than one line of marker text.
    HEIGHT = 70
    AXIS_HEIGHT = 58

    def show_time_axis(self, show: bool) -> None:
        super().show_time_axis(show)
        self.graphics.setFixedHeight(self.HEIGHT + (self.AXIS_HEIGHT if show else 0))

    def _pull(self) -> bool:
        chunk = self.ring.since(self.newest)
        if chunk is None:
            return False
        for t, text in zip(chunk.timestamps, chunk.data):
            label = text.decode() if isinstance(text, bytes) else str(text)
            self.count += 1
            # A board printing its class every window sends the same line many times a second:
            # mark a run of repeats once, where it starts, or the plots drown in lines.
            repeat = label == self._run[0] and float(t) - self._run[1] < REPEAT_S
            self._run = (label, float(t))
            if repeat:
                continue
            self.add_marker(float(t), _short(label), "#ffd54f")
            self.new_event.emit(float(t), label)
        self.newest = float(chunk.timestamps[-1])
        return True


def _short(text: str) -> str:
    """The marker text of an event: ``label type`` for live-label style JSON, else the text."""
    if not text.startswith("{"):
        return text
    try:
        d = json.loads(text)
    except ValueError:
        return text
    if isinstance(d, dict) and "label" in d:
        return " ".join(str(d[k]) for k in ("label", "type") if k in d)
    return text


def panel_for(info: StreamInfo, ring: ChunkRing, origin: float, window: float) -> Panel:
    """The panel class that draws ``info``'s kind (a model's predictions: `PredictionPanel`)."""
    from sensorlab.inference import is_predictions

    if is_predictions(info):
        from sensorlab.app.prediction_panel import PredictionPanel  # it subclasses TimeseriesPanel (this module)

        return PredictionPanel(info, ring, origin, window)
    cls = {
        StreamKind.TIMESERIES: TimeseriesPanel,
        StreamKind.AUDIO: AudioPanel,
        StreamKind.VIDEO: ImagePanel,
        StreamKind.FRAMES: ImagePanel,
        StreamKind.EVENTS: EventsPanel,
    }[info.kind]
    return cls(info, ring, origin, window)


def ring_seconds(info: StreamInfo, window: float) -> tuple[float, int | None]:
    """How much the display ring of ``info`` must hold: (seconds, max samples)."""
    if info.kind in (StreamKind.VIDEO, StreamKind.FRAMES):
        return 1.0, 4  # only the newest image is drawn
    return window + 1.0, None


def nice(x: float) -> str:
    """Short human rendering of a rate or count."""
    if not math.isfinite(x):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"
