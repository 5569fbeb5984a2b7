"""Load model… for a stateful model whose state names follow no convention (memory →
memory_update): the dialog's message said to map the input "as recurrent state", but the dialog
had no field for it, so the model could be run only with a hand-written mapping file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx_models import stateful_sum_model, write_mapping  # noqa: E402

from sensorlab.acquisition.source import StreamInfo, StreamKind  # noqa: E402


def memory_model(path: Path) -> Path:
    """The model of these tests: its state (memory → memory_update) follows no naming convention."""
    return stateful_sum_model(path, samples=10, state=("memory", "memory_update"), scores="scores", classes=2)


def imu() -> dict[str, StreamInfo]:
    return {"imu": StreamInfo("imu", StreamKind.TIMESERIES, 100.0, channel_names=("ax", "ay", "az"), sample_shape=(3,))}


def fill(d) -> None:
    d.channels.setText("ax")
    d.window.setValue(0.1)  # 10 samples at 100 Hz
    d.hop.setValue(0.1)
    d.input.setCurrentText("x")
    d.layout_edit.setText("NTC")
    d.labels.setText("up, down")


def test_a_stateful_model_is_mapped_in_the_dialog_and_its_state_is_fed_back(qtbot, tmp_path):
    from sensorlab.app.models.model_dialog import MappingDialog
    from sensorlab.inference import LoadedModel

    model = memory_model(tmp_path / "rnn.onnx")
    d = MappingDialog(model, imu())
    qtbot.addWidget(d)
    fill(d)
    d.accept()  # memory is neither a constant nor state: refused, naming the state way out
    assert "model input memory float [1, 1] is not mapped" in d.problem.text() and d.mapping is None
    d.state.setText('{"memory_update": "memory"}')
    d.accept()
    assert d.result() == d.DialogCode.Accepted, d.problem.text()
    assert json.loads((tmp_path / "rnn.mapping.json").read_text())["state"] == {"memory_update": "memory"}
    loaded = LoadedModel(model)  # from the saved mapping, as the next load is
    assert loaded.state_pairs == {"memory_update": "memory"}
    ones = np.ones((1, 10, 1), np.float32)
    loaded.run(loaded.features(ones))
    p = loaded.run(loaded.features(ones))  # memory 10 → 20: the state came back in
    assert loaded.state["memory"].item() == pytest.approx(20.0) and p[0, 0] > 0.99


def test_a_state_field_that_is_not_json_is_refused_naming_the_field(qtbot, tmp_path):
    from sensorlab.app.models.model_dialog import MappingDialog

    d = MappingDialog(memory_model(tmp_path / "rnn.onnx"), imu())
    qtbot.addWidget(d)
    fill(d)
    d.state.setText("memory_update -> memory")
    d.accept()
    assert d.problem.text().startswith("recurrent state: not JSON") and '{"h_out": "h_in"}' in d.problem.text()
    assert d.mapping is None


def test_a_mapping_shown_again_keeps_its_state_and_standardization(qtbot, tmp_path):
    from sensorlab.app.models.model_dialog import MappingDialog
    from sensorlab.inference import load_mapping

    model = memory_model(tmp_path / "rnn.onnx")
    write_mapping(model, stream="imu", channels=["ax"], window=0.1, hop=0.1, input="x", labels=["up", "down"], mean=[1.5], std=[2.0],
                  state={"memory_update": "memory"})  # fmt: skip
    d = MappingDialog(model, imu())
    qtbot.addWidget(d)
    assert json.loads(d.state.text()) == {"memory_update": "memory"}
    d.accept()
    saved = load_mapping(model)
    assert saved.state == {"memory_update": "memory"} and saved.mean == [1.5] and saved.std == [2.0]


def form_labels(d) -> set[str]:
    from PySide6.QtWidgets import QFormLayout, QLabel

    form = next(item.layout() for item in (d.layout().itemAt(i) for i in range(d.layout().count())) if isinstance(item.layout(), QFormLayout))
    return {w.text() for r in range(form.rowCount()) if isinstance(w := form.itemAt(r, QFormLayout.ItemRole.LabelRole).widget(), QLabel)}


def test_the_dialog_names_its_own_fields_in_a_refusal(qtbot, tmp_path):
    """A 1-D conv with a sample-rate input: "set 'input' in the mapping and map the others as
    'constants' or 'state'" named mapping-file keys the dialog has no fields called."""
    from sensorlab.app.models.model_dialog import MappingDialog

    d = MappingDialog(memory_model(tmp_path / "rnn.onnx"), imu())
    qtbot.addWidget(d)
    fill(d)
    d.input.setCurrentIndex(0)  # (the one left unmapped): x and memory both are
    d.accept()
    text = d.problem.text()
    assert text.endswith("set “Window goes to input” and map the others as “Constant inputs” or “Recurrent state”"), text
    fields = form_labels(d)
    assert {"Window goes to input", "Constant inputs (JSON)", "Recurrent state (JSON)"} <= fields
    d.input.setCurrentText("x")
    d.accept()  # memory unmapped: the two fields with what to type into them
    assert d.problem.text().endswith('set it as a constant (Constant inputs: {"memory": 0}) or as recurrent state '
                                     '(Recurrent state: {"memory_update": "memory"})'), d.problem.text()  # fmt: skip
    d.state.setText('{"memory_update": "memory"}')
    d.layout_edit.setText("NCT")  # 1 channel × 10 samples the wrong way round
    d.accept()
    assert d.problem.text().endswith("the mapping's layout is 'NCT'; set “Layout” to 'NTC'"), d.problem.text()


def test_every_hint_in_the_dialog_is_shown_whole(qtbot, tmp_path):
    """At the dialog's own width the hints were cut: "all, in stream order (or e.g. ax, ay, …",
    'output → input, e.g. {"h_out": "h_…', "class names, comma-separated (…"."""
    from PySide6.QtWidgets import QLineEdit, QStyle, QStyleOptionFrame

    from sensorlab.app.models.model_dialog import MappingDialog

    d = MappingDialog(memory_model(tmp_path / "rnn.onnx"), imu())
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    for edit in d.findChildren(QLineEdit):
        hint = edit.placeholderText()
        if not hint or not edit.isVisible():
            continue
        opt = QStyleOptionFrame()
        edit.initStyleOption(opt)
        text_room = edit.style().subElementRect(QStyle.SubElement.SE_LineEditContents, opt, edit)
        margins = edit.textMargins()
        room = text_room.width() - margins.left() - margins.right() - 4  # QLineEdit's own 2 px each side
        assert edit.fontMetrics().horizontalAdvance(hint) <= room, (hint, room)
