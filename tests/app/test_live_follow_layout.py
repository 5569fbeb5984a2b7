"""Following the time axis after the view's layout changed (issue 14 §4, eleventh round).

The view works out once where each time plot's pixel columns lie against the master plot's
and reuses that every frame; it must work it out again when a plot is resized (the window,
the splitter, a panel added), or the plots' seconds would no longer line up. And the
transform each plot gets while following must map data to the pixels pyqtgraph's own
`updateMatrix` would, so every trace and marker is drawn where its samples are.
"""

from __future__ import annotations

import pytest

from tests.app.conftest import scroll_live_view


def _screen_x(vb, x: float) -> float:
    (lo, hi), g = vb.viewRange()[0], vb.screenGeometry()
    return g.x() + (x - lo) / (hi - lo) * g.width()


def _assert_lined_up(live_view) -> None:
    x1 = max(p.newest for p in live_view.time_panels) - live_view.origin
    master = live_view.master_plot.getViewBox()
    for panel in live_view.time_panels:
        for plot in panel._time_plots():
            for x in (x1 - live_view.history, x1 - 1.0, x1):
                assert _screen_x(plot.getViewBox(), x) == pytest.approx(_screen_x(master, x), abs=0.5), panel.info.name


def test_plots_stay_lined_up_after_the_window_is_resized(qtbot, live_view):
    scroll_live_view(qtbot, live_view, 3)
    _assert_lined_up(live_view)
    widths = {p.info.name: p.plot.getViewBox().width() for p in live_view.time_panels}
    live_view.resize(700, 800)
    qtbot.waitUntil(lambda: live_view.master_plot.getViewBox().width() < 0.9 * widths[live_view.time_panels[0].info.name], timeout=5_000)
    scroll_live_view(qtbot, live_view, 3)
    _assert_lined_up(live_view)  # the events panel (no y axis, wider) too


def test_following_maps_data_to_the_pixels_pyqtgraph_would(qtbot, live_view):
    """The transform set while scrolling is pyqtgraph's `updateMatrix` for the same range."""
    scroll_live_view(qtbot, live_view, 3)
    for panel in live_view.time_panels:
        for plot in panel._time_plots():
            vb = plot.getViewBox()
            fast = vb.childGroup.transform()
            vb._matrixNeedsUpdate = True
            vb.updateMatrix()  # pyqtgraph's own, for the range the view set
            ref = vb.childGroup.transform()
            (lo, hi), (y0, y1) = vb.viewRange()
            for x, y in ((lo, y0), (hi, y1), (0.5 * (lo + hi), 0.25 * y0 + 0.75 * y1)):
                a, b = fast.map(x, y), ref.map(x, y)
                assert a[0] == pytest.approx(b[0], abs=1e-3) and a[1] == pytest.approx(b[1], abs=1e-3), panel.info.name


def test_traces_are_drawn_where_their_samples_are_after_scrolling(qtbot, live_view):
    """The traces no longer listen to the plot's range signals: what they draw still moves
    with the axis (each IMU curve's newest point is where the scrolled range puts it)."""
    scroll_live_view(qtbot, live_view, 4)
    imu = live_view.panels["imu"]
    vb = imu.plot.getViewBox()
    (lo, hi), _ = vb.viewRange()
    for curve in imu.curves:
        x, y = curve.getOriginalDataset()
        scene = vb.childGroup.mapToScene(float(x[-1]), float(y[-1]))
        px = vb.mapFromScene(scene).x()
        assert px == pytest.approx((x[-1] - lo) / (hi - lo) * vb.width(), abs=0.5)
        assert 0 <= px <= vb.width() + 0.5  # on the plot while following
