"""The banner of a live model that failed names its stream and leaves when the model is unloaded.

A failed stream's banner is a condition that stayed until the devices were opened again: after
the user unloaded the failed model (its panel's Model ▾ → Unload), the red line still said the
model had stopped, over a studio with nothing wrong, and it came back after every notice.
Real studio window, real onnxruntime model (tests/inference/onnx_models.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx_models import mean_model, write_mapping  # noqa: E402


def test_a_failed_models_banner_leaves_when_it_is_unloaded(qtbot, make_window, tmp_path):
    from sensorlab.app.live.prediction_panel import PredictionPanel

    w = make_window()
    model = mean_model(tmp_path / "motion.onnx", channels=2)
    write_mapping(model, stream="imu", channels=["ch0", "ch1"], window=0.2, hop=0.1, scores_kind="logits", labels=["still", "moving"])
    assert w.load_model(model) == ("motion_pred",)
    qtbot.waitUntil(lambda: isinstance(w.live_view.panels.get("motion_pred"), PredictionPanel), timeout=20_000)
    proc = w.studio.running_model("motion_pred")

    def broken_tap(*_args):  # a fault inside the model's processing (its thread)
        raise RuntimeError("tap broke")

    proc.taps.append(broken_tap)
    # named by its stream (it said "device stopped: processor model …")
    qtbot.waitUntil(lambda: w.banner.isVisible() and w.banner.text().startswith("⚠  motion_pred stopped:"), timeout=20_000)
    w.live_view.panels["motion_pred"].model_actions["unload"].trigger()
    qtbot.waitUntil(lambda: "motion_pred" not in w.live_view.panels, timeout=10_000)
    qtbot.waitUntil(lambda: not any("motion_pred" in m and "stopped" in m for m in w.banner.shown), timeout=10_000)
