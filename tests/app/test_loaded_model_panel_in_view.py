"""A model loaded live (Use in live view from the Training tab, or Load model…) gets its
panel shown whole. Found walking the loop on the demo rig: the view scrolled to the new panel
while it had only its first height; the panel then grew (its plot below the banner) and ended
up at the bottom edge with its curves below the fold."""

from __future__ import annotations

import shutil
from importlib.resources import files


def test_the_new_model_panel_is_scrolled_into_view_whole_on_the_demo_rig(qtbot, make_window, tmp_path):
    from sensorlab.app.live.prediction_panel import PredictionPanel
    from sensorlab.app.main import demo_rig_and_sources

    models = files("sensorlab.resources").joinpath("models")
    for f in models.iterdir():  # the demo's model under another name (its stream: clapper_pred)
        if f.name.startswith("demo_clap.") and not f.name.endswith(".int8.onnx"):
            shutil.copy(str(f), tmp_path / f.name.replace("demo_clap", "clapper"))
    _rig, sources = demo_rig_and_sources()
    w = make_window(sources)
    w.resize(1400, 900)
    w.main_tabs.setCurrentWidget(w.training_tab)  # where Use in live view is pressed
    qtbot.wait(300)
    w.training_tab.model_ready.emit(str(tmp_path / "clapper.onnx"))
    assert w.main_tabs.currentIndex() == 0
    qtbot.waitUntil(lambda: isinstance(w.live_view.panels.get("clapper_pred"), PredictionPanel), timeout=30_000)
    panel = w.live_view.panels["clapper_pred"]
    qtbot.waitUntil(lambda: panel.top is not None, timeout=30_000)
    # Once the layout has settled the whole panel is on screen (the banner alone showed).
    qtbot.waitUntil(lambda: panel.height() > 150 and panel.visibleRegion().boundingRect().height() >= panel.height() - 2, timeout=10_000)
    qtbot.wait(500)
    assert panel.visibleRegion().boundingRect().height() >= panel.height() - 2, (panel.visibleRegion().boundingRect(), panel.height())
