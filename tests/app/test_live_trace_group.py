"""A time series panel's channels are painted by one item (`TraceGroup`) instead of one item
each: every channel is still drawn at its values in its own colour, and a channel hidden from
the Channels menu (or the legend) disappears from the plot and comes back when shown."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.app.live.panel import PALETTE
from sensorlab.app.live.timeseries import TimeseriesPanel
from tests.app.rendered import pixels_with, shown

LEVELS = (-2.0, 0.0, 2.0)  # each channel a flat line at its own value


def _panel(qtbot) -> TimeseriesPanel:
    info = StreamInfo("imu", StreamKind.TIMESERIES, 100.0, ("a", "b", "c"), ("g",) * 3, sample_shape=(3,))
    ring = ChunkRing(seconds=11.0)
    panel = shown(qtbot, TimeseriesPanel(info, ring, 0.0, window=10.0), 700, 300)
    t = np.arange(1, 900) / 100.0
    ring.append(Chunk(np.tile(np.array(LEVELS, dtype=np.float32), (len(t), 1)), t))
    assert panel.refresh()
    panel.set_autoscale(False)
    panel.plot.setXRange(0.0, 10.0, padding=0)
    panel.plot.setYRange(-3.0, 3.0, padding=0)
    return panel


def _drawn(panel, channel: int) -> int:
    """Pixels in the channel's colour on a band around its line, between x = 2 and 8 s (clear of
    the legend)."""
    vb = panel.plot.getViewBox()
    a = panel.graphics.mapFromScene(vb.mapViewToScene(QPointF(2.0, LEVELS[channel] + 0.3)))
    b = panel.graphics.mapFromScene(vb.mapViewToScene(QPointF(8.0, LEVELS[channel] - 0.3)))
    return pixels_with(panel.graphics.grab().toImage(), QRectF(a.x(), a.y(), b.x() - a.x(), b.y() - a.y()), PALETTE[channel])


def test_every_channel_is_drawn_at_its_value_in_its_colour(qtbot):
    panel = _panel(qtbot)
    assert panel.plot.getViewBox().addedItems == [panel.traces]  # one item paints the channels
    qtbot.waitUntil(lambda: all(_drawn(panel, ch) > 200 for ch in range(3)), timeout=5_000)


def test_a_hidden_channel_leaves_the_plot_and_comes_back(qtbot):
    panel = _panel(qtbot)
    qtbot.waitUntil(lambda: _drawn(panel, 1) > 200, timeout=5_000)
    panel.set_channel_visible(1, False)
    qtbot.waitUntil(lambda: _drawn(panel, 1) == 0, timeout=5_000)
    assert _drawn(panel, 0) > 200 and _drawn(panel, 2) > 200
    panel.set_channel_visible(1, True)
    qtbot.waitUntil(lambda: _drawn(panel, 1) > 200, timeout=5_000)
    # The legend's sample toggles the channel too (it calls setVisible on the trace).
    panel.curves[1].setVisible(False)
    qtbot.waitUntil(lambda: _drawn(panel, 1) == 0, timeout=5_000)


def test_a_frames_rows_draw_what_each_channels_own_data_draws(qtbot):
    """A panel hands its channels a frame's data in one call (`TraceGroup.set_rows`): the plot,
    bounds included (Qt skips what lies outside them), is the one each channel's own
    ``setData`` draws; a channel hidden meanwhile keeps its old data and, shown again, draws
    the new."""
    panel = _panel(qtbot)
    panel.set_channel_visible(1, False)
    t = np.arange(900, 950) / 100.0
    ring_levels = np.array([2.8, -1.0, -2.9], dtype=np.float32)  # past the earlier extremes
    panel.ring.append(Chunk(np.tile(ring_levels, (len(t), 1)), t))
    assert panel.refresh()
    hidden_x, _ = panel.curves[1].getOriginalDataset()
    assert hidden_x[-1] < 9.0  # not handed the frame's rows
    rect = panel.traces.boundingRect()
    assert rect.top() < -2.9 and rect.bottom() > 2.8
    fast = panel.graphics.grab().toImage()
    for curve in panel.curves:
        if curve.isVisible():
            x, y = curve.getOriginalDataset()
            curve.setData(x.copy(), y.copy())
    panel.traces.changed()
    assert panel.traces.boundingRect() == rect
    assert panel.graphics.grab().toImage() == fast
    panel.set_channel_visible(1, True)
    x, y = panel.curves[1].getOriginalDataset()
    assert x[-1] > 9.4 and y[-1] == -1.0
