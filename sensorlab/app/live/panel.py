"""`Panel`: the base of every live panel, a titled widget fed from one bounded `ChunkRing`.

`LiveView`'s single timer calls `refresh()`; a panel pulls what arrived since the last call,
appends it to a fixed-size display buffer (`buffers.py`) and calls ``setData`` /
``setImage`` once per item. Panels never receive chunks from device threads directly.

Time plots share one x axis: host-clock seconds minus the view's origin (``x = t - origin``), so
all of them can be linked and zoomed together. Speed settings (docs/ARCHITECTURE.md, Conventions):
1-px pens, no antialiasing, a fixed peak-downsampling factor, clip-to-view, skipFiniteCheck.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import StreamInfo
from sensorlab.app.common.painted_axis import no_si_prefix
from sensorlab.app.live.axis import TIME_AXIS_LABEL, LiveTimeAxis
from sensorlab.app.live.buffers import PeakEnvelope, RollingBuffer, coarsen
from sensorlab.app.live.marker_layer import Marker, MarkerLayer
from sensorlab.app.live.plot_items import BoundsKeptAxis, LiveViewBox, follow_shown_x_axes, hollow, lean_view

#: Distinct colours for channels (Tableau-like, readable on a dark background).
PALETTE = (
    "#4e9bf5", "#f5a623", "#5ac85a", "#ef5350", "#b388ff", "#8d6e63", "#f06292", "#bdbdbd",
    "#d4e157", "#26c6da", "#90caf9", "#ffcc80", "#a5d6a7", "#ef9a9a", "#ce93d8", "#80cbc4",
)


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
        self.title = QLabel(_title(info))
        self._header.addWidget(self.title)
        self._header.addStretch(1)
        self._layout.addLayout(self._header)

    def rename(self, info: StreamInfo) -> None:
        """The stream was renamed (`LiveView.rename_stream`): the same ring, data and plots."""
        self.info = info
        self.title.setText(_title(info))

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

    def _fit_envelope(self, envelope: PeakEnvelope, rate: float, base: int) -> None:
        """Size ``envelope``'s blocks to the plot's width: at most one min/max pair per pixel
        column over the view's window (≤ 2 points per column), so a narrow plot is not handed
        thousands of points it cannot show (a 10 s window of a 48 kHz envelope was 2,100
        points a channel on a ~600 px plot). The block is ``base`` times a power of two, so
        it changes only when the plot is resized across a step, and coarser rows are exact
        merges of the finer ones. Only for a shown plot (a hidden one has no width yet)."""
        if self.plot is None or not self.isVisible():
            return
        width = self.plot.getViewBox().width()
        if width < 16 or rate <= 0:
            return
        per_px = rate * self.history / width  # samples per pixel column over the window
        block = base
        while block < per_px:
            block *= 2
        if base == 1 and block <= 2:  # a pair per 2 samples is as many points as the samples
            block = 1
        envelope.rebin(block)

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

    @staticmethod
    def _time_graphics() -> pg.GraphicsLayoutWidget:
        """The view of a time panel. Every item of it sets the painter state it paints with
        (pen, hints, font; Qt sets each item's transform and clip itself), so Qt need not save
        and restore the painter around each of its ~40–90 items every frame. (Not for the
        image panels: pyqtgraph's colour bar relies on it, and they repaint far less often.)"""
        widget = pg.GraphicsLayoutWidget()
        widget.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        widget.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        hollow(widget.ci)  # the layout only places the plots (`plot_items`)
        lean_view(widget)
        return widget

    def _new_plot(self, widget: pg.GraphicsLayoutWidget, row: int = 0) -> pg.PlotItem:
        # The time axis scrolls every frame: `LiveTimeAxis` paints it without rebuilding it.
        # The box and the y axis keep their bounds between frames, and the plot item, which
        # only holds them, draws nothing (`plot_items`).
        plot = widget.addPlot(row=row, col=0, axisItems={"bottom": LiveTimeAxis(), "left": BoundsKeptAxis("left")},
                              viewBox=LiveViewBox(enableMenu=False))
        hollow(plot)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        # Scrolling changes the transform of the plot's child group every frame; with
        # geometry notifications on, Qt called two Python `itemChange`s for it, which only
        # told the view its bounds changed (pyqtgraph means to exempt that group, but the
        # exemption's attribute is misspelt). Child added/removed notices still arrive.
        plot.getViewBox().childGroup.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges, False)
        # That group only holds the curves and overlays (its `boundingRect` is empty): Qt need
        # not ask Python for its bounds on every paint (6 calls a frame in the demo rig).
        hollow(plot.getViewBox().childGroup)
        left = plot.getAxis("left")
        left.setWidth(48)
        # The y axis rarely changes but is repainted with every frame of the curves: cache it.
        left.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # The time axis moves every frame: with an automatic SI prefix each move re-rendered
        # its label as HTML, on every linked plot, shown or not. Its unit is always seconds.
        for side in ("bottom", "top"):
            no_si_prefix(plot.getAxis(side))
        follow_shown_x_axes(plot)  # the hidden top axis stops following the scrolling range
        return plot

    def show_time_axis(self, show: bool) -> None:
        """Show or hide the x-axis ticks (the view shows them under the lowest plot only:
        redrawing a scrolling axis is the most expensive part of a frame)."""
        for plot in self._time_plots():
            plot.showAxis("bottom", show)
            if show:
                plot.setLabel("bottom", TIME_AXIS_LABEL)
                # Major and minor ticks only: the finest level's ticks and labels were a third
                # of the cost of this axis, which is redrawn every frame.
                plot.getAxis("bottom").setStyle(maxTickLevel=1, maxTextLevel=1)
            follow_shown_x_axes(plot)

    def _time_plots(self) -> list[pg.PlotItem]:
        return [self.plot] if self.plot is not None else []


def _title(info: StreamInfo) -> str:
    rate = f"{info.nominal_rate:g} Hz" if info.regular else "irregular"
    return f"<b>{html.escape(info.name)}</b> &nbsp;<span style='color:#9aa0a6'>{info.kind.value} · {rate}</span>"
