"""The labeling window's one way to put a run's suggestions in: a model's and a built-in method's
runs both go through `LabelingView.replace_suggestions`, the core `ReplaceSuggestions` step."""

from __future__ import annotations

from sensorlab.labeling.annotations import Segment
from sensorlab.labeling.commands import AcceptSuggestion
from sensorlab.labeling.store import load_sidecar
from sensorlab.labeling.suggest import SUGGESTION_TIER
from sensorlab.session.synthetic import T0, write_synthetic_session


def run(source: str, *starts: float) -> list[Segment]:
    return [Segment.create(SUGGESTION_TIER, "clap", T0 + t, T0 + t + 0.5, suggested=True, source=source, score=0.9) for t in starts]


def test_a_run_replaces_the_previous_runs_unreviewed_suggestions_in_one_undo_step(tmp_path, open_view, qtbot):
    path = write_synthetic_session(tmp_path / "run.h5", 10.0, audio_rate=4000, imu_rate=100, fps=5, frame_shape=(12, 16), predictions=False)
    v = open_view(path)
    steps = v.stack.index
    assert v.replace_suggestions("model:m.onnx", run("model:m.onnx", 1, 3, 5), "Suggest 3 (m.onnx)") == ""
    v.annotation_view.push(AcceptSuggestion(next(s.id for s in v.annotations if s.start == T0 + 1)))
    note = v.replace_suggestions("model:m.onnx", run("model:m.onnx", 7), "Suggest 1 (m.onnx)")
    assert note == ", replacing 2 from the previous run"  # the accepted one is no suggestion any more: kept
    assert sorted((round(s.start - T0), s.suggested) for s in v.annotations if s.source == "model:m.onnx") == [(1, False), (7, True)]
    assert v.stack.index == steps + 3 and v.stack.undo_text == "Suggest 1 (m.onnx)"
    # A run that finds nothing and has nothing to clear adds no empty step.
    assert v.replace_suggestions("suggest:energy:mic", [], "Suggest 0 (energy)") == "" and v.stack.index == steps + 3
    v.stack.undo()
    assert sorted(round(s.start - T0) for s in v.annotations if s.source == "model:m.onnx") == [1, 3, 5]
    # Saved by the undo stack's autosave, as the command line would have stored it.
    qtbot.waitUntil(lambda: sorted(round(s.start - T0) for s in load_sidecar(path) if s.source == "model:m.onnx") == [1, 3, 5], timeout=10_000)
