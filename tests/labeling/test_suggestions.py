"""Suggestions after they are made: replaced by the next run, accepted or rejected in bulk.

The command-line review (`sensorlab labels accept|reject`) runs on a real recorded session with
real predictions of a real ONNX model (`sensorlab predict --suggest`).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.commands import AcceptSuggestion, UndoStack
from sensorlab.labeling.store import load_sidecar
from sensorlab.labeling.suggest import SUGGESTION_TIER
from sensorlab.labeling.suggestions import ReplaceSuggestions, source_matches, store_suggestions

T0 = 300.0


def sugg(label: str, start: float, source: str = "model:m.onnx", score: float = math.nan) -> Segment:
    return Segment.create(SUGGESTION_TIER, label, start, start + 1.0, suggested=True, source=source, score=score)


def test_a_run_replaces_only_its_own_unreviewed_suggestions_as_one_undo_step():
    ann = AnnotationSet()
    stack = UndoStack(ann)
    old = [sugg("clap", 1.0), sugg("clap", 3.0)]
    other = sugg("speech", 2.0, source="suggest:energy:mic")
    for s in [*old, other]:
        ann.add(s)
    stack.push(AcceptSuggestion(old[0].id))  # reviewed: a re-run must keep it
    new = [sugg("clap", 5.0), sugg("clap", 7.0)]
    step = ReplaceSuggestions("model:m.onnx", new, "Suggest 2 (m.onnx)")
    assert step.changes(ann)
    stack.push(step)
    assert step.replaced_note == ", replacing 1 from the previous run"
    assert sorted((s.start, s.suggested) for s in ann) == [(1.0, False), (2.0, True), (5.0, True), (7.0, True)]
    assert stack.history[-1] == "Suggest 2 (m.onnx)"
    stack.undo()
    assert sorted((s.start, s.suggested) for s in ann) == [(1.0, False), (2.0, True), (3.0, True)]
    stack.redo()
    assert sorted(s.start for s in ann) == [1.0, 2.0, 5.0, 7.0]
    # Nothing found and nothing to clear: no empty step for the undo stack.
    assert not ReplaceSuggestions("model:none.onnx", []).changes(ann)


def test_store_suggestions_replaces_the_previous_run_in_the_sidecar(tmp_path):
    session = tmp_path / "run.h5"  # no recording needed: the sidecar is beside it
    store_suggestions(session, "model:m.onnx", [sugg("clap", 1.0), sugg("clap", 3.0)])
    step = store_suggestions(session, "model:m.onnx", [sugg("clap", 9.0)])
    assert step.replaced == 2 and [s.start for s in load_sidecar(session)] == [9.0]
    assert store_suggestions(session, "model:m.onnx", []).replaced == 1 and not list(load_sidecar(session))


def test_a_source_is_matched_as_users_type_it():
    assert source_matches("model:clap.onnx", "clap.onnx") and source_matches("model:clap.onnx", "models/clap.onnx")
    assert source_matches("model:clap.onnx", "model:clap.onnx")
    assert source_matches("suggest:energy:mic", "energy") and source_matches("suggest:energy:mic", "energy:mic")
    assert not source_matches("suggest:energy:mic", "energy:imu") and not source_matches("model:clap.onnx", "clap")


# -- the command line, on a recorded session with a model's predictions ------------------------

sys.path.insert(0, str(Path(__file__).parents[1] / "inference"))

#: Loud bursts of 2 s every 4 s, each at its own level: the model's probability in a burst is
#: sigmoid(20 · level − 10) over its windows: ≈ 1.0, 0.73, 0.88, 1.0 (no window sits on the 0.5 threshold).
LEVELS = (1.5, 0.55, 0.6, 1.5)


def bursts(ts: np.ndarray) -> np.ndarray:
    k = ((ts - T0) // 4.0).astype(int)
    loud = ((ts - T0) % 4.0) >= 2.0
    level = np.array(LEVELS + (0.0,))[np.clip(k, 0, len(LEVELS))]
    return (loud * level).astype(np.float32)[:, None]


@pytest.fixture
def cli():
    from typer.testing import CliRunner

    from sensorlab.cli import app

    return lambda *args: CliRunner().invoke(app, list(args))


@pytest.fixture
def predicted(tmp_path, make_session, cli):
    """A recorded session and `sensorlab predict MODEL SESSION --suggest` run on it: 4 suggestions."""
    pytest.importorskip("onnxruntime")
    from onnx_models import mean_model, write_mapping

    from sensorlab.acquisition.emulated.signal import SignalSource

    session = make_session(SignalSource("s", rate=100, shape=(1,), pattern=bursts, realtime=False, max_samples=1600, chunk_size=50, t0=T0),
                           path=tmp_path / "run.h5")  # fmt: skip
    model = mean_model(tmp_path / "detector.onnx")
    write_mapping(model, stream="s", window=0.5, hop=0.25, scores_kind="sigmoid", labels=["loud"], scale=20.0, offset=-10.0)
    r = cli("predict", str(model), str(session), "--suggest")
    assert r.exit_code == 0, r.output
    assert f"accept them with `sensorlab labels accept {session} --source detector.onnx --min-score 0.8`" in r.output  # the way here
    segs = sorted(load_sidecar(session), key=lambda s: s.start)
    assert [round(s.start - T0) for s in segs] == [2, 6, 10, 14] and all(s.suggested for s in segs)
    scores = [s.score for s in segs]
    assert scores[0] > 0.95 and 0.6 < scores[1] < 0.8 and 0.8 < scores[2] < 0.95 and scores[3] > 0.95, scores
    return session


def by_start(session: Path) -> dict[int, Segment]:
    return {round(s.start - T0): s for s in load_sidecar(session)}


def test_labels_accept_takes_a_models_suggestions_above_a_score_and_reject_drops_the_rest(predicted, cli):
    before = by_start(predicted)
    r = cli("labels", "accept", str(predicted), "--source", "detector.onnx", "--min-score", "0.8", "--dry-run")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("would accept 3 suggestion(s) (loud 3) from detector.onnx with score ≥ 0.8")
    assert all(s.suggested for s in load_sidecar(predicted))  # a dry run changes nothing

    r = cli("labels", "accept", str(predicted), "--source", "detector.onnx", "--min-score", "0.8")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("accepted 3 suggestion(s) (loud 3) from detector.onnx with score ≥ 0.8 into tier 'default' of run.labels.json; 1 left to review")
    assert f"`sensorlab labels reject {predicted} --source detector.onnx`" in r.output
    after = by_start(predicted)
    assert {k: s.suggested for k, s in after.items()} == {2: False, 6: True, 10: False, 14: False}
    for k, s in after.items():  # accepted as they were suggested: times, label, source and score kept
        b = before[k]
        assert (s.id, s.start, s.end, s.label, s.source, s.score) == (b.id, b.start, b.end, b.label, b.source, b.score)
        assert s.tier == (SUGGESTION_TIER if s.suggested else "default")  # accepted: a label of the labels tier, as in the window

    r = cli("labels", "reject", str(predicted), "--source", "model:detector.onnx")
    assert r.exit_code == 0 and r.output.startswith("rejected 1 suggestion(s) (loud 1) from model:detector.onnx in run.labels.json"), r.output
    assert sorted(by_start(predicted)) == [2, 10, 14] and not any(s.suggested for s in load_sidecar(predicted))
    r = cli("labels", "reject", str(predicted), "--source", "detector.onnx")  # all reviewed: nothing to do, no error
    assert r.exit_code == 0 and r.output.startswith("rejected 0 suggestion(s) from detector.onnx"), r.output

    # A re-run of the model replaces unreviewed suggestions only: the accepted labels stay.
    assert cli("predict", str(predicted.parent / "detector.onnx"), str(predicted), "--suggest").exit_code == 0
    assert sorted((round(s.start - T0), s.suggested) for s in load_sidecar(predicted)) == [(2, False), (2, True), (6, True), (10, False),
                                                                                        (10, True), (14, False), (14, True)]  # fmt: skip


def test_labels_accept_can_relabel_and_names_an_unknown_source(predicted, cli):
    r = cli("labels", "accept", str(predicted), "--source", "clap.onnx")
    assert r.exit_code == 1
    assert "no suggestions from 'clap.onnx'; the session's unreviewed suggestions by source: model:detector.onnx (4)" in r.output
    assert all(s.suggested for s in load_sidecar(predicted))
    r = cli("labels", "accept", str(predicted), "--label", "loud", "--min-score", "0.9", "--as", "clap")
    assert r.exit_code == 0 and r.output.startswith("accepted 2 suggestion(s) (loud 2) as 'clap' labelled loud with score ≥ 0.9"), r.output
    assert "2 left to review (loud 2, scores 0.73–0.88)" in r.output
    assert {k: (s.label, s.suggested) for k, s in by_start(predicted).items()} == {2: ("clap", False), 6: ("loud", True),
                                                                                  10: ("loud", True), 14: ("clap", False)}  # fmt: skip


@pytest.mark.parametrize("score", ["2", "-0.5"])
def test_labels_accept_refuses_a_min_score_no_model_score_can_meet(predicted, cli, score):
    """A model's scores are 0–1: ``--min-score 2`` used to accept 0 suggestions without a word."""
    r = cli("labels", "accept", str(predicted), "--source", "detector.onnx", "--min-score", score)
    assert r.exit_code == 1
    assert f"--min-score {float(score):g} is outside 0–1, the range of a model's scores" in r.output, r.output
    assert all(s.suggested for s in load_sidecar(predicted))  # nothing reviewed


def test_the_accept_command_predict_prints_accepts_a_weak_models_suggestions(tmp_path, make_session, cli):
    """Found walking the loop: a freshly trained model's suggestions scored 0.32–0.34 (predict
    --threshold 0.3), and predict's hint `labels accept … --min-score 0.8` accepted none of them."""
    pytest.importorskip("onnxruntime")
    from onnx_models import mean_model, write_mapping

    from sensorlab.acquisition.emulated.signal import SignalSource

    session = make_session(SignalSource("s", rate=100, shape=(1,), pattern=bursts, realtime=False, max_samples=1600, chunk_size=50, t0=T0),
                           path=tmp_path / "run.h5")  # fmt: skip
    model = mean_model(tmp_path / "weak.onnx")  # sigmoid(level − 0.5): at most 0.73 in a burst
    write_mapping(model, stream="s", window=0.5, hop=0.25, scores_kind="sigmoid", labels=["loud"], scale=1.0, offset=-0.5)
    r = cli("predict", str(model), str(session), "--suggest", "--threshold", "0.5")
    assert r.exit_code == 0, r.output
    hint = r.output.split("accept them with `")[1].split("`")[0]
    assert hint == f"sensorlab labels accept {session} --source weak.onnx --min-score 0.5", r.output
    suggested = [s for s in load_sidecar(session) if s.suggested]
    assert suggested and max(s.score for s in suggested) < 0.8
    r = cli(*hint.split()[1:])
    assert r.exit_code == 0 and r.output.startswith(f"accepted {len(suggested)} suggestion(s)"), r.output
