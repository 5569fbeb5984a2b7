"""`TimeseriesPanel`: a multi-channel time series, min/max-decimated, one polyline per channel,
with per-channel show/hide and an autoscaled or fixed y axis."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QGraphicsItem, QMenu, QToolButton

from sensorlab.app.live.buffers import PeakEnvelope, pull_since
from sensorlab.app.live.panel import PALETTE, Panel
from sensorlab.app.live.traces import Trace, TraceGroup

#: Min/max pairs per curve in a window before the plot has a width (then one pair per pixel
#: column at most, `Panel._fit_envelope`).
TARGET_BINS = 700

#: A legend is shown when the plot is at least this many times its height.
LEGEND_ROOM = 3.0


def _descendants(item: QGraphicsItem) -> list[QGraphicsItem]:
    """``item`` and every item under it."""
    out = [item]
    for child in item.childItems():
        out += _descendants(child)
    return out


class TimeseriesPanel(Panel):
    """Multi-channel time series: per-channel show/hide, autoscale or fixed y range."""

    time_axis = True
    autoscale_changed = Signal(bool)

    def __init__(self, info, ring, origin, window, parent=None):
        super().__init__(info, ring, origin, window, parent)
        n_ch = max(1, info.channel_count)
        rate = info.nominal_rate if info.regular else 100.0
        self._rate = rate
        self._base_block = max(1, int(rate * window / TARGET_BINS))
        self.envelope = PeakEnvelope(self._base_block, int(rate * window * 1.05) + 16, n_ch)
        self.graphics = self._time_graphics()
        self.plot = self._new_plot(self.graphics)
        names = list(info.channel_names) or [f"ch{i}" for i in range(n_ch)]
        units = list(info.units)
        # A legend names the channels by colour (several rows for many channels, e.g. EEG).
        self.legend = self.plot.addLegend(offset=(-4, 2), colCount=min(n_ch, 8), labelTextSize="8pt",
                                          brush=pg.mkBrush(20, 22, 26, 170), verSpacing=-6, horSpacing=8)  # fmt: skip
        self.curves: list[Trace] = []
        # Each channel decimated by PeakEnvelope and drawn as one polyline (`Trace`); all of
        # them painted by one item (`TraceGroup`).
        self.traces = TraceGroup()
        self.plot.addItem(self.traces)
        for i in range(n_ch):
            curve = self.traces.add(Trace(pg.mkPen(PALETTE[i % len(PALETTE)], width=1), name=names[i] if i < len(names) else f"ch{i}"))
            self.legend.addItem(curve, curve.name())
            self.curves.append(curve)
        # The legend stays put while the traces under it move, yet it was painted anew with
        # every frame (a text item and a sample per channel, ~0.3 ms a plot): each of its
        # items keeps its pixels in a cache and is painted again only when it changes.
        for item in _descendants(self.legend):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
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

    @property
    def buffer(self):
        """The display buffer the curves draw (the envelope's: replaced when it is rebinned)."""
        return self.envelope.buffer

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
        self.traces.changed()
        for sample, _label in self.legend.items:  # its cached sample shows the channel hidden or not
            if sample.item is curve:
                sample.update()

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
        # ``v`` is (channels, rows): before the first min/max block is complete (a first chunk
        # shorter than a block) it has channels but no rows, and nothing to scale to yet.
        if v.size == 0 or not visible:
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
        pulled = pull_since(self.ring, self.newest)
        if pulled is None:
            return False
        times, raw = pulled
        data = np.asarray(raw, dtype=np.float32).reshape(len(times), -1)
        self._fit_envelope(self.envelope, self._rate, self._base_block)
        self.envelope.add(times, data)
        self.newest = float(times[-1])
        t, v = self._envelope_view(self.buffer)
        self.traces.set_rows(t - self.origin, v)  # the shown curves (`_show_channel` updates one when shown)
        self._ticks += 1
        if self.autoscale.isChecked() and (self._ticks % 8 == 1 or self._y_range is None):
            self._rescale()
        return True
