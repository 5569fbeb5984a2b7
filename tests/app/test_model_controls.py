"""A model loaded from the studio's menu is tuned, renamed, unloaded and mapped again from its
panel's Model ▾ — while it runs, keeping what it drew (and recorded) so far.

Found on a new-user walk: smoothing, the event threshold and the name could only be set in a
rig file, and a loaded model could be neither removed nor mapped again. Real studio window,
real onnxruntime (models from `tests/inference/onnx_models.py`), real HDF5 for the recording.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx_models import mean_model, write_mapping  # noqa: E402

HOP = 0.1


def _load(qtbot, w, tmp_path, name="motion"):
    """A two-class model (softmax of the window means of imu's ch0, ch1) loaded from the menu path."""
    from sensorlab.app.live.prediction_panel import PredictionPanel

    model = mean_model(tmp_path / f"{name}.onnx", channels=2)
    write_mapping(model, stream="imu", channels=["ch0", "ch1"], window=0.2, hop=HOP, scores_kind="logits", labels=["still", "moving"])
    stream = f"{name}_pred"
    assert w.load_model(model) == (stream,)
    qtbot.waitUntil(lambda: isinstance(w.live_view.panels.get(stream), PredictionPanel), timeout=20_000)
    return model, stream, w.live_view.panels[stream]


def _drawn(panel, k=1):
    """Host times and values of class ``k`` as the panel's trace draws them."""
    x, y = panel.curves[k].getOriginalDataset()
    if x is None:  # nothing drawn yet
        return np.empty(0), np.empty(0)
    return np.asarray(x) + panel.origin, np.asarray(y)


def test_smoothing_set_in_the_panel_redraws_the_trace_as_a_moving_average_and_keeps_the_history(qtbot, make_window, tmp_path):
    w = make_window()
    _model, stream, panel = _load(qtbot, w, tmp_path)
    proc = w.studio.running_model(stream)
    raw: list[tuple[np.ndarray, np.ndarray]] = []  # what the model said, window by window, unsmoothed
    proc.taps.append(lambda starts, ends, x, probs: raw.append((ends.copy(), np.asarray(probs, np.float64).copy())))
    qtbot.waitUntil(lambda: len(raw) >= 6 and len(_drawn(panel)[0]) >= 6, timeout=20_000)
    panel.model_actions["settings"].trigger()
    dialog = w.model_dialog
    dialog.smoothing.setCurrentText("moving average")
    dialog.windows.setValue(4)
    before_t, before_y = _drawn(panel)
    dialog.apply_button.click()
    assert dialog.problem.text() == ""
    assert w.studio.model_settings(stream).smooth == 4
    changed_at = float(raw[-1][0][-1])  # no window after this one was drawn unsmoothed... (checked below on the later ones)
    qtbot.waitUntil(lambda: sum(1 for t in _drawn(panel)[0] if t > changed_at) >= 10, timeout=30_000)
    ends = np.concatenate([e for e, _ in raw])
    probs = np.concatenate([p for _, p in raw])
    t, y = _drawn(panel)
    # The history drawn before the change is still there, as it was drawn.
    kept = np.isin(t, before_t)
    assert kept.sum() >= len(before_t) - 2 and np.allclose(y[kept], before_y[np.isin(before_t, t)])
    # The newest windows are drawn as the mean of the last 4 windows the model made.
    late = np.flatnonzero(t > changed_at)[4:]
    idx = np.searchsorted(ends, t[late])
    assert np.allclose(ends[idx], t[late])
    expected = np.array([probs[i - 3 : i + 1, 1].mean() for i in idx])
    np.testing.assert_allclose(y[late], expected, atol=1e-5)
    assert np.abs(y[late] - probs[idx, 1]).max() > 1e-3  # smoothing is visible: not the raw values


def test_a_threshold_set_in_the_panel_gives_the_model_events_shown_on_the_time_axis(qtbot, make_window, tmp_path):
    from sensorlab.app.live.events import EventsPanel

    w = make_window()
    _model, stream, panel = _load(qtbot, w, tmp_path)
    assert f"{stream}_events" not in w.studio.streams  # loaded from the menu: no events
    panel.model_actions["settings"].trigger()
    dialog = w.model_dialog
    dialog.event_class.setCurrentText("moving")
    dialog.threshold.setValue(1.0)  # never exceeded: no event yet
    dialog.release.setValue(0.5)
    dialog.apply_button.click()
    assert dialog.problem.text() == ""
    events = f"{stream}_events"
    qtbot.waitUntil(lambda: isinstance(w.live_view.panels.get(events), EventsPanel), timeout=10_000)
    ev_panel = w.live_view.panels[events]
    windows = w.studio.stats[stream].windows
    qtbot.waitUntil(lambda: w.studio.stats[stream].windows >= windows + 5, timeout=20_000)
    qtbot.wait(300)  # a frame or two
    assert ev_panel.count == 0
    # Lower it: P(moving) is above 0 in every window, so a start comes with the next window.
    dialog.threshold.setValue(0.0)
    dialog.release.setValue(0.0)
    dialog.apply_button.click()
    assert dialog.problem.text() == ""
    qtbot.waitUntil(lambda: any(m.text == "moving start" for m in ev_panel.markers), timeout=20_000)
    # A release above the threshold is refused in words naming the fix, and nothing changes.
    dialog.release.setValue(0.9)
    dialog.threshold.setValue(0.5)
    dialog.apply_button.click()
    assert "the release (0.9, stop below) must be from 0 to the threshold (0.5, start above); lower it" in dialog.problem.text()
    assert w.studio.model_settings(stream).threshold == 0.0


def test_renaming_keeps_the_panel_and_its_history_and_the_rig_saves_the_settings(qtbot, make_window, tmp_path):
    from sensorlab.acquisition.rig import EmulatedConfig, RigConfig, parse_rig

    w = make_window()
    w.rig_text = RigConfig(emulated=[EmulatedConfig(device="imu-binary", name="imu")]).to_toml(defaults=True)
    model, stream, panel = _load(qtbot, w, tmp_path)
    qtbot.waitUntil(lambda: len(_drawn(panel)[0]) >= 5, timeout=20_000)
    first = _drawn(panel)[0][0]
    panel.model_actions["settings"].trigger()
    dialog = w.model_dialog
    dialog.name.setText("gesture")
    dialog.smoothing.setCurrentText("moving average")
    dialog.windows.setValue(3)
    dialog.event_class.setCurrentText("moving")
    dialog.threshold.setValue(0.7)
    dialog.release.setValue(0.4)
    dialog.accept()
    assert dialog.problem.text() == "" and not dialog.isVisible()
    assert "gesture" in w.studio.streams and stream not in w.studio.streams
    assert w.live_view.panels["gesture"] is panel and stream not in w.live_view.panels
    assert "<b>gesture</b>" in panel.title.text()
    n = len(_drawn(panel)[0])
    qtbot.waitUntil(lambda: len(_drawn(panel)[0]) >= n + 3, timeout=20_000)
    assert _drawn(panel)[0][0] == first  # drawn on, not started again
    # The rig the user saves (Devices… → Save rig…) and recordings store runs it as set.
    entry = [p for p in parse_rig(w.rig_text).processor if p.kind == "model"]
    assert len(entry) == 1
    e = entry[0]
    assert (Path(e.path), e.name, e.smooth, e.event_label, e.threshold, e.release) == (model.resolve(), "gesture", 3, "moving", 0.7, 0.4)


def test_unloading_while_recording_removes_the_panel_and_the_file_keeps_the_predictions(qtbot, make_window, tmp_path):
    from sensorlab.session.reader import Session

    w = make_window()
    _model, stream, panel = _load(qtbot, w, tmp_path)
    path = w.studio.start_recording(tmp_path / "run.h5")
    qtbot.waitUntil(lambda: w.studio.counters().get(stream) is not None and w.studio.counters()[stream].samples >= 5, timeout=20_000)
    panel.model_actions["unload"].trigger()
    assert stream not in w.studio.streams
    made = w.studio.counters()[stream].samples  # every window it made (it is stopped)
    qtbot.waitUntil(lambda: stream not in w.live_view.panels, timeout=5_000)
    assert panel not in w.live_view.findChildren(type(panel))
    imu = w.studio.stats["imu"].last_time
    qtbot.waitUntil(lambda: w.studio.stats["imu"].last_time > imu + 0.5, timeout=10_000)  # the rig records on
    w.studio.stop_recording()
    with Session.open(path) as s:
        r = s.streams[stream]
        ts = r.read_index().timestamps
        assert len(ts) == made >= 5
        assert r.error == "" and r.stopped_at == pytest.approx(ts[-1])
        assert s.streams["imu"].read_index().timestamps[-1] > ts[-1] + 0.4
        assert any(e["stream"] == stream and "ended" in e["message"] for e in s.log)


def test_map_again_opens_the_running_mapping_and_replaces_the_model_in_place(qtbot, make_window, tmp_path):
    from sensorlab.app.live.events import EventsPanel

    w = make_window()
    model, stream, panel = _load(qtbot, w, tmp_path)
    w.studio.tune_model(stream, event_label="moving", threshold=0.9, release=0.5)
    events = f"{stream}_events"
    qtbot.waitUntil(lambda: isinstance(w.live_view.panels.get(events), EventsPanel), timeout=10_000)
    column = w.live_view._time_col
    index = column.indexOf(panel)
    assert column.indexOf(w.live_view.panels[events]) == index + 1 == column.count() - 1
    panel.model_actions["remap"].trigger()
    dialog = w.model_dialog
    assert (dialog.stream.currentText(), dialog.window.value(), dialog.hop.value(), dialog.labels.text()) == ("imu", 0.2, HOP, "still, moving")
    dialog.hop.setValue(0.05)
    dialog.accept()
    qtbot.waitUntil(lambda: stream in w.live_view.panels and w.live_view.panels[stream] is not panel and events in w.live_view.panels, timeout=20_000)
    new, new_events = w.live_view.panels[stream], w.live_view.panels[events]
    assert (column.indexOf(new), column.indexOf(new_events)) == (index, index + 1)  # in their places, in their order
    assert w.live_view.time_panels[-1] is new_events  # the time axis under the lowest
    assert w.studio.streams[stream].nominal_rate == pytest.approx(20.0) and w.studio.streams[stream].channel_names == ("still", "moving")
    assert w.studio.model_settings(stream).threshold == 0.9  # its settings kept
    qtbot.waitUntil(lambda: new.top is not None, timeout=20_000)
    assert json.loads(model.with_name("motion.mapping.json").read_text())["hop"] == 0.05  # saved for the next load


def test_windows_the_engine_skipped_break_the_drawn_trace(qtbot, make_window, tmp_path):
    """Chunks of 0.2 s and a hop of 0.05 s: four windows are ready at each wake-up, and with a
    tiny ``stale_after`` the engine runs only the newest. The trace joined the kept windows with
    straight lines across the three it never made."""
    from sensorlab.acquisition.emulated.signal import SignalSource
    from sensorlab.app.live.prediction_panel import PredictionPanel

    w = make_window([SignalSource("imu", "timeseries", rate=500, shape=(2,), chunk_size=100, pattern="sine")])
    model = mean_model(tmp_path / "motion.onnx", channels=2)
    write_mapping(model, stream="imu", channels=["ch0", "ch1"], window=0.1, hop=0.05, scores_kind="logits", labels=["still", "moving"])
    (stream,) = w.studio.load_model(model, stale_after=0.001)
    qtbot.waitUntil(lambda: isinstance(w.live_view.panels.get(stream), PredictionPanel), timeout=20_000)
    panel = w.live_view.panels[stream]
    qtbot.waitUntil(lambda: w.studio.stats[stream].skipped >= 6 and len(_drawn(panel)[0]) >= 4, timeout=30_000)
    t, _y = _drawn(panel)
    steps = np.diff(t)
    assert steps.max() > 0.15  # windows are missing between drawn ones
    curve = panel.curves[1]
    pieces = [np.array([[p.x(), p.y()] for p in poly]) for poly in curve._pieces]
    assert len(pieces) >= 2, "one straight polyline across the skipped windows"
    for piece in pieces:  # no segment of the drawn line spans a missing window
        assert len(piece) < 2 or np.diff(piece[:, 0]).max() <= 1.5 * 0.05 + 1e-9
    assert sum(len(p) for p in pieces) == len(t)
    # A window between two skipped ones is still drawn: a dot where it is (a line of one point drew nothing).
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor

    from sensorlab.app.live.panel import PALETTE
    from tests.app.rendered import near

    qtbot.waitExposed(panel)
    box = panel.plot.getViewBox()
    image = panel.graphics.grab().toImage()
    lone = [piece[0] for piece in pieces if len(piece) == 1]
    x0, x1 = box.viewRange()[0]
    shown_lone = [(x, y) for x, y in lone if x0 + 0.5 < x < x1 - 0.5][-3:]
    assert shown_lone
    for x, y in shown_lone:
        at = panel.graphics.mapFromScene(box.mapViewToScene(QPointF(x, y)))
        dots = [near(image.pixelColor(at.x() + dx, at.y() + dy), QColor(PALETTE[1])) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        assert sum(dots) >= 3, (x, y, at)
