"""Following the time axis after the view's layout changed (issue 14 §4, eleventh round).

The view works out once where each time plot's pixel columns lie against the master plot's
and reuses that every frame; it must work it out again when a plot is resized (the window,
the splitter, a panel added), or the plots' seconds would no longer line up. And the
transform each plot gets while following must map data to the pixels pyqtgraph's own
`updateMatrix` would, so every trace and marker is drawn where its samples are.
"""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.app.live.view import LiveView


@pytest.fixture
def view(qtbot, fake_acquisition):
    v = LiveView(fake_acquisition, window=5.0)
    qtbot.addWidget(v)
    v.timer.stop()  # frames are driven by the test
    v.resize(1000, 800)
    v.show()
    qtbot.waitUntil(lambda: v.refresh() or all(np.isfinite(p.newest) for p in v.time_panels), timeout=20_000)
    yield v
    v.shutdown()


def _scroll(qtbot, view, frames: int) -> None:
    for _ in range(frames):
        newest = max(p.newest for p in view.time_panels)
        qtbot.waitUntil(lambda: any(r.snapshot() is not None and r.snapshot().timestamps[-1] > newest for r in view._rings.values()), timeout=10_000)
        view.refresh()
        view.grab()


def _screen_x(vb, x: float) -> float:
    (lo, hi), g = vb.viewRange()[0], vb.screenGeometry()
    return g.x() + (x - lo) / (hi - lo) * g.width()


def _assert_lined_up(view) -> None:
    x1 = max(p.newest for p in view.time_panels) - view.origin
    master = view.master_plot.getViewBox()
    for panel in view.time_panels:
        for plot in panel._time_plots():
            for x in (x1 - view.history, x1 - 1.0, x1):
                assert _screen_x(plot.getViewBox(), x) == pytest.approx(_screen_x(master, x), abs=0.5), panel.info.name


def test_plots_stay_lined_up_after_the_window_is_resized(qtbot, view):
    _scroll(qtbot, view, 3)
    _assert_lined_up(view)
    widths = {p.info.name: p.plot.getViewBox().width() for p in view.time_panels}
    view.resize(700, 800)
    qtbot.waitUntil(lambda: view.master_plot.getViewBox().width() < 0.9 * widths[view.time_panels[0].info.name], timeout=5_000)
    _scroll(qtbot, view, 3)
    _assert_lined_up(view)  # the events panel (no y axis, wider) too


def test_following_maps_data_to_the_pixels_pyqtgraph_would(qtbot, view):
    """The transform set while scrolling is pyqtgraph's `updateMatrix` for the same range."""
    _scroll(qtbot, view, 3)
    for panel in view.time_panels:
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


def test_traces_are_drawn_where_their_samples_are_after_scrolling(qtbot, view):
    """The traces no longer listen to the plot's range signals: what they draw still moves
    with the axis (each IMU curve's newest point is where the scrolled range puts it)."""
    _scroll(qtbot, view, 4)
    imu = view.panels["imu"]
    vb = imu.plot.getViewBox()
    (lo, hi), _ = vb.viewRange()
    for curve in imu.curves:
        x, y = curve.getOriginalDataset()
        scene = vb.childGroup.mapToScene(float(x[-1]), float(y[-1]))
        px = vb.mapFromScene(scene).x()
        assert px == pytest.approx((x[-1] - lo) / (hi - lo) * vb.width(), abs=0.5)
        assert 0 <= px <= vb.width() + 0.5  # on the plot while following
