"""The live view's per-frame work (issue 14 §4): what a scrolling frame must not redo.

Each test drives the view's refresh by hand (its timer stopped) on the real small rig, and
renders it with ``grab()`` (a real paint), so the counts do not depend on the machine's speed.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from sensorlab.app.live.axis import LiveTimeAxis
from tests.app.conftest import scroll_live_view


def test_scrolling_axis_keeps_its_tick_spacing(qtbot, live_view):
    """The visible time axis moves every frame; its tick spacing is worked out again only when
    the window's length or the axis's width changes (it was, in every frame: ~2 ms)."""
    axis = live_view.time_panels[-1]._time_plots()[-1].getAxis("bottom")
    assert axis.isVisible()
    calls = []
    spacing = axis.tickSpacing
    axis.tickSpacing = lambda *a, **k: calls.append(a) or spacing(*a, **k)
    ranges = scroll_live_view(qtbot, live_view, 8)
    assert len(set(ranges)) >= 5, ranges  # it did scroll
    assert len(calls) <= 1


@pytest.mark.parametrize("span,width", [(10.0, 900.0), (5.0, 600.0), (2.0, 300.0), (60.0, 1200.0), (0.5, 800.0)])
def test_time_axis_ticks_are_pyqtgraphs(qtbot, span, width):
    """The live axis shows the same tick values per level as pyqtgraph's own axis."""
    live, ref = LiveTimeAxis(), pg.AxisItem("bottom")
    for x0 in (0.0, 123.456, 9876.5):
        for _ in range(2):  # the second call uses the kept spacing
            got = live.tickValues(x0, x0 + span, width)
        want = ref.tickValues(x0, x0 + span, width)
        assert [s for s, _ in got] == pytest.approx([s for s, _ in want])
        for (_, a), (_, b) in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9 * max(1.0, x0))


def test_follow_moves_every_plot_without_relinking(qtbot, live_view, monkeypatch):
    """While following, every time plot (the spectrogram and the wider events panel too) shows
    the newest window with its seconds in the master's pixel columns, and no
    plot re-derives the range from the master's screen geometry through pyqtgraph's links
    (that cost ~1 ms a frame for the same numbers)."""
    relinked = []
    original = pg.ViewBox.linkedViewChanged
    in_frame = [False]

    def counting(self, *args):
        if in_frame[0] and not self.linksBlocked:  # blocked: pyqtgraph returns at once
            relinked.append(self)
        return original(self, *args)

    # Counted while the view moves its plots (a frame's refresh): a plot resized in the event
    # loop between frames (its y axis' labels grew wider with new data; Qt lays out later,
    # and later still on a busy machine) is re-derived through the links once, rightly.
    refresh = live_view.refresh

    def frame():
        in_frame[0] = True
        try:
            refresh()
        finally:
            in_frame[0] = False

    monkeypatch.setattr(pg.ViewBox, "linkedViewChanged", counting)
    monkeypatch.setattr(live_view, "refresh", frame)
    scroll_live_view(qtbot, live_view, 4)
    x1 = max(p.newest for p in live_view.time_panels) - live_view.origin
    master = live_view.master_plot.getViewBox()
    assert master.viewRange()[0] == pytest.approx([x1 - live_view.history, x1], abs=1e-6)

    def screen_x(vb, x):  # where data x is on the screen
        (lo, hi), g = vb.viewRange()[0], vb.screenGeometry()
        return g.x() + (x - lo) / (hi - lo) * g.width()

    for panel in live_view.time_panels:
        for plot in panel._time_plots():
            for x in (x1 - live_view.history, x1):
                assert screen_x(plot.getViewBox(), x) == pytest.approx(screen_x(master, x), abs=0.5), panel.info.name
    assert relinked == [], f"{len(relinked)} plots re-derived their range through the links in a frame"
    # The links still work for the user: zooming one plot moves the others.
    monkeypatch.setattr(pg.ViewBox, "linkedViewChanged", original)
    live_view.set_follow(False)
    live_view.master_plot.setXRange(x1 - 2.0, x1, padding=0)
    last = live_view.time_panels[-1].plot.getViewBox()
    for x in (x1 - 2.0, x1):
        assert screen_x(last, x) == pytest.approx(screen_x(master, x), abs=0.5)


def test_prediction_banner_is_restyled_only_when_its_colour_changes(qtbot):
    """The banner follows every window (text, colour), but its style sheet, which re-polishes
    the label and lays the panel out again, is set only when the colour changes (it was set
    with every prediction, several times a second)."""
    from sensorlab.acquisition.buffers import ChunkRing
    from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
    from sensorlab.app.live.prediction_panel import SURE, UNSURE_COLOUR, PredictionPanel
    from sensorlab.inference.engine import PROBABILITY_UNIT

    info = StreamInfo("demo_pred", StreamKind.TIMESERIES, 10.0, ("background", "clap"), (PROBABILITY_UNIT,) * 2,
                      sample_shape=(2,), device="model demo.onnx")  # fmt: skip
    ring = ChunkRing(11.0)
    panel = PredictionPanel(info, ring, origin=0.0, window=10.0)
    qtbot.addWidget(panel)
    styles = []
    set_style = panel.banner.setStyleSheet
    panel.banner.setStyleSheet = lambda s: styles.append(s) or set_style(s)
    seen = []
    for k, p_clap in enumerate([0.9, 0.92, 0.95, 0.9, 0.55, 0.58, 0.52]):
        ring.append(Chunk(np.array([[1 - p_clap, p_clap]], dtype=np.float32), np.array([1.0 + 0.1 * k])))
        assert panel.refresh()
        seen.append((panel.banner.text(), SURE in panel.banner.styleSheet()))
    assert seen == [("clap  90 %", True), ("clap  92 %", True), ("clap  95 %", True), ("clap  90 %", True),
                    ("clap  55 %", False), ("clap  58 %", False), ("clap  52 %", False)]  # fmt: skip
    assert UNSURE_COLOUR in panel.banner.styleSheet()
    assert len(styles) == 2  # sure, then unsure


def test_legend_is_painted_from_its_cache_and_follows_hidden_channels(qtbot, live_view):
    """The legend does not change while the traces under it scroll: each of its items is
    kept as pixels (it was painted anew every frame, ~0.3 ms a plot). Hiding a channel still
    changes what the legend's corner shows."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QGraphicsItem

    from sensorlab.app.live.timeseries import _descendants

    imu = live_view.panels["imu"]
    qtbot.waitUntil(lambda: imu.legend.isVisible(), timeout=5000)
    items = _descendants(imu.legend)
    assert len(items) > 2 * len(imu.curves)  # a sample and a label per channel, and the legend
    assert all(i.cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache for i in items)
    sample = imu.legend.items[0][0]
    box = imu.graphics.mapFromScene(sample.sceneBoundingRect()).boundingRect()
    box = QRect(box.x(), box.y(), box.width(), box.height())

    def pixels():
        return imu.graphics.grab(box).toImage()

    before = pixels()
    imu.set_channel_visible(0, False)
    qtbot.waitUntil(lambda: pixels() != before, timeout=5000)


def test_image_time_stamp_changes_without_laying_the_panel_out(qtbot, live_view):
    """The camera's and the radar's "t = …" stamp changes with every image (30 and 20 times a
    second): a label of fixed size does so without asking its panel to lay itself out again."""
    from PySide6.QtCore import QEvent, QObject

    class Count(QObject):
        n = 0

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.LayoutRequest:
                self.n += 1
            return False

    cam = live_view.panels["cam"]
    qtbot.waitUntil(lambda: live_view.refresh() or cam.frames_shown > 0, timeout=10_000)
    counter = Count()
    cam.installEventFilter(counter)
    texts = set()
    for _ in range(5):
        shown = cam.frames_shown
        qtbot.waitUntil(lambda: live_view.refresh() or cam.frames_shown > shown, timeout=10_000)
        texts.add(cam.stamp.text())
        qtbot.wait(1)  # deliver posted events
    assert len(texts) == 5 and all(t.startswith("t = ") for t in texts)
    assert counter.n == 0


def test_following_scrolls_the_plots_without_pyqtgraphs_set_range(qtbot, live_view, monkeypatch):
    """While following, each frame moves every time plot's x range. pyqtgraph's `setRange`
    did it with limit, aspect and auto-range checks and four signals (~50 Python slots a
    frame): the view now sets the range and transform itself and emits only what the axes and
    overlays follow. The plots still show the newest window, the visible axis its ticks, and
    the marker layers their markers where they are."""
    # A plot's first range goes through setRange: a time plot's first frame (its auto range
    # is then off), and an image panel's first image, which its box fits once (the radar map,
    # 10 frames a second, may arrive only after the time plots' first frames on a busy
    # machine). So every panel gets its first data and is painted before the count.
    qtbot.waitUntil(lambda: live_view.refresh() or all(np.isfinite(p.newest) for p in live_view.panels.values()), timeout=10_000)
    scroll_live_view(qtbot, live_view, 2)
    calls = []
    original = pg.ViewBox.setRange

    def counting(self, rect=None, xRange=None, *a, **k):
        if rect is not None or xRange is not None:  # (autoscaling y still goes through it)
            calls.append(self)
        return original(self, rect, xRange, *a, **k)

    monkeypatch.setattr(pg.ViewBox, "setRange", counting)
    # A plot resized meanwhile (its y axis' labels grew wider with new data, which a busy
    # machine's larger chunks make likelier) is re-derived through pyqtgraph's links, rightly:
    # only a plot that was not resized must not go through setRange.
    resized = []
    for panel in live_view.time_panels:
        for plot in panel._time_plots():
            plot.getViewBox().sigResized.connect(resized.append)
    imu = live_view.panels["imu"]
    ranges = scroll_live_view(qtbot, live_view, 6)
    assert len(set(ranges)) >= 2  # it scrolled (a frame may bring new images only)
    assert [vb for vb in calls if vb not in resized] == []
    x1 = max(p.newest for p in live_view.time_panels) - live_view.origin
    for panel in live_view.time_panels:
        for plot in panel._time_plots():
            lo, hi = plot.getViewBox().viewRange()[0]
            assert hi - lo == pytest.approx(live_view.history, rel=0.2) and lo < x1 <= hi + 1e-6
    axis = live_view.time_panels[-1]._time_plots()[-1].getAxis("bottom")
    assert tuple(axis.range) == pytest.approx(live_view.time_panels[-1]._time_plots()[-1].getViewBox().viewRange()[0])
    # A marker is drawn where the scrolled range puts it.
    imu.add_marker(live_view.origin + x1 - 1.0, "here")
    layer = imu._marker_layer
    (lo, hi), width = imu.plot.getViewBox().viewRange()[0], layer.boundingRect().width()
    assert layer._visible()[-1][1] == pytest.approx((x1 - 1.0 - lo) / (hi - lo) * width + layer.boundingRect().left(), abs=0.5)


def test_time_plots_paint_without_saving_the_painter_state_and_look_the_same(qtbot, live_view):
    """Every item of a time plot sets the painter state it needs, so its view skips Qt's save
    and restore around each item (~40–90 items a view, every frame); what is drawn must not
    change (an item that left a pen, a font or a hint behind would show here)."""
    from PySide6.QtWidgets import QGraphicsView

    flag = QGraphicsView.OptimizationFlag.DontSavePainterState
    live_view.set_paused(True)  # the same frame for both renders
    for panel in live_view.time_panels:
        g = panel.graphics
        assert g.optimizationFlags() & flag, panel.info.name
        fast = g.grab().toImage()
        g.setOptimizationFlag(flag, False)
        safe = g.grab().toImage()
        g.setOptimizationFlag(flag, True)
        assert fast == safe, panel.info.name
