"""The studio on the demo rig (what ``make run`` opens) shows the demo model's predictions."""

from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime")


def test_the_demo_rig_window_shows_the_demo_models_prediction_panel(qtbot, make_window):
    from sensorlab.app.main import demo_rig_and_sources
    from sensorlab.app.live.prediction_panel import PredictionPanel
    from sensorlab.studio.demo import DEMO_PREDICTIONS

    rig_text, sources = demo_rig_and_sources()
    assert 'path = "demo"' in rig_text
    w = make_window(sources)
    qtbot.waitUntil(lambda: isinstance(w.live_view.panels.get(DEMO_PREDICTIONS), PredictionPanel), timeout=30_000)
    panel = w.live_view.panels[DEMO_PREDICTIONS]
    qtbot.waitUntil(lambda: panel.top is not None, timeout=30_000)
    name, p = panel.top
    assert name in ("clap", "background") and 0.5 <= p <= 1.0
    assert panel.banner.text() == f"{name}  {100 * p:.0f} %"
