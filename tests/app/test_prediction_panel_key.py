"""A live model's panel says which probability line is which class.

Found running a freshly trained model live at 1280 × 800: the panel's plot is too short for
the channel legend (it is shown only where it leaves most of the plot to the traces), so the
three coloured lines under "walk 35 %" were never named anywhere on screen."""

from __future__ import annotations

import sys
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics, QTextDocument

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx_models import mean_model, write_mapping  # noqa: E402


def test_the_prediction_panel_names_its_classes_in_their_line_colours(qtbot, make_window, tmp_path):
    from sensorlab.app.live.prediction_panel import PredictionPanel

    model = mean_model(tmp_path / "motion.onnx", channels=2)
    write_mapping(model, stream="imu", channels=["ch0", "ch1"], window=0.2, hop=0.1, scores_kind="logits", labels=["still", "moving"])
    w = make_window()
    w.resize(1280, 800)
    assert w.load_model(model) == ("motion_pred",)
    qtbot.waitUntil(lambda: isinstance(w.live_view.panels.get("motion_pred"), PredictionPanel), timeout=20_000)
    panel = w.live_view.panels["motion_pred"]
    qtbot.waitUntil(lambda: panel.top is not None, timeout=20_000)
    assert not panel.legend.isVisible()  # the plot's own legend has no room here …
    key = panel.key  # … so the header names the classes
    qtbot.waitUntil(key.isVisible, timeout=5_000)
    doc = QTextDocument()
    doc.setHtml(key.text())
    assert doc.toPlainText().split() == ["━", "still", "━", "moving"]
    text = key.text().lower()
    for curve, name in zip(panel.curves, ("still", "moving")):  # each name after a dash in its line's colour
        colour = pg.mkPen(curve.opts["pen"]).color().name()
        assert f"<span style='color:{colour}'>━</span>&nbsp;{name}" in text, (colour, name, text)
    room = key.contentsRect().width()
    assert room >= QFontMetrics(key.font()).horizontalAdvance(doc.toPlainText()), (room, doc.toPlainText())
