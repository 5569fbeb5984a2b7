"""Load model… for a model that already ends in a softmax: the dialog started on "Scores are:
logits" for every model, so the engine applied a second softmax to its probabilities — the top
class stayed, but every probability drawn and every threshold compared was wrong (a 0.9 / 0.1
output read as 0.69 / 0.31). It now reads what the scores output holds from the graph."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx import TensorProto, helper  # noqa: E402
from onnx_models import _save  # noqa: E402

from sensorlab.acquisition.source import StreamInfo, StreamKind  # noqa: E402
from sensorlab.inference.feed_guess import scores_kind_for  # noqa: E402


def rig_streams() -> dict[str, StreamInfo]:
    return {"imu": StreamInfo("imu", StreamKind.TIMESERIES, 100.0, channel_names=("ax", "ay", "az"), sample_shape=(3,))}


def head_model(path: Path, *ops: str) -> Path:
    """x [1, T, 3] → mean over T → ``ops`` in turn (each one input, one output) → "scores" [1, 3];
    a "Reshape" op reshapes to [1, 3] (a pass-through)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 50, 3])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3])
    nodes = [helper.make_node("ReduceMean", ["x"], ["m"], axes=[1], keepdims=0)]
    inits = [helper.make_tensor("shape", TensorProto.INT64, [2], [1, 3])]
    prev = "m"
    for i, op in enumerate(ops):
        out = "scores" if i == len(ops) - 1 else f"t{i}"
        inputs = [prev, "shape"] if op == "Reshape" else [prev]
        kwargs = {"axis": -1} if op in ("Softmax", "LogSoftmax") else {}
        nodes.append(helper.make_node(op, inputs, [out], **kwargs))
        prev = out
    if not ops:
        nodes[0].output[0] = "scores"
    return _save(helper.make_graph(nodes, "head", [x], [y], initializer=inits), path)


@pytest.mark.parametrize(
    ("ops", "kind"),
    [(("Softmax",), "probabilities"), (("Softmax", "Reshape"), "probabilities"), (("Sigmoid",), "probabilities"),
     (("LogSoftmax",), "logits"), (("Relu",), "logits"), ((), "logits"), (("Softmax", "Relu"), "logits")],
    ids=["softmax", "softmax-reshape", "sigmoid", "logsoftmax", "relu", "none", "softmax-then-relu"],
)
def test_what_a_scores_output_holds_is_read_from_the_graph(tmp_path, ops, kind):
    assert scores_kind_for(head_model(tmp_path / "m.onnx", *ops), "scores") == kind


def test_an_unreadable_file_is_guessed_as_logits(tmp_path):
    bad = tmp_path / "m.onnx"
    bad.write_bytes(b"not onnx")
    assert scores_kind_for(bad, "scores") == "logits"


def test_the_dialog_starts_on_probabilities_for_a_softmax_model_and_the_engine_keeps_them(qtbot, tmp_path):
    from sensorlab.app.models.model_dialog import MappingDialog
    from sensorlab.inference.model import LoadedModel

    model = head_model(tmp_path / "probs.onnx", "Softmax")
    d = MappingDialog(model, rig_streams())
    qtbot.addWidget(d)
    assert d.scores_kind.currentText() == "probabilities"
    mapping = d.current()
    assert mapping.scores_kind == "probabilities"
    # The probabilities the model computes are the ones the engine reports (no second softmax).
    mapping.save(model)
    loaded = LoadedModel(model)
    window = np.tile(np.array([2.0, 0.0, -1.0], np.float32), (50, 1))
    e = np.exp([2.0, 0.0, -1.0])
    np.testing.assert_allclose(loaded.run(window[None]).ravel(), e / e.sum(), rtol=1e-5)


def test_a_logits_model_starts_on_logits(qtbot, tmp_path):
    from sensorlab.app.models.model_dialog import MappingDialog

    d = MappingDialog(head_model(tmp_path / "logits.onnx", "Relu"), rig_streams())
    qtbot.addWidget(d)
    assert d.scores_kind.currentText() == "logits"
