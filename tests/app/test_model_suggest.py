"""Suggest ▾ → From a model… in the labeling window: the same segments as `sensorlab predict --suggest`."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog

sys.path.insert(0, str(Path(__file__).parents[1] / "inference"))
import onnx
from onnx import TensorProto, helper
from onnx_models import OPSET, write_mapping

from sensorlab.app.labeling.model_suggest import LAST_MODEL_KEY
from sensorlab.inference.offline import predictions_path
from sensorlab.labeling.labelset import LabelSet
from sensorlab.labeling.store import load_sidecar
from sensorlab.session.synthetic import T0, write_synthetic_session

LABELS = LabelSet.from_names(["active", "walk"])


def energy_model(path: Path) -> Path:
    """``scores[n, 0] = 20 · mean_t x[n, t, 0]² − 8.5``: the synthetic imu's energy, high during its activity bursts.

    As logits for a sigmoid: P ≈ 0.001 at rest (energy ≈ 0.045), ≈ 0.9 in a burst (≈ 0.545), and
    P ≥ 0.5 only for windows more than 3/4 inside a burst (far from the 1/2 that a hop lands on)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", 1])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 1])
    gain = helper.make_tensor("gain", TensorProto.FLOAT, [1], [20.0])
    bias = helper.make_tensor("bias", TensorProto.FLOAT, [1], [-8.5])
    nodes = [helper.make_node("Mul", ["x", "x"], ["sq"]), helper.make_node("ReduceMean", ["sq"], ["e"], axes=[1], keepdims=0),
             helper.make_node("Mul", ["e", "gain"], ["g"]), helper.make_node("Add", ["g", "bias"], ["scores"])]  # fmt: skip
    graph = helper.make_graph(nodes, "energy", [x], [y], initializer=[gain, bias])
    model = helper.make_model(graph, opset_imports=OPSET, ir_version=8)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def session_src(tmp_path_factory):
    """30 s: imu 'ax' is 0.3·sin (energy ≈ 0.045) plus a unit 3 Hz oscillation (≈ 0.5) in [1, 5), [13, 17), [25, 29) s."""
    return write_synthetic_session(tmp_path_factory.mktemp("ms") / "run.h5", 30.0, audio_rate=4000, audio_channels=1, imu_rate=200,
                                   imu_channels=1, fps=5, frame_shape=(12, 16), period=12.0, predictions=False)  # fmt: skip


def copy_session(src: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    p = folder / "run.h5"
    p.write_bytes(src.read_bytes())
    return p


@pytest.fixture
def cli():
    """``sensorlab ARGS…`` in-process."""
    from typer.testing import CliRunner

    from sensorlab.cli import app

    return lambda *args: CliRunner().invoke(app, list(args))


@pytest.fixture
def model(tmp_path):
    m = energy_model(tmp_path / "energy.onnx")
    write_mapping(m, stream="imu", window=1.0, hop=0.5, scores_kind="sigmoid", labels=["active"])
    return m


@pytest.fixture
def open_view(qtbot, tmp_path):
    from sensorlab.app.labeling.view import LabelingView

    views = []
    settings = QSettings(str(tmp_path / "sensorlab.ini"), QSettings.Format.IniFormat)

    def make(path):
        v = LabelingView(path, LABELS, play_audio=False, settings=settings)
        qtbot.addWidget(v)
        views.append(v)
        v.resize(1200, 700)
        with qtbot.waitSignal(v.session_ready, timeout=30_000):
            v.show()
        return v

    yield make
    for v in views:
        v.close()


def key(s):
    return (s.label, round(s.start, 6), round(s.end, 6), s.source, s.tier, s.suggested, None if math.isnan(s.score) else round(s.score, 5))


def run_model(qtbot, v, path: Path) -> None:
    """Through the menu entry and its file dialog, as a user would; waits until the run ended."""
    menu = v.suggest_button.menu()
    entry = next(a for a in menu.actions() if a.text() == "From a model…")
    entry.trigger()
    dialog = v.findChildren(QFileDialog)[-1]
    dialog.selectFile(str(path))
    dialog.accept()
    qtbot.waitUntil(lambda: not v.model_suggest.running and not v.runner.busy, timeout=60_000)


def test_model_suggestions_equal_the_commands_and_are_reviewed_with_a_and_r(qtbot, open_view, session_src, model, tmp_path, cli):
    by_cli = copy_session(session_src, tmp_path / "cli")
    r = cli("predict", str(model), str(by_cli), "--suggest")
    assert r.exit_code == 0, r.output
    expected = sorted(key(s) for s in load_sidecar(by_cli) if s.suggested)
    # The known answer: one segment per activity burst, [1, 5), [13, 17), [25, 29) s: the 1 s windows inside it.
    bursts = [(lab, round(a - T0, 3), round(b - T0, 3)) for lab, a, b, *_ in expected]
    assert bursts == [("active", 1.0, 5.0), ("active", 13.0, 17.0), ("active", 25.0, 29.0)]

    path = copy_session(session_src, tmp_path / "gui")
    v = open_view(path)
    run_model(qtbot, v, model)
    got = sorted(key(s) for s in v.annotations if s.suggested)
    assert got == expected
    qtbot.wait(300)  # the runner's "nothing runs any more" arrives after the result: it must not erase it
    assert v.status.text().startswith("3 suggestion(s) from energy.onnx (active 3; 59 windows)")
    assert not v.progress.isVisible() and not v.model_suggest.cancel_button.isVisible()
    assert predictions_path(path).exists()  # beside the session, like the command's
    assert v.model_suggest.settings.value(LAST_MODEL_KEY) == str(model)
    # Saved by the undo stack's autosave, like any edit.
    qtbot.waitUntil(lambda: sorted(key(s) for s in load_sidecar(path) if s.suggested) == expected, timeout=10_000)

    # A accepts the first (selected or next) suggestion, R rejects the following one.
    v.timeline.set_cursor(T0)
    v.setFocus()
    qtbot.keyClick(v, Qt.Key.Key_A)
    qtbot.keyClick(v, Qt.Key.Key_R)
    assert [round(s.start - T0) for s in v.annotations if s.suggested] == [25]
    accepted = [s for s in v.annotations if not s.suggested and s.source == "model:energy.onnx"]
    assert [(round(s.start - T0), round(s.end - T0)) for s in accepted] == [(1, 5)]

    # Running again (the remembered model, one click) replaces unreviewed suggestions only.
    last = next(a for a in v.suggest_button.menu().actions() if a.text() == "Model energy.onnx again")
    assert last.isVisible()
    last.trigger()
    qtbot.waitUntil(lambda: not v.model_suggest.running and not v.runner.busy, timeout=60_000)
    assert len([s for s in v.annotations if s.suggested]) == 3 and len(accepted) == 1
    assert v.status.text().startswith("3 suggestion(s) from energy.onnx (active 3; 59 windows), replacing 1 from the previous run")


def test_a_model_without_mapping_and_a_broken_model_give_a_message_and_add_nothing(qtbot, open_view, session_src, tmp_path):
    path = copy_session(session_src, tmp_path / "s")
    v = open_view(path)
    foreign = energy_model(tmp_path / "foreign.onnx")  # no foreign.mapping.json beside it
    run_model(qtbot, v, foreign)
    text = v.status.text()
    assert text.startswith("model foreign.onnx failed: foreign.onnx is not a sensorlab model and has no mapping")
    assert "write foreign.mapping.json" in text
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model at all")
    run_model(qtbot, v, broken)
    assert "broken.onnx: not a valid ONNX model" in v.status.text()
    assert not [s for s in v.annotations if s.suggested] and not v.model_suggest.cancel_button.isVisible()
    assert not predictions_path(path).exists()


def test_cancel_adds_nothing_and_leaves_no_partial_predictions(qtbot, open_view, session_src, model, tmp_path):
    path = copy_session(session_src, tmp_path / "s")
    v = open_view(path)
    v.model_suggest.run(model)
    assert v.model_suggest.cancel_button.isVisible()
    qtbot.mouseClick(v.model_suggest.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not v.model_suggest.running and not v.runner.busy, timeout=60_000)
    assert v.status.text() == "model energy.onnx cancelled: no suggestions added"
    assert not [s for s in v.annotations if s.suggested]
    assert not predictions_path(path).exists()


def test_the_demo_model_is_a_quick_choice(qtbot, open_view, session_src):
    from sensorlab.inference import DEMO_MODEL

    assert DEMO_MODEL.exists()
    v = open_view(session_src)
    names = [a.text() for a in v.suggest_button.menu().actions()]
    assert "From a model…" in names and "Demo model (clap detector on imu)" in names


def test_a_model_mapped_to_a_missing_stream_offers_the_streams_it_can_read(qtbot, open_view, session_src, tmp_path):
    """No command-line hint (``--stream``) in the window: a chooser of the streams that fit."""
    from PySide6.QtWidgets import QInputDialog

    path = copy_session(session_src, tmp_path / "s")
    v = open_view(path)
    m = energy_model(tmp_path / "accel.onnx")
    write_mapping(m, stream="accel", window=1.0, hop=0.5, scores_kind="sigmoid", labels=["active"])  # the session calls it imu
    run_model(qtbot, v, m)
    qtbot.waitUntil(lambda: bool(v.findChildren(QInputDialog)), timeout=10_000)
    dialog = v.findChildren(QInputDialog)[-1]
    assert "--stream" not in v.status.text()
    assert v.status.text() == "run.h5 has no stream 'accel', which accel.onnx is mapped to: choose a stream to run it on"
    assert dialog.isVisible() and dialog.comboBoxItems() == ["imu", "mic"]  # the camera cannot feed it
    assert not [s for s in v.annotations if s.suggested]
    dialog.setTextValue("imu")
    dialog.accept()
    qtbot.waitUntil(lambda: not v.model_suggest.running and not v.runner.busy and bool(v.status.text()), timeout=60_000)
    got = sorted((round(s.start - T0), round(s.end - T0)) for s in v.annotations if s.suggested)
    assert got == [(1, 5), (13, 17), (25, 29)], v.status.text()
    assert v.status.text().startswith("3 suggestion(s) from accel.onnx (active 3")


def test_a_model_no_stream_of_the_session_suits_says_how_to_map_it(qtbot, open_view, session_src, tmp_path):
    path = copy_session(session_src, tmp_path / "s")
    v = open_view(path)
    m = energy_model(tmp_path / "three.onnx")
    write_mapping(m, stream="accel", window=1.0, hop=0.5, scores_kind="sigmoid", labels=["active"], channels=["x", "y", "z"])
    run_model(qtbot, v, m)
    assert v.status.text() == ("run.h5 has no stream 'accel', which three.onnx is mapped to, and none of its streams (cam, imu, labels, mic) "
                               "suits the model; map it to one with the mapping file beside it (three.mapping.json, 'stream')")


def test_the_models_minimum_probability_is_set_in_the_window(qtbot, open_view, session_src, model, tmp_path):
    path = copy_session(session_src, tmp_path / "s")
    v = open_view(path)
    dialog = v.open_suggest_settings()
    assert dialog.boxes[("model", "threshold")].value() == 0.5
    dialog.boxes[("model", "threshold")].setValue(0.99)  # the bursts reach P ≈ 0.96
    dialog.accept()
    run_model(qtbot, v, model)
    assert not [s for s in v.annotations if s.suggested]
    # … and how far to lower it: the most probable window's class and P
    assert re.fullmatch(r"0 suggestions from \S+\.onnx \(\d+ windows\): no window of a label reached P 0\.99 \(the most probable: "
                        r"active at 0\.9\d\); lower Minimum probability in Suggest ▾ → Settings…", v.status.text()), v.status.text()  # fmt: skip
    assert "sensorlab predict" not in v.status.text()
    dialog = v.open_suggest_settings()
    dialog.boxes[("model", "threshold")].setValue(0.5)
    dialog.accept()
    v.model_suggest.run(model)
    qtbot.waitUntil(lambda: not v.model_suggest.running and not v.runner.busy and "3 suggestion(s)" in v.status.text(), timeout=60_000)
