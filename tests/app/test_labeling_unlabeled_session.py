"""A session nobody has labeled yet (recorded with `sensorlab record` from a rig without live
labels) opens with a lane for the tier keys label in, so its first label can be dragged.

It opened with no lane at all: the docs' "drag on a lane to create a segment" had nowhere to
drag until a digit key had made a point label (and with it the tier)."""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.labeling.cli_commands import open_session_annotations
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.synthetic import T0, stop_writer
from sensorlab.session.writer import SessionWriter
from tests.app.test_labeling_view import drag


def unlabeled_session(path, seconds=20.0, rate=100.0):
    """A board's 3-channel IMU and nothing else: no live labels, no sidecar."""
    w = SessionWriter(path)
    w.on_start({"imu": StreamInfo("imu", StreamKind.TIMESERIES, rate, channel_names=("ax", "ay", "az"), dtype="float32",
                                  sample_shape=(3,))}, SessionMetadata(name="rig1").stamped_start(T0))  # fmt: skip
    t = T0 + np.arange(int(seconds * rate)) / rate
    w.on_chunk("imu", Chunk(np.stack([np.sin(t - T0)] * 3, axis=1).astype(np.float32), t))
    stop_writer(w, T0, T0 + seconds)
    return path


def test_an_unlabeled_session_has_a_lane_to_drag_the_first_label_on(open_view, tmp_path, qtbot):
    path = unlabeled_session(tmp_path / "rig1.h5")
    v = open_view(path)
    assert not v.annotations.tier_names  # nothing labeled yet
    lane = v.annotation_view.lanes.get(v.tier)
    assert lane is not None, f"no lane for the active tier {v.tier!r}: lanes {list(v.annotation_view.lanes)}"
    assert lane.plot.isVisible() and lane.plot.height() > 0

    tl = v.timeline
    tl.set_view(T0, T0 + 20)
    drag(qtbot, tl.viewport(), tl.x_to_pixel(lane.plot, T0 + 4.0), tl.x_to_pixel(lane.plot, T0 + 8.0))
    seg = v.annotations[v.annotation_view.selected]
    assert seg.tier == v.tier and seg.end - seg.start == pytest.approx(4.0, abs=0.1)
    assert seg.id in open_session_annotations(path)  # saved beside the session
    assert list(v.annotation_view.lanes) == [v.tier]  # the tier's first segment reuses the lane


def test_a_tier_typed_in_the_tier_box_gets_its_lane(open_view, tmp_path, qtbot):
    v = open_view(unlabeled_session(tmp_path / "rig1.h5"))
    box = v.tier_box
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "gait")
    assert "g" not in v.annotation_view.lanes  # no lane per keystroke
    box.lineEdit().editingFinished.emit()  # Enter, or focus leaving the box
    assert v.tier == "gait" and "gait" in v.annotation_view.lanes
