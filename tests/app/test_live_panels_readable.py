"""Live plots a new user can read: units on y axes, a channel legend, a radar map with axes and a
colour scale, marker texts that do not overprint, and one clock for the video overlay and the axis.

Uses the demo's own emulated devices (a text-protocol wrist IMU and a binary radar on real
pseudo-terminals, the emulated camera), as the studio does.
"""

from __future__ import annotations

import pytest

from sensorlab.acquisition.emulated.world import shared_world
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.rig import EmulatedConfig, RigConfig
from sensorlab.app.live.panels import EventsPanel, ImagePanel, TimeseriesPanel
from sensorlab.app.live.view import LiveView
from tests.app.rendered import shown, shown_events_panel


@pytest.fixture
def demo_parts():
    rig = RigConfig(emulated=[EmulatedConfig(device="imu-text"), EmulatedConfig(device="radar"), EmulatedConfig(device="camera", rate=10)])
    acq = Acquisition(rig.build_sources())
    acq.open()
    acq.start()
    yield acq
    acq.close()


def test_axes_units_legend_and_colour_scale(qtbot, demo_parts):
    view = LiveView(demo_parts, window=5.0)
    qtbot.addWidget(view)
    wrist = view.panels["wrist"]
    assert isinstance(wrist, TimeseriesPanel)
    assert wrist.plot.getAxis("left").labelText == "g · deg/s"
    assert [label.text for _sample, label in wrist.legend.items] == ["ax", "ay", "az", "gx", "gy", "gz"]
    radar = view.panels["radar"]
    assert isinstance(radar, ImagePanel) and radar.color_bar is not None
    assert radar.map_plot.getAxis("left").labelText == "row (bin)"
    assert radar.map_plot.getAxis("bottom").labelText == "column (bin)"
    qtbot.waitUntil(lambda: radar.frames_shown > 2, timeout=10_000)
    # The colour scale shows the levels the map is drawn with (it follows them in steps of
    # 5 % of their span: redrawing the bar every frame repainted its four axes).
    # The panel colours the map itself at its levels (test_live_markers_drawn checks the pixels).
    lo, hi = radar._levels
    assert radar.color_bar.levels() == pytest.approx((lo, hi), abs=radar.BAR_STEP * (hi - lo) * 1.01)
    view.shutdown()


def test_a_legend_that_would_cover_a_short_plot_is_hidden(qtbot, demo_parts):
    # With the demo's nine streams stacked, the EEG's two rows of 8 names covered its whole plot.
    view = LiveView(demo_parts, window=5.0)
    qtbot.addWidget(view)
    wrist = view.panels["wrist"]
    box = wrist.plot.getViewBox()
    view.resize(1000, 900)
    view.show()
    qtbot.waitUntil(lambda: box.height() > 150, timeout=5_000)
    assert wrist.legend.isVisible()
    view.resize(1000, 200)
    qtbot.waitUntil(lambda: box.height() < 3 * wrist.legend.boundingRect().height(), timeout=5_000)
    assert not wrist.legend.isVisible()
    view.resize(1000, 900)
    qtbot.waitUntil(lambda: wrist.legend.isVisible(), timeout=5_000)
    view.shutdown()


def _texts_apart_and_inside(layer) -> list[str]:
    rects = layer.text_rects()
    plot = layer.boundingRect()
    for i, (_m, a) in enumerate(rects):
        assert plot.top() <= a.top() and a.bottom() <= plot.bottom() + 1  # not cut by the plot's edge
        for _n, b in rects[i + 1 :]:
            assert not a.intersects(b), f"{_m.text!r} overprints {_n.text!r}"
    return [m.text for m, _r in rects]


def test_marker_texts_close_in_time_do_not_overprint(qtbot, demo_parts):
    view = shown(qtbot, LiveView(demo_parts, window=10.0), 1200, 800)
    top = view.time_panels[0]
    t = view.origin + 100.0
    top.plot.setXRange(99.0, 109.0, padding=0)
    for i, text in enumerate(["▶speech", "clap", "■speech", "walk"]):
        top.add_marker(t + 0.2 * i, text)
    top.add_marker(t + 9.0, "far")
    assert _texts_apart_and_inside(top._marker_layer)[-1] == "far"
    view.shutdown()


def test_event_texts_in_the_small_events_panel_do_not_overprint(qtbot):
    """The model's events ("clap start", "clap stop" 0.3 s apart) in the 70 px events panel
    printed over each other ("clap startclap stop")."""
    import numpy as np

    from sensorlab.acquisition.buffers import ChunkRing
    from sensorlab.acquisition.source import Chunk

    ring = ChunkRing(seconds=30.0)
    panel = shown_events_panel(qtbot, ring, "clap_pred_events", width=560)
    times = [1.0, 1.3, 3.0, 3.2, 5.0, 5.4]
    texts = ["clap start", "clap stop"] * 3
    ring.append(Chunk(np.array(texts, dtype=object), np.array(times)))
    assert panel.refresh() and panel.count == 6
    shown = _texts_apart_and_inside(panel._marker_layer)
    assert shown[:2] == ["clap start", "clap stop"]  # the first pair both readable


def test_the_demo_video_clock_reads_the_time_axis(qtbot, demo_parts):
    view = LiveView(demo_parts, window=5.0)
    qtbot.addWidget(view)
    # The burned-in clock prints frame time - world.t0; the panel prints frame time - origin.
    assert view.origin == shared_world().t0
    cam = view.panels["camera"]
    qtbot.waitUntil(lambda: cam.frames_shown > 0, timeout=10_000)
    assert cam.stamp.text() == f"t = {cam.newest - shared_world().t0:8.3f} s"
    view.shutdown()


def test_the_events_panel_under_the_time_axis_shows_a_start_and_its_stop(qtbot, fake_acquisition):
    """The lowest panel also carries the time axis; the events panel's plot was then one text
    line high and every "clap stop" 0.3 s after its "clap start" was left out."""
    view = shown(qtbot, LiveView(fake_acquisition, window=10.0), 1200, 800)
    events = view.panels["markers"]
    assert isinstance(events, EventsPanel) and events is view.time_panels[-1]
    view.set_paused(True)  # the range stays where the test puts it
    events.plot.setXRange(100.0, 110.0, padding=0)
    events.add_marker(view.origin + 101.0, "clap start")
    events.add_marker(view.origin + 101.3, "clap stop")
    qtbot.waitUntil(lambda: events._marker_layer.boundingRect().height() > 0, timeout=10_000)
    assert _texts_apart_and_inside(events._marker_layer)[-2:] == ["clap start", "clap stop"]
    view.shutdown()
