"""Every lane of the labeling timeline shows its stream's name, events lanes included."""

from __future__ import annotations

import json

import numpy as np
from PySide6.QtGui import QImage, QPainter

from sensorlab.acquisition.source import IRREGULAR, Chunk, StreamInfo, StreamKind
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.synthetic import T0, stop_writer
from sensorlab.session.writer import SessionWriter


def write_session(path):
    """Like the demo: an events stream sorted first (its lane is the top row, under the time
    ruler), a signal, and an events stream whose name is wider than the axis."""
    streams = {
        "clap_mcu": StreamInfo("clap_mcu", StreamKind.EVENTS, IRREGULAR, dtype="str"),
        "imu": StreamInfo("imu", StreamKind.TIMESERIES, 200.0, dtype="float32", sample_shape=(1,)),
        "clap_pred_events": StreamInfo("clap_pred_events", StreamKind.EVENTS, IRREGULAR, dtype="str"),
    }
    w = SessionWriter(path)
    w.on_start(streams, SessionMetadata(name="lanes").stamped_start(T0))
    t = T0 + np.arange(2000) / 200.0
    w.on_chunk("imu", Chunk(np.sin(t - T0).astype(np.float32)[:, None], t))
    ev = T0 + np.arange(0.5, 10.0, 1.0)
    for name in ("clap_mcu", "clap_pred_events"):
        w.on_chunk(name, Chunk(np.array([json.dumps({"label": "clap"})] * len(ev), dtype=object), ev))
    stop_writer(w, T0, T0 + 10.0)
    return path


def drawn_texts(axis) -> list[str]:
    """The tick texts the axis paints (pyqtgraph leaves out those that do not fit it)."""
    img = QImage(8, 8, QImage.Format.Format_ARGB32)
    p = QPainter(img)
    try:
        return [spec[2] for spec in axis.generateDrawSpecs(p)[2]]
    finally:
        p.end()


def test_events_lanes_show_their_names_and_have_room(open_view, tmp_path, qtbot):
    v = open_view(write_session(tmp_path / "lanes.h5"))
    events = {t.name: t for t in v.timeline.tracks if type(t).__name__ == "EventsTrack"}
    assert set(events) == {"clap_mcu", "clap_pred_events"}
    # The top lane shares its row with the time ruler: it must still get its own height.
    qtbot.waitUntil(lambda: events["clap_mcu"].viewbox.height() >= 20, timeout=10_000)
    assert events["clap_pred_events"].viewbox.height() >= 20
    for name, track in events.items():
        axis = track.plot.getAxis("left")
        texts = drawn_texts(axis)
        # The whole name, broken into two lines where it is wider than the axis.
        assert [s.replace("\n", "") for s in texts] == [name], (name, texts)
        assert axis.toolTip() == name
