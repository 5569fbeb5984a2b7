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
from sensorlab.app.live_panels import MARKER_SLOTS, ImagePanel, TimeseriesPanel
from sensorlab.app.live_view import LiveView


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
    lo, hi = radar.image.getLevels()
    assert radar.color_bar.levels() == pytest.approx((lo, hi), abs=radar.BAR_STEP * (hi - lo) * 1.01)
    view.shutdown()


def test_marker_texts_close_in_time_take_different_heights(qtbot, demo_parts):
    view = LiveView(demo_parts, window=10.0)
    qtbot.addWidget(view)
    top = view.time_panels[0]
    t = view.origin + 100.0
    for i, text in enumerate(["▶speech", "clap", "■speech", "walk"]):
        top.add_marker(t + 0.2 * i, text)
    top.add_marker(t + 9.0, "far")  # far from the others: back to the top slot
    heights = [m.height for m in top.markers]
    assert heights[:4] == list(MARKER_SLOTS)
    assert heights[4] == MARKER_SLOTS[0]
    view.shutdown()


def test_the_demo_video_clock_reads_the_time_axis(qtbot, demo_parts):
    view = LiveView(demo_parts, window=5.0)
    qtbot.addWidget(view)
    # The burned-in clock prints frame time - world.t0; the panel prints frame time - origin.
    assert view.origin == shared_world().t0
    cam = view.panels["camera"]
    qtbot.waitUntil(lambda: cam.frames_shown > 0, timeout=10_000)
    assert cam.stamp.text() == f"t = {cam.newest - shared_world().t0:8.3f} s"
    view.shutdown()
