"""`LiveView`: every stream of an `Acquisition`, live, on one shared host-clock time axis.

Plots are created once, when the view is built on the running acquisition. One `QTimer`
(up to ~60 Hz, slower when the GUI thread is over its budget) then pulls from one bounded `ChunkRing` per stream (`Acquisition.ring`) and refreshes
each panel; sources never signal the GUI per chunk (a signal per chunk would flood the GUI
thread at kHz rates).

- Time plots (time series, audio, spectrogram, events) are x-linked. While *following*, the x
  range tracks the newest data; zooming or panning any of them with the mouse stops following
  until `follow` is switched back on.
- *Markers*: a live label (hotkey) is a line across every time plot; an event stream's
  events (a board's or a model's class changes every window) are lines on its own thin
  events panel only, or they would clutter every plot and cost each one a marker layer.
- *Pausing* stops refreshing the plots only: devices and the recorder keep running, and the
  rings keep (bounded) data so resuming catches up.
"""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QScrollArea, QSplitter, QVBoxLayout, QWidget

from sensorlab.acquisition.clock import EPOCH
from sensorlab.acquisition.source import StreamKind
from sensorlab.app.live.cpu_room import CpuRoom
from sensorlab.app.live.panels import EventsPanel, Panel, panel_for, ring_seconds
from sensorlab.app.live.plot_items import follow_shown_x_axes
from sensorlab.app.live.time_scroll import line_up, show_range
from sensorlab.app.live.view_changes import StreamChanges

#: Shortest refresh period of the live view, milliseconds: up to ~66 fps, so that a display's
#: 60 Hz is met with headroom. At 16 ms (62.5 fps) any late tick took the view below 60 fps: a
#: run at 16 ms painted 62.1 fps, at 15 ms 64.2 (docs/performance/live-view.md, eighteenth
#: round). The pacing (`_adapt_rate`) lengthens it whenever the GUI thread is over its budget.
REFRESH_MS = 15
#: Longest refresh period the view backs off to when the machine cannot keep up.
MAX_REFRESH_MS = 250
#: Share of one core the GUI thread may use (of the CPU this process may use, where that is
#: less than a core: a container's or cgroup's quota, `CpuRoom`). Above it the refresh period
#: grows (fewer fps), below 80 % of it the period shrinks again: on a slow or overloaded
#: machine the view degrades first, leaving the cores to acquisition and recording.
GUI_BUDGET = 0.5
#: The GUI thread's share of a core while the machine has CPU to spare: below
#: `SPARE_BELOW` of all its cores busy (everything running, the view included) nothing else
#: wants that time, so a fast machine paints at ~60 fps while recording (half a core held it
#: to ~45). Back to `GUI_BUDGET` above `SPARE_UNTIL` (a CPU hog, another program, a slow
#: machine), so the view still gives way first; the gap between the two avoids flip-flopping.
GUI_BUDGET_SPARE = 0.8
SPARE_BELOW = 0.6
SPARE_UNTIL = 0.8
#: Inside a CPU quota (a container's, a cgroup's) the GUI thread competes with the group's
#: acquisition threads and device processes for it: when the group used more than this share
#: of its quota it is saturated (its threads queue for the next period), so the view counts
#: as over budget whatever its own share; it speeds up again only below `QUOTA_ROOM`. Not
#: lower: recording the demo rig on a 2-core machine 2.7× slower uses 75–85 % of the quota
#: with the view at 4 fps (docs/PERFORMANCE.md §4), and the share of throttled periods is no
#: sign either (with 5 ms periods a camera frame's bursts are throttled at 70 % on average).
QUOTA_FULL = 0.95
QUOTA_ROOM = 0.85
#: Once the refresh period has grown to this (≤ 20 fps) and the GUI thread is still over its
#: budget, the panels draw with less detail (coarser envelopes, a smaller spectrogram) before
#: the period grows further; restored in the reverse order when there is room again.
DETAIL_PERIOD_MS = 50
#: Coarsest level of detail (`Panel.set_detail`).
MAX_DETAIL = 2


class LiveView(StreamChanges, QWidget):
    """Live plots of every stream of ``acquisition``.

    Parameters
    ----------
    acquisition
        An opened `Acquisition`; one panel is built per stream in ``acquisition.streams``.
    window
        Seconds of history shown on the time axis.
    origin
        Host time drawn as x = 0 (default: the clock's `EPOCH`, when sensorlab started, so a
        rebuilt view keeps the same axis and the demo video's burned-in clock matches it).

    Signals
    -------
    follow_changed(bool), paused_changed(bool)
    model_action(action, stream)
        A predictions panel's Model ▾ asked for ``"settings"``, ``"remap"`` or ``"unload"``.
    """

    follow_changed = Signal(bool)
    paused_changed = Signal(bool)
    refreshed = Signal()
    detail_changed = Signal(int)
    model_action = Signal(str, str)

    def __init__(self, acquisition, window: float = 10.0, origin: float | None = None, parent=None):
        super().__init__(parent)
        self.acquisition = acquisition
        self.history = window
        self.origin = EPOCH if origin is None else origin
        self.panels: dict[str, Panel] = {}
        self._rings = {}
        self._follow = True
        self._paused = False
        self._setting_range = False
        #: Per time plot's ViewBox, where its pixel columns start and how many there are
        #: relative to the master's (``_alignment``); worked out again after any of them resized.
        self._aligned: dict | None = None
        self.frames = 0  # refreshes that drew something
        self.detail = 0  # 0 = full; up to MAX_DETAIL when the machine cannot keep up
        self._frame_times: deque[float] = deque(maxlen=90)

        # Live labels (host time, text, colour), for panels added later. The panels' markers
        # cannot stand in: an events panel's also hold its own events, the other plots keep no
        # text, and with no time plot yet (or the top one replaced) no panel holds them at all.
        self._labels: deque[tuple[float, str, str]] = deque()
        self._vacated: dict[str, int] = {}  # stream → where its removed panel was (`remove_stream`)
        self._time_col, self._image_col = QSplitter(Qt.Orientation.Vertical), QSplitter(Qt.Orientation.Vertical)
        for info in acquisition.streams.values():
            self._add_panel(info)
        self._place_time_axis()
        time_col, image_col = self._time_col, self._image_col

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(time_col)
        self._split = split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        if image_col.count():
            self._show_image_column()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        # Clicking the plots takes the keyboard from a text field: digits are live labels again.
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._tick)
        self._pace = (time.perf_counter(), time.thread_time())
        self.room = CpuRoom()  # the CPU this process may use, and how busy it is
        self.budget = GUI_BUDGET * min(1.0, self.room.cores)
        self.spare = False  # the machine has CPU to spare: the GUI thread may use `GUI_BUDGET_SPARE`
        self.timer.start()

    def _add_panel(self, info) -> Panel:
        """A panel for ``info`` with its display ring, at the end of its column (time plots
        x-linked to the master plot)."""
        seconds, max_samples = ring_seconds(info, self.history)
        ring = self.acquisition.ring(info.name, seconds=seconds, max_samples=max_samples)
        self._rings[info.name] = ring
        panel = panel_for(info, ring, self.origin, self.history)
        panel.set_detail(self.detail)
        self.panels[info.name] = panel
        if hasattr(panel, "model_action"):
            panel.model_action.connect(self.model_action)
        col = self._column_of(panel)
        self._insert_panel(info.name, panel)
        if panel.time_axis and panel.plot is not None:
            # Weight splitter space by content: audio (two plots) > time series > events.
            col.setStretchFactor(col.indexOf(panel), {StreamKind.AUDIO: 3, StreamKind.EVENTS: 0}.get(info.kind, 2))
            master = self.master_plot
            if panel.plot is not master:
                panel.plot.setXLink(master)
            panel.plot.getViewBox().sigRangeChangedManually.connect(self._on_manual_range)
            for plot in panel._time_plots():
                plot.getViewBox().sigResized.connect(self._forget_alignment)
            self._aligned = None
        return panel

    def _place_time_axis(self) -> None:
        """One time axis under the lowest time plot is enough (they are linked); the audio
        panel's waveform sits above its own spectrogram, so it never shows one."""
        panels = self.time_panels
        for panel in panels:
            panel.show_time_axis(panel is panels[-1])
        if panels and hasattr(panels[-1], "spec_plot"):
            panels[-1].plot.showAxis("bottom", False)
            follow_shown_x_axes(panels[-1].plot)

    def _show_image_column(self) -> None:
        if self._split.indexOf(self._image_col) < 0:
            self._split.addWidget(self._image_col)
            self._split.setStretchFactor(0, 5)
            self._split.setStretchFactor(1, 3)

    # -- public --------------------------------------------------------------------------
    def add_stream(self, info) -> None:
        """Add a panel for a stream that started after the view was built (a model's
        predictions), keeping every other panel, its history and its markers.

        The studio rebuilt the whole view for that before: every trace started again from
        an empty plot when a model was loaded. A stream already drawn is left alone."""
        old = self.panels.get(info.name)
        if old is not None:
            if old.info == info:
                return
            self._remove_panel(info.name)  # the same name, another stream: drawn afresh
        panel = self._add_panel(info)
        if panel.time_axis:
            self._place_time_axis()
            for t, text, color in self._labels:
                panel.add_marker(t, text if isinstance(panel, EventsPanel) else "", color)
        else:
            self._show_image_column()

    def _remove_panel(self, name: str) -> None:
        panel = self.panels.pop(name)
        ring = self._rings.pop(name, None)
        if ring is not None:
            self.acquisition.release_ring(name, ring)
        panel.setParent(None)
        panel.deleteLater()
        self._aligned = None

    @property
    def time_panels(self) -> list[Panel]:
        return [p for p in self.panels.values() if p.time_axis and p.plot is not None]

    @property
    def master_plot(self):
        panels = self.time_panels
        return panels[0].plot if panels else None

    @property
    def paused(self) -> bool:
        return self._paused

    def set_paused(self, paused: bool) -> None:
        """Stop or resume refreshing the plots (recording is not affected)."""
        if paused != self._paused:
            self._paused = paused
            self.paused_changed.emit(paused)

    @property
    def follow(self) -> bool:
        return self._follow

    def set_follow(self, follow: bool) -> None:
        """Let the time axis track the newest data (True) or stay where the user put it."""
        if follow != self._follow:
            self._follow = follow
            self.follow_changed.emit(follow)

    def add_marker(self, t: float, text: str, color: str = "#ffd54f") -> None:
        """Draw a vertical line at host time ``t`` on every time plot (a live label: the user
        marked that moment and wants to see it against every signal).

        The text is written on the top plot and on event panels only, to keep plots readable.
        Events of an event stream (a board's or a model's class changes, a detector's events)
        are not drawn here: they stay on their own events panel, which shares the time axis
        (docs/PERFORMANCE.md §4).
        """
        self._labels.append((t, text, color))
        for i, panel in enumerate(self.time_panels):
            panel.add_marker(t, text if i == 0 or isinstance(panel, EventsPanel) else "", color)

    @property
    def fps(self) -> float:
        """Refreshes per second over the last ~3 s."""
        ts = self._frame_times
        if len(ts) < 2 or ts[-1] == ts[0]:
            return 0.0
        return (len(ts) - 1) / (ts[-1] - ts[0])

    def newest_drawn(self) -> dict[str, float]:
        """Host time of the newest sample handed to Qt, per stream."""
        return {name: p.newest for name, p in self.panels.items()}

    def set_detail(self, level: int) -> None:
        """Level of detail of every panel: 0 full, up to `MAX_DETAIL` (coarser envelopes,
        a smaller spectrogram). Normally set by the pacing in `_adapt_rate`."""
        level = max(0, min(MAX_DETAIL, int(level)))
        if level != self.detail:
            self.detail = level
            for panel in self.panels.values():
                panel.set_detail(level)
            self.detail_changed.emit(level)

    def _tick(self) -> None:
        self._adapt_rate()
        self.refresh()

    def _adapt_rate(self) -> None:
        """Lengthen or shorten the refresh period so the GUI thread stays within its budget.

        Measured over ~0.5 s as the GUI thread's CPU time (refresh, paint and every other
        widget) over wall time; the period moves by at most 25 % per step. Degrades in this
        order: fewer fps down to 1000 / `DETAIL_PERIOD_MS`, then less detail, then fewer fps
        down to 1000 / `MAX_REFRESH_MS`; recovers in the reverse order."""
        wall, cpu = time.perf_counter(), time.thread_time()
        w0, c0 = self._pace
        if wall - w0 < 0.5:
            return
        self._pace = (wall, cpu)
        busy = (cpu - c0) / (wall - w0)
        budget = self._update_budget()
        period = self.timer.interval()
        full = self.room.used is not None and self.room.used > QUOTA_FULL
        room = self.room.used is None or self.room.used < QUOTA_ROOM
        if busy > budget or full:
            if period >= DETAIL_PERIOD_MS and self.detail < MAX_DETAIL:
                self.set_detail(self.detail + 1)
                return
            # The quota is full: the view's own share may be small, the rest still needs room.
            over = busy / budget if busy > budget else 1.25
            period = min(MAX_REFRESH_MS, int(period * min(1.25, over)) + 1)
        elif busy < 0.8 * budget and room:
            if period <= DETAIL_PERIOD_MS and self.detail:
                # Full detail costs more: back only with clear room, or it would flip-flop.
                if busy < 0.3 * budget:
                    self.set_detail(self.detail - 1)
                return
            period = max(REFRESH_MS, int(period * 0.85))
        self.timer.setInterval(period)

    def _update_budget(self) -> float:
        """`GUI_BUDGET_SPARE` of a core while the CPU this process may use has room to spare,
        else `GUI_BUDGET`; of the process's CPU instead where that is under a core."""
        used = self.room.sample()
        if used is not None:
            if used < SPARE_BELOW:
                self.spare = True
            elif used > SPARE_UNTIL:
                self.spare = False
        self.budget = (GUI_BUDGET_SPARE if self.spare else GUI_BUDGET) * min(1.0, self.room.cores)
        return self.budget

    def refresh(self) -> None:
        """Pull new data into every panel and move the time axis (timer slot, GUI thread)."""
        if self._paused:
            return
        changed = False
        for panel in self.panels.values():
            changed |= panel.refresh()
        newest = max((p.newest for p in self.time_panels), default=float("-inf"))
        master = self.master_plot
        if master is not None and newest > float("-inf"):
            x1 = newest - self.origin
            for panel in self.time_panels:
                panel.prune_markers(x1 - 3 * self.history)
            while self._labels and self._labels[0][0] - self.origin < x1 - 3 * self.history:
                self._labels.popleft()
            if self._follow:
                self._setting_range = True
                self._follow_range(x1 - self.history, x1)
                self._setting_range = False
        if changed:
            self.frames += 1
            self._frame_times.append(time.perf_counter())
            self.refreshed.emit()

    def _follow_range(self, x0: float, x1: float) -> None:
        """Show ``x0 … x1`` on the master plot and the lined-up range on every other time plot
        (`time_scroll.show_range`: each plot given its range here, links blocked meanwhile)."""
        show_range(self._alignment(), x0, x1)

    def _alignment(self) -> list[tuple]:
        """Every time plot's ViewBox lined up with the master's (`time_scroll.line_up`).

        Kept until a plot is resized, added or removed (only that moves columns: the panels
        share their column of the window); not kept while the master has no width yet."""
        if self._aligned is not None:
            return self._aligned
        master = self.master_plot.getViewBox()
        boxes = [plot.getViewBox() for panel in self.time_panels for plot in panel._time_plots()]
        out, settled = line_up(master, boxes)
        if settled:
            self._aligned = out
        return out

    def _forget_alignment(self, *_args) -> None:
        self._aligned = None

    def shutdown(self) -> None:
        """Stop the timer and release the display rings (call before closing the acquisition)."""
        self.timer.stop()
        for name, ring in self._rings.items():
            self.acquisition.release_ring(name, ring)
        self._rings.clear()

    # -- slots ---------------------------------------------------------------------------
    def _on_manual_range(self, *_args) -> None:
        if not self._setting_range:
            self.set_follow(False)

