"""Loading a model while the devices run adds its predictions panel and keeps the live view's
history: found using the studio, where every trace restarted from an empty plot (and the live
labels were gone) when a model was added, because the whole view was rebuilt for its stream."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx_models import mean_model, write_mapping  # noqa: E402


def _drawn_span(panel) -> float:
    """Seconds of the time axis the panel's first curve draws (its history on screen)."""
    x, _y = panel.curves[0].getOriginalDataset()
    return float(x[-1] - x[0]) if x is not None and len(x) > 1 else 0.0


def test_loading_a_model_keeps_the_traces_history_and_the_live_labels(qtbot, make_window, tmp_path):
    from sensorlab.app.live.prediction_panel import PredictionPanel

    model = mean_model(tmp_path / "motion.onnx", channels=2)
    write_mapping(model, stream="imu", channels=["ch0", "ch1"], window=0.2, hop=0.1, scores_kind="logits", labels=["still", "moving"])
    w = make_window()
    view = w.live_view
    imu = view.panels["imu"]
    qtbot.waitUntil(lambda: _drawn_span(imu) >= 2.0, timeout=30_000)
    first_x = float(imu.curves[0].getOriginalDataset()[0][0])
    label_t = imu.newest
    view.add_marker(label_t, "clap", "#ef5350")

    assert w.load_model(model) == ("motion_pred",)
    qtbot.waitUntil(lambda: isinstance(w.live_view.panels.get("motion_pred"), PredictionPanel), timeout=20_000)
    view = w.live_view
    imu = view.panels["imu"]
    pred = view.panels["motion_pred"]
    qtbot.waitUntil(lambda: pred.top is not None and imu.newest > label_t + 0.2, timeout=20_000)
    # The imu trace still draws the seconds it drew before the model came (it did not start over).
    x, _y = imu.curves[0].getOriginalDataset()
    assert x[0] <= first_x + 0.05 and _drawn_span(imu) >= 2.0, (x[0], first_x, _drawn_span(imu))
    # The live label is still on the plots, and on the new panel too (as a line).
    assert [m.text for m in imu.markers] == ["clap"]
    assert [(m.x, m.text) for m in pred.markers] == [(label_t - view.origin, "")]
    # One time axis, under the lowest time plot (the new one).
    shown = [p.info.name for p in view.time_panels if p.plot.getAxis("bottom").isVisible()]
    assert shown == ["motion_pred"]
