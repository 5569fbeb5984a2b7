"""Reviewing suggestions in the labeling window: what a user does after Suggest ▾.

An accepted suggestion is a label: it leaves the shared ``suggestions`` tier for the tier the
window labels on (where the user's own labels and a dataset look), exactly as
``sensorlab labels accept`` does, and one undo puts it back as a suggestion.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from sensorlab.labeling.annotations import Segment
from sensorlab.labeling.store import load_sidecar
from sensorlab.labeling.suggest import SUGGESTION_TIER
from sensorlab.labeling.suggestions import accept_suggestions
from sensorlab.session.synthetic import T0, write_synthetic_session


def suggestions(*starts: float) -> list[Segment]:
    return [Segment.create(SUGGESTION_TIER, "clap", T0 + t, T0 + t + 0.5, suggested=True, source="model:m.onnx", score=0.9) for t in starts]


def test_an_accepted_suggestion_becomes_a_label_of_the_labels_tier_and_undo_puts_it_back(tmp_path, open_view, qtbot):
    path = write_synthetic_session(tmp_path / "run.h5", 10.0, audio_rate=4000, imu_rate=100, fps=5, frame_shape=(12, 16), predictions=False)
    v = open_view(path)
    labels_tier = v.tier
    assert labels_tier != SUGGESTION_TIER
    v.replace_suggestions("model:m.onnx", suggestions(1, 3), "Suggest 2 (m.onnx)")
    v.timeline.set_cursor(T0)
    v.setFocus()
    qtbot.keyClick(v, Qt.Key.Key_A)  # accepts the next suggestion
    first = next(s for s in v.annotations if round(s.start - T0) == 1)
    assert (first.tier, first.suggested, first.label) == (labels_tier, False, "clap")
    assert first.source == "model:m.onnx" and first.score == 0.9  # where it came from stays known
    # The status line says what the key did (not the suggestion run's message from before).
    assert v.status.text() == f"accepted clap into tier {labels_tier} (Ctrl+Z undoes) · 1 suggestion(s) left to review"
    v.stack.undo()
    first = next(s for s in v.annotations if round(s.start - T0) == 1)
    assert (first.tier, first.suggested) == (SUGGESTION_TIER, True)

    # 1–9 on a selected suggestion accepts it as that label, also into the labels tier.
    second = next(s for s in v.annotations if round(s.start - T0) == 3)
    v.annotation_view.select(second.id)
    v.setFocus()
    qtbot.keyClick(v, Qt.Key.Key_2)
    name = v.labels.by_hotkey(2).name
    second = v.annotations[second.id]
    assert (second.tier, second.suggested, second.label) == (labels_tier, False, name)
    assert v.status.text() == f"accepted {name} into tier {labels_tier} (Ctrl+Z undoes) · 1 suggestion(s) left to review"  # the undone one
    qtbot.waitUntil(lambda: any(s.tier == labels_tier and not s.suggested for s in load_sidecar(path)), timeout=10_000)


def test_labels_accept_moves_suggestions_to_the_labels_tier_like_the_window(tmp_path):
    from sensorlab.labeling.store import save_annotations, sidecar_path
    from sensorlab.labeling.annotations import AnnotationSet

    session = tmp_path / "run.h5"  # the sidecar alone is reviewed
    ann = AnnotationSet()
    ann.add(Segment.create("gestures", "wave", T0, T0 + 0.5))  # the session's labels tier
    for s in suggestions(1, 3):
        ann.add(s)
    save_annotations(ann, sidecar_path(session), session=session.name)
    line = accept_suggestions(session, source="m.onnx")
    assert line.startswith("accepted 2 suggestion(s) (clap 2) from m.onnx into tier 'gestures' of run.labels.json"), line
    assert sorted((s.tier, s.label) for s in load_sidecar(session)) == [("gestures", "clap"), ("gestures", "clap"), ("gestures", "wave")]


def test_review_in_bulk_accepts_a_models_sure_suggestions_as_one_undo_step(tmp_path, open_view, qtbot):
    """The window's `labels accept --source m.onnx --min-score 0.8`, without the command line."""
    path = write_synthetic_session(tmp_path / "run.h5", 10.0, audio_rate=4000, imu_rate=100, fps=5, frame_shape=(12, 16), predictions=False)
    v = open_view(path)
    from dataclasses import replace

    segs = [suggestions(1)[0], replace(suggestions(3)[0], score=0.6), suggestions(5)[0],
            replace(suggestions(7)[0], source="suggest:energy:mic", score=-20.0)]  # fmt: skip
    v.replace_suggestions("model:m.onnx", segs, "Suggest 4")
    steps = v.stack.index
    entry = next(a for a in v.suggest_button.menu().actions() if a.text().startswith("Review in bulk"))
    entry.trigger()
    from sensorlab.app.labeling.review_dialog import BulkReviewDialog

    dialog = v.findChildren(BulkReviewDialog)[-1]
    assert dialog.isVisible()
    assert [dialog.source.itemText(i) for i in range(dialog.source.count())] == ["all sources", "model:m.onnx", "suggest:energy:mic"]
    dialog.source.setCurrentText("model:m.onnx")
    dialog.min_score.setValue(0.8)
    assert dialog.count.text().startswith("2 suggestion(s) match, scores 0.90–0.90")
    dialog.accept_button.click()
    reviewed = [s for s in v.annotations if not s.suggested and s.source == "model:m.onnx"]
    assert sorted(round(s.start - T0) for s in reviewed) == [1, 5] and {s.tier for s in reviewed} == {v.tier}
    assert v.stack.index == steps + 1 and v.stack.undo_text == "Accept 2 suggestions"
    assert v.status.text() == f"accepted 2 suggestion(s) into tier {v.tier} (Ctrl+Z undoes) · 2 left to review"
    assert not dialog.accept_button.isEnabled()  # nothing left that matches
    dialog.source.setCurrentText("all sources")
    dialog.min_score.setValue(dialog.min_score.minimum())  # "any"
    dialog.reject_button.click()
    assert not [s for s in v.annotations if s.suggested]
    assert sorted(round(s.start - T0) for s in v.annotations if s.source in ("model:m.onnx", "suggest:energy:mic")) == [1, 5]
    v.stack.undo()
    v.stack.undo()
    assert sorted(round(s.start - T0) for s in v.annotations if s.suggested) == [1, 3, 5, 7]
