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


def test_a_key_wider_than_its_room_shows_whole_names_and_counts_the_rest(qtbot, make_window, tmp_path):
    """A foreign 4-class model in the demo studio's left column at 1280 × 800: the key was
    clipped at the header's free room, and the last name was cut mid-letter ("clap" read
    "clar") beside the Channels button."""
    from sensorlab.app.live.prediction_panel import PredictionPanel

    names = ["standing_still", "walking_slowly", "running_fast", "clapping_hands"]
    model = mean_model(tmp_path / "motion.onnx", channels=4)
    write_mapping(model, stream="imu", channels=["ch0", "ch1", "ch2", "ch3"], window=0.2, hop=0.1, scores_kind="logits", labels=names)
    w = make_window()
    w.resize(900, 800)
    assert w.load_model(model) == ("motion_pred",)
    qtbot.waitUntil(lambda: isinstance(w.live_view.panels.get("motion_pred"), PredictionPanel), timeout=20_000)
    key = w.live_view.panels["motion_pred"].key
    qtbot.waitUntil(key.isVisible, timeout=5_000)

    def shown() -> tuple[list[str], str, int, int]:
        doc = QTextDocument()
        doc.setHtml(key.text())
        plain = doc.toPlainText()
        words = plain.split()
        return [x for x in words if x not in ("━",) and not x.startswith("+")], plain, QFontMetrics(key.font()).horizontalAdvance(plain), key.contentsRect().width()

    qtbot.waitUntil(lambda: shown()[2] <= shown()[3], timeout=5_000)  # laid out: the key fits its room
    whole, plain, width, room = shown()
    assert whole == names[: len(whole)] and len(whole) < len(names), plain  # whole names, in order, not all of them …
    assert plain.endswith(f"+{len(names) - len(whole)}"), plain  # … and how many more
    assert key.toolTip() == ", ".join(names)  # every name on hover
    w.resize(1900, 800)  # room for all of them again
    qtbot.waitUntil(lambda: shown()[0] == names, timeout=5_000)
    assert "+" not in shown()[1]
