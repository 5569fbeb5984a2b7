"""Live predictions in the studio window: the prediction panel, the health figures, the mapping dialog."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx_models import gain_with_rate_model, mean_model, write_mapping  # noqa: E402


def test_a_loaded_model_gets_a_prediction_panel_with_a_banner_and_health_figures(qtbot, make_window, tmp_path):
    from sensorlab.app.live.prediction_panel import PredictionPanel

    model = mean_model(tmp_path / "motion.onnx", channels=2)
    write_mapping(model, stream="imu", channels=["ch0", "ch1"], window=0.2, hop=0.1, scores_kind="logits", labels=["still", "moving"])
    w = make_window()
    assert w.load_model(model) == ("motion_pred",)
    qtbot.waitUntil(lambda: isinstance(w.live_view.panels.get("motion_pred"), PredictionPanel), timeout=20_000)
    panel = w.live_view.panels["motion_pred"]
    qtbot.waitUntil(lambda: panel.top is not None, timeout=20_000)
    name, p = panel.top
    assert name in ("still", "moving") and 0.5 <= p <= 1.0
    assert panel.banner.text() == f"{name}  {100 * p:.0f} %"
    lo, hi = panel.plot.viewRange()[1]
    assert lo <= 0.0 and hi >= 1.0 and hi < 1.1  # probabilities on a fixed 0…1 axis
    table = w.health_view.table

    def model_figures() -> str:
        # The table is rebuilt on the health view's own timer: the row appears on its next tick.
        rows = [r for r in range(table.rowCount()) if table.item(r, 0) is not None and table.item(r, 0).text() == "motion_pred"]
        last = table.item(rows[0], table.columnCount() - 1) if rows else None
        return last.text() if last is not None else ""

    qtbot.waitUntil(lambda: "ms/window" in model_figures(), timeout=20_000)
    assert "skipped" in model_figures()


def test_a_bad_model_is_shown_in_the_banner_and_the_devices_go_on(qtbot, make_window, tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_text("not onnx")
    w = make_window()
    assert w.load_model(bad) == ()
    assert "broken.onnx: not a valid ONNX model" in w.banner.text()
    assert not w.acquisition.stats["imu"].error


def test_mapping_dialog_shows_the_model_and_refuses_a_mapping_that_does_not_fit(qtbot, fake_acquisition, tmp_path):
    from sensorlab.app.models.model_dialog import MappingDialog

    model = gain_with_rate_model(tmp_path / "kws.onnx")
    d = MappingDialog(model, dict(fake_acquisition.streams))
    qtbot.addWidget(d)
    rows = [(d.io_table.item(r, 0).text(), d.io_table.item(r, 1).text(), d.io_table.item(r, 2).text()) for r in range(d.io_table.rowCount())]
    assert rows == [("input", "audio", "float [N, T]"), ("input", "sr", "float [1]"), ("output", "p", "float [N, 2]")]
    assert sorted(d.streams) == ["imu", "mic"]  # only regular signal streams can feed a model
    d.stream.setCurrentText("mic")
    d.channels.setText("ch1")
    d.window.setValue(0.5)
    d.hop.setValue(0.25)
    d.layout_edit.setText("NT")
    d.input.setCurrentText("audio")
    d.scores_kind.setCurrentText("probabilities")
    d.labels.setText("gain, zero")
    d.accept()  # sr is neither constant nor state: refused, the dialog stays open
    assert "model input sr float [1] is not mapped" in d.problem.text() and d.mapping is None
    assert not (tmp_path / "kws.mapping.json").exists()
    d.constants.setText('{"sr": 16000}')
    d.accept()
    assert d.result() == d.DialogCode.Accepted and d.mapping is not None
    saved = json.loads((tmp_path / "kws.mapping.json").read_text())
    assert saved["stream"] == "mic" and saved["channels"] == ["ch1"] and saved["constants"] == {"sr": 16000} and saved["labels"] == ["gain", "zero"]
    # Opened again, the dialog shows the saved mapping.
    again = MappingDialog(model, dict(fake_acquisition.streams))
    qtbot.addWidget(again)
    assert again.channels.text() == "ch1" and again.layout_edit.text() == "NT" and again.constants.text() == '{"sr": 16000}'


def test_a_model_trained_on_a_stream_this_rig_lacks_is_refused_naming_the_streams_and_the_fix(qtbot, make_window, tmp_path):
    """Use in live view with a spoken-digit model (stream 'audio') on a rig whose microphone is
    'mic': the banner said "… do not exist …; fix 'input' in the rig", a rig the user never wrote."""
    from onnx_models import contract_mean_model

    model = contract_mean_model(tmp_path / "model.onnx", stream="audio", rate=8000, channels=["ch0", "ch1"], window=0.5, hop=0.25,
                                mean=[0.0, 0.0], std=[1.0, 1.0], labels=["yes", "no"])  # fmt: skip
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog

    w = make_window()
    offered = []

    def answer(choose: bool) -> None:
        dialog = next((d for d in QApplication.topLevelWidgets() if isinstance(d, QInputDialog) and d.isVisible()), None)
        if dialog is None:  # not shown yet (a loaded machine): look again
            QTimer.singleShot(50, lambda: answer(choose))
            return
        offered.append((dialog.labelText(), dialog.comboBoxItems()))
        dialog.setTextValue("mic")
        dialog.accept() if choose else dialog.reject()

    # The rig's microphone is 'mic': the model is offered the streams it can read instead of a refusal.
    QTimer.singleShot(0, lambda: answer(False))
    assert w.load_model(model) == ()
    assert offered[-1] == ("model.onnx needs a stream named 'audio' (8000 Hz).\nRun it on (streams it can read):", ["imu", "mic"])
    assert not [p for p in w.acquisition.processors if getattr(p, "model", None) is not None]  # cancelled: nothing was added
    QTimer.singleShot(0, lambda: answer(True))
    added = w.load_model(model)
    assert added and [p.input for p in w.acquisition.processors if getattr(p, "model", None) is not None] == ["mic"]


def test_a_model_no_running_stream_suits_is_refused_naming_the_streams_and_the_fix(qtbot, make_window, tmp_path):
    from onnx_models import contract_mean_model

    model = contract_mean_model(tmp_path / "model.onnx", stream="audio", rate=8000, channels=["left", "right"], window=0.5, hop=0.25,
                                mean=[0.0, 0.0], std=[1.0, 1.0], labels=["yes", "no"])  # fmt: skip
    w = make_window()
    assert w.load_model(model) == ()
    assert w.banner.isVisible()
    assert w.banner.text() == ("⚠  model.onnx needs a stream named 'audio' (8000 Hz); this rig has imu, mic: open a rig with it "
                               "(Devices…), or run it on a recording (Label…, Suggest ▾ → From a model…)")
    assert not [p for p in w.acquisition.processors if getattr(p, "model", None) is not None]  # nothing was added


def test_a_crowded_studio_leaves_the_probabilities_room_to_read(qtbot, make_window, tmp_path):
    # Under its 40 px banner the probability plot was a ~20 px strip once the studio was full.
    from sensorlab.app.live.prediction_panel import PredictionPanel

    model = mean_model(tmp_path / "motion.onnx", channels=2)
    write_mapping(model, stream="imu", channels=["ch0", "ch1"], window=0.2, hop=0.1, scores_kind="logits", labels=["still", "moving"])
    w = make_window()
    w.show()
    w.resize(1400, 560)  # every panel at its minimum height
    assert w.load_model(model) == ("motion_pred",)
    qtbot.waitUntil(lambda: isinstance(w.live_view.panels.get("motion_pred"), PredictionPanel), timeout=20_000)
    panel = w.live_view.panels["motion_pred"]
    qtbot.waitUntil(lambda: panel.top is not None, timeout=20_000)
    qtbot.waitUntil(lambda: panel.plot.getViewBox().height() >= 56, timeout=10_000)  # 0…1 with its ticks apart


def test_mapping_dialog_shows_every_input_and_output_row_whole(qtbot, fake_acquisition, tmp_path):
    """A 1-D conv with a sample-rate input (x, sr → logits): at the dialog's own size the table
    showed two rows and cut the output row, the one "Scores output" asks about; after a
    refused mapping (a 3-line message) it shrank further."""
    from sensorlab.app.models.model_dialog import MappingDialog

    model = gain_with_rate_model(tmp_path / "kws.onnx")  # inputs audio, sr; output p
    d = MappingDialog(model, dict(fake_acquisition.streams))
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    table = d.io_table

    def rows_whole() -> bool:
        view = table.viewport().rect()
        return all(view.contains(table.visualItemRect(table.item(r, 2))) for r in range(table.rowCount()))

    assert table.rowCount() == 3 and rows_whole(), (table.height(), [table.visualItemRect(table.item(r, 2)) for r in range(3)])
    d.accept()  # two inputs, none chosen: refused, the message takes lines of the dialog's height
    assert "cannot tell which input takes the window" in d.problem.text()
    qtbot.waitUntil(lambda: d.problem.isVisible() and d.problem.height() > 0)
    assert rows_whole()


def test_a_model_loaded_again_runs_beside_the_first_under_its_own_name(qtbot, make_window, tmp_path):
    """Load model… twice with the same file: "output stream name(s) ['motion_pred'] already
    exist; give it another 'name'" named a rig-file key the studio has no field for."""
    from sensorlab.app.live.prediction_panel import PredictionPanel

    model = mean_model(tmp_path / "motion.onnx", channels=2)
    write_mapping(model, stream="imu", channels=["ch0", "ch1"], window=0.2, hop=0.1, scores_kind="logits", labels=["still", "moving"])
    w = make_window()
    assert w.load_model(model) == ("motion_pred",)
    assert w.load_model(model) == ("motion_2_pred",)
    assert not w.banner.isVisible(), w.banner.text()
    qtbot.waitUntil(lambda: all(isinstance(w.live_view.panels.get(n), PredictionPanel) for n in ("motion_pred", "motion_2_pred")), timeout=20_000)
    second = w.live_view.panels["motion_2_pred"]
    qtbot.waitUntil(lambda: second.top is not None, timeout=20_000)
