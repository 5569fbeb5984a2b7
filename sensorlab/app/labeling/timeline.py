"""`Timeline`: stacked tracks and annotation lanes on one linked time axis, with a cursor.

One `pg.GraphicsLayoutWidget` (one QGraphicsView, so one paint per frame) holds a row per
track. All plots show the same x range (`_share_x`: the one that moved hands it to the
others directly, not through pyqtgraph's x-links); only the first one shows the time axis, as a
ruler on top (redrawing scrolling axes is the most expensive part of a frame). Time is session seconds on screen
(``x = t - origin``) and host-clock seconds in the API.

Each scroll/zoom frame calls every track's ``update_range`` (cheap: pyramid queries) once,
just before it is painted, however many range changes the input delivered since the last
paint; a short single-shot timer calls ``settle`` when the view has stopped moving
(spectrogram).
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal

from sensorlab.app.common.painted_axis import no_si_prefix
from sensorlab.app.labeling.time_ruler import TimeRuler
from sensorlab.app.labeling.tracks import Track
from sensorlab.app.live.traces import CursorLine

#: Milliseconds without range change before `Track.settle` runs.
SETTLE_MS = 120
CURSOR_COLOR = "#ff5252"


class Timeline(pg.GraphicsLayoutWidget):
    """The labeling timeline.

    Parameters
    ----------
    origin
        Host time shown as 0 s (the session start).
    t_begin, t_end
        Host-time extent of the session (the view cannot scroll far beyond it).
    min_span
        Narrowest visible range, seconds (a few samples of the fastest stream).

    Signals
    -------
    cursor_moved(t)
        The cursor moved to host time ``t`` (click, keyboard, playback).
    range_changed(t0, t1)
        The visible host-time range changed (every frame while scrolling).
    settled(t0, t1)
        The range stopped changing for `SETTLE_MS` (costly work may run now).
    first_painted()
        The first paint after `refresh(settle=False)` is done (deferred work may run now).
    """

    cursor_moved = Signal(float)
    range_changed = Signal(float, float)
    settled = Signal(float, float)
    first_painted = Signal()

    def __init__(self, origin: float, t_begin: float, t_end: float, min_span: float = 1e-3, parent=None):
        super().__init__(parent)
        self.origin = origin
        self.t_begin, self.t_end = t_begin, t_end
        self.min_span = min_span
        self.tracks: list[Track] = []
        self.plots: list[pg.PlotItem] = []
        self._cursors: list[CursorLine] = []
        self.cursor = t_begin
        self.frames = 0  # range updates drawn (the benchmark reads it)
        self.ci.layout.setSpacing(0)
        self.ci.setContentsMargins(0, 0, 4, 0)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the labeling view
        # The view paints its whole background itself (an opaque brush), so Qt
        # need not fill the viewport with the palette's colour first: one full-window fill
        # less per scroll frame.
        self.viewport().setAutoFillBackground(False)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        # ... and that background is a plain fill of the view's brush, not pyqtgraph's cached
        # background pixmap: every frame repaints the whole viewport, and copying a
        # window-sized pixmap (read and write) cost about twice filling it (write only).
        self.setCacheMode(self.CacheModeFlag.CacheNone)
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self._on_settled)
        self._settle_after_paint = False
        self._range_pending = False  # a range change not yet drawn by the tracks
        self._sharing = False  # `_share_x` is handing a range to the other plots

    # -- building ---------------------------------------------------------------------------
    def add_track(self, track: Track) -> None:
        """Append a track as the next row (rows are added top to bottom)."""
        self._add_plot(track.plot, track.stretch)
        self.tracks.append(track)
        track.viewbox.clicked.connect(self._on_clicked)

    def add_plot(self, plot: pg.PlotItem, stretch: int) -> None:
        """Append a plot that is not a `Track` (an annotation lane)."""
        self._add_plot(plot, stretch)
        vb = plot.getViewBox()
        if hasattr(vb, "clicked"):
            vb.clicked.connect(self._on_clicked)

    def _add_plot(self, plot: pg.PlotItem, stretch: int) -> None:
        row = len(self.plots)
        self.addItem(plot, row=row, col=0)
        if stretch >= 0:
            self.ci.layout.setRowStretchFactor(row, stretch)
        if self.plots:
            # Starts at the current range; from then on `_share_x` keeps it in step.
            _follow_x(plot.getViewBox(), *self.plots[0].getViewBox().viewRange()[0])
        else:
            # The time ruler sits on top of the first track, so lanes added later (tiers
            # appear while labeling) never have to take the axis over. It paints itself
            # (labeling/time_ruler.py): pyqtgraph's axis was a fifth of a scroll frame.
            grid = plot.getAxis("top").grid
            plot.setAxisItems({"top": TimeRuler()})
            plot.getAxis("top").setGrid(grid)
            plot.showAxis("top", True)
            ruler = plot.getAxis("top")
            # Two tick levels, not three: the ruler is redrawn every scroll frame, and the
            # finest level's ticks and labels were a third of its cost.
            ruler.setStyle(tickLength=-6, maxTickLevel=1, maxTextLevel=1)
            no_si_prefix(ruler)  # always seconds: "ms" or "ks" would change what ticks mean
            ruler.setLabel("time since the session start", units="s")
        if stretch < 0:
            # A fixed-height first row also holds the ruler: without its height, an events
            # lane on top (the demo's clap_mcu) was squeezed to nothing by the ruler.
            ruler_h = plot.getAxis("top").maximumHeight() if not self.plots else 0.0
            self.ci.layout.setRowFixedHeight(row, -stretch + ruler_h)
        pad = 0.02 * (self.t_end - self.t_begin) + 0.5
        plot.getViewBox().setLimits(xMin=self.t_begin - self.origin - pad, xMax=self.t_end - self.origin + pad,
                                    minXRange=self.min_span)
        # Drawn in the plot's pixel space: an InfiniteLine per plot recomputed its geometry on
        # every scroll frame (docs/PERFORMANCE.md).
        self._cursors.append(CursorLine(plot.getViewBox(), CURSOR_COLOR, self.cursor - self.origin))
        # Axes that do not move with the time range are drawn once and cached; the hidden
        # bottom axes still follow the range, so no SI prefix (a label re-rendered each frame).
        # Nor on the left: a track's values are in the stream's own units (probabilities 0.2–0.8
        # read "200 … 800 (x0.001)").
        cache = pg.QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
        plot.getAxis("left").setCacheMode(cache)
        # Their labels too: an axis label is a child text item (HTML, e.g. a track's name and
        # rate), which the axis' cache does not hold, laid out and drawn again every frame
        # (~7 % of a scroll frame's painting).
        for side in ("left", "top"):
            plot.getAxis(side).label.setCacheMode(cache)
        for side in ("bottom", "top", "left"):
            no_si_prefix(plot.getAxis(side))
        # Hidden x axes (every row's bottom one, the top one of every row but the first) are
        # never drawn: unlinked from the view, they no longer take a range signal (a Python
        # slot, a range and an update) on every frame.
        for side in ("bottom", "top"):
            axis = plot.getAxis(side)
            if not axis.isVisibleTo(plot) and axis.linkedView() is not None:
                axis.unlinkFromView()
        if not self.plots:
            vb = plot.getViewBox()
            # The whole session from the start: pyqtgraph's default range (0–1 s) made the
            # tracks draw the first second while rows were being added, which for a 10-hour
            # session loaded the audio's finest stored level (72 MB of block times) before
            # the first paint. Set after the SI prefix was turned off: pyqtgraph picks the
            # prefix for the current range even while turning it off ("ks" for 10 hours).
            vb.setXRange(self.t_begin - self.origin, self.t_end - self.origin, padding=0)
            vb.sigResized.connect(self._on_range)  # more pixels → a finer level
        plot.getViewBox().sigXRangeChanged.connect(self._share_x)
        self.plots.append(plot)

    # -- view range -------------------------------------------------------------------------
    @property
    def view_range(self) -> tuple[float, float]:
        """Visible host-time range."""
        x0, x1 = self.plots[0].getViewBox().viewRange()[0]
        return x0 + self.origin, x1 + self.origin

    def pixels(self) -> int:
        """Plot width in device pixels: the number of min/max pairs worth drawing."""
        return max(16, int(self.plots[0].getViewBox().width() * self.devicePixelRatioF())) if self.plots else 1000

    def set_view(self, t0: float, t1: float) -> None:
        """Show host times ``[t0, t1]``."""
        if t1 - t0 < self.min_span:
            c = 0.5 * (t0 + t1)
            t0, t1 = c - self.min_span / 2, c + self.min_span / 2
        self.plots[0].getViewBox().setXRange(t0 - self.origin, t1 - self.origin, padding=0)
        self._flush_range()  # callers (keys, playback, tools) see the tracks drawn for it

    def zoom(self, factor: float, center: float | None = None) -> None:
        """Zoom in (``factor < 1``) or out around ``center`` (default: the cursor if visible)."""
        t0, t1 = self.view_range
        c = center if center is not None else (self.cursor if t0 <= self.cursor <= t1 else 0.5 * (t0 + t1))
        self.set_view(c - (c - t0) * factor, c + (t1 - c) * factor)

    def pan(self, fraction: float) -> None:
        """Scroll by ``fraction`` of the visible span (negative: towards the start)."""
        t0, t1 = self.view_range
        d = (t1 - t0) * fraction
        self.set_view(t0 + d, t1 + d)

    def show_all(self) -> None:
        self.set_view(self.t_begin, self.t_end)

    def ensure_visible(self, t: float, margin: float = 0.05) -> None:
        """Scroll (not zoom) so that ``t`` is on screen."""
        t0, t1 = self.view_range
        span = t1 - t0
        if t < t0 + margin * span or t > t1 - margin * span:
            self.set_view(t - span / 2, t + span / 2)

    def _share_x(self, vb: pg.ViewBox, x_range: tuple[float, float]) -> None:
        """A plot's x range changed (the API, a drag or the wheel on any row): show it in every
        other plot. pyqtgraph's x-links did this in a chain — each linked view recomputed the
        range from both views' screen geometry and went through `setRange`, limits and signals
        again: ~10 % of a scroll frame for four linked plots (docs/PERFORMANCE.md, §5). Every
        plot has the same width and limits, so the range itself is what they share."""
        if self._sharing:
            return
        self._sharing = True
        try:
            for p in self.plots:
                if p.getViewBox() is not vb:
                    _follow_x(p.getViewBox(), *x_range)
        finally:
            self._sharing = False
        self._on_range()

    def _on_range(self, *_):
        # The tracks draw the new range just before the next paint (`_flush_range`), not once
        # per range change: a mouse wheel or a drag delivers several events per painted frame
        # when frames are slow (a slow machine: 3-4 wheel events per 50 ms frame), and each
        # would read, merge and hand over envelopes that no frame ever shows.
        self._range_pending = True
        self._settle.start()
        self.viewport().update()

    def _flush_range(self) -> None:
        """Draw the pending range change now (before a paint, or for an API caller)."""
        if not self._range_pending or not self.plots:
            return
        self._range_pending = False
        t0, t1 = self.view_range
        px = self.pixels()
        for tr in self.tracks:
            tr.update_range(t0, t1, px)
        self.frames += 1
        self.range_changed.emit(t0, t1)

    def _on_settled(self) -> None:
        self._flush_range()
        t0, t1 = self.view_range
        px = self.pixels()
        for tr in self.tracks:
            # Costly tracks (the spectrogram) compute on a worker and show when done.
            getattr(tr, "settle_later", tr.settle)(t0, t1, px)
        self.settled.emit(t0, t1)

    def stop(self) -> None:
        """Cancel pending work (before the session is closed)."""
        self._settle.stop()
        self._range_pending = False  # a later paint must not read the closed file
        for tr in self.tracks:
            if hasattr(tr, "cancel"):  # a worker still reading the file must end before it closes
                tr.cancel()
                tr.wait()
        for vb in (p.getViewBox() for p in self.plots):
            vb.sigXRangeChanged.disconnect(self._share_x)
        if self.plots:
            self.plots[0].getViewBox().sigResized.disconnect(self._on_range)

    def refresh(self, settle: bool = True) -> None:
        """Redraw every track for the current range now (after opening); with ``settle`` False
        the costly work (spectrogram, annotation items) follows when the settle timer fires,
        so the first paint does not wait for it."""
        self._range_pending = True
        self._flush_range()
        self._settle.stop()
        if settle:
            self._on_settled()
        else:
            self._settle_after_paint = True

    def paintEvent(self, ev):  # noqa: N802 - Qt override
        self._flush_range()
        super().paintEvent(ev)
        if self._settle_after_paint:  # the first paint after `refresh(settle=False)` is on screen
            self._settle_after_paint = False
            self._settle.start()
            QTimer.singleShot(0, self, self.first_painted.emit)  # after this paint has returned

    # -- cursor -----------------------------------------------------------------------------
    def set_cursor(self, t: float, *, emit: bool = True) -> None:
        """Move the cursor to host time ``t`` (clamped to the session)."""
        t = min(max(t, self.t_begin), self.t_end)
        if not math.isfinite(t):
            return
        self.cursor = t
        for line in self._cursors:
            line.setValue(t - self.origin)
        if emit:
            self.cursor_moved.emit(t)

    def _on_clicked(self, x: float) -> None:
        self.set_cursor(x + self.origin)

    def x_to_pixel(self, plot: pg.PlotItem, t: float) -> pg.QtCore.QPoint:
        """Widget pixel of host time ``t`` at the vertical middle of ``plot`` (for tests and tools)."""
        vb = plot.getViewBox()
        y = sum(vb.viewRange()[1]) / 2
        scene = vb.mapViewToScene(pg.QtCore.QPointF(t - self.origin, y))
        return self.mapFromScene(scene)


def _follow_x(vb: pg.ViewBox, x0: float, x1: float) -> None:
    """Show data x ``[x0, x1]`` in ``vb`` as a range already checked against its limits (the
    plot it comes from has the same ones): what `ViewBox.setRange` ends with, without its
    padding, limit and aspect work. The view's matrix follows before the next paint, as
    after `setRange`; the plot's axes and overlays get the usual range signals."""
    st = vb.state
    if st["viewRange"][0] == [x0, x1]:
        return
    st["targetRange"][0] = [x0, x1]
    st["viewRange"] = [[x0, x1], st["viewRange"][1]]
    st["autoRange"][0] = False
    vb._viewPixelSizeCache = None
    vb._matrixNeedsUpdate = True
    vb.update()
    vb.sigXRangeChanged.emit(vb, (x0, x1))
    vb.sigRangeChanged.emit(vb, st["viewRange"], [True, False])


__all__ = ["Timeline"]
