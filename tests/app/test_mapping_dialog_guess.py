"""Load model… for a model without a sensorlab contract: the mapping dialog started on the first
stream by name (the demo model's own ``clap_pred``, a predictions stream) and on layout NTC
whatever the model's input. It starts on a stream whose channel count fits the input, with the
layout the input's shape says (e.g. [1, 3, 50] with a 3-channel stream: NCT)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "inference"))

from onnx import TensorProto, helper  # noqa: E402
from onnx_models import _save, mean_model  # noqa: E402

from sensorlab.acquisition.source import StreamInfo, StreamKind  # noqa: E402
from sensorlab.inference.engine import PROBABILITY_UNIT  # noqa: E402


def channels_first_model(path: Path, channels: int = 3, samples: int = 50) -> Path:
    """``scores[n, c] = mean_t x[n, c, t]``: input [1, C, T] (channels first), output [1, C]."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, samples])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, channels])
    node = helper.make_node("ReduceMean", ["x"], ["scores"], axes=[2], keepdims=0)
    return _save(helper.make_graph([node], "nct", [x], [y]), path)


def rig_streams() -> dict[str, StreamInfo]:
    """The demo rig's kind of streams: a predictions stream first by name, a 3-axis IMU, a mono mic."""
    pred = StreamInfo("clap_pred", StreamKind.TIMESERIES, 4.0, channel_names=("background", "clap"), units=(PROBABILITY_UNIT,) * 2,
                      sample_shape=(2,), device="model demo_clap.onnx on mic: window 0.5 s, hop 0.25 s")  # fmt: skip
    imu = StreamInfo("imu", StreamKind.TIMESERIES, 100.0, channel_names=("ax", "ay", "az"), sample_shape=(3,))
    mic = StreamInfo("mic", StreamKind.AUDIO, 16000.0, channel_names=("ch0",), sample_shape=(1,))
    return {s.name: s for s in (pred, imu, mic)}


@pytest.mark.parametrize(
    ("make", "stream", "layout"),
    [(channels_first_model, "imu", "NCT"), (lambda p: mean_model(p, channels=3), "imu", "NTC"), (lambda p: mean_model(p, channels=1), "mic", "NTC")],
    ids=["[1,3,50]", "[N,T,3]", "[N,T,1]"],
)
def test_the_dialog_starts_on_a_fitting_stream_and_layout(qtbot, tmp_path, make, stream, layout):
    from sensorlab.app.models.model_dialog import MappingDialog

    d = MappingDialog(make(tmp_path / "foreign.onnx"), rig_streams())
    qtbot.addWidget(d)
    assert (d.stream.currentText(), d.layout_edit.text()) == (stream, layout)
    assert "clap_pred" in [d.stream.itemText(i) for i in range(d.stream.count())]  # still offered, not the default


def test_the_layout_follows_the_stream_picked_unless_typed(qtbot, tmp_path):
    from sensorlab.app.models.model_dialog import MappingDialog
    from sensorlab.inference.feed_guess import layout_for

    d = MappingDialog(channels_first_model(tmp_path / "foreign.onnx", channels=1, samples=3), rig_streams())  # [1, 1, 3]
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    assert (d.stream.currentText(), d.layout_edit.text()) == ("imu", "NTC")  # 3 channels on the last axis
    d.stream.setCurrentText("mic")  # 1 channel: the middle axis
    assert d.layout_edit.text() == "NCT"
    d.layout_edit.selectAll()
    qtbot.keyClicks(d.layout_edit, "N1T")  # the user's own layout is kept
    d.stream.setCurrentText("imu")
    assert d.layout_edit.text() == "N1T"
    assert layout_for([1, 3, 3], 3) is None and layout_for(["N", "T"], 1) == "NT"  # ambiguous: no guess


def test_the_layout_follows_the_channels_typed(qtbot, tmp_path):
    """A 1-D conv over [1, 3, 400] fed 3 of the demo IMU's 6 axes: no stream has 3 channels, the
    dialog started on NTC, and typing "ax, ay, az" left it there until OK refused the mapping."""
    from sensorlab.app.models.model_dialog import MappingDialog

    six = StreamInfo("imu", StreamKind.TIMESERIES, 1000.0, channel_names=("ax", "ay", "az", "gx", "gy", "gz"), sample_shape=(6,))
    d = MappingDialog(channels_first_model(tmp_path / "conv.onnx", channels=3, samples=400), {"imu": six})
    qtbot.addWidget(d)
    d.show()
    assert d.layout_edit.text() == "NTC"  # 6 channels fit neither axis: the dialog's default
    qtbot.keyClicks(d.channels, "ax, ay, az")
    assert d.layout_edit.text() == "NCT"
    d.window.setValue(0.4)
    d.accept()
    assert d.mapping is not None and d.mapping.layout == "NCT", d.problem.text()
