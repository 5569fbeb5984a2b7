"""Undoable commands and the undo stack, without Qt."""

from __future__ import annotations

import random

import pytest

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.commands import (
    AcceptSuggestion,
    AddSegment,
    CompoundCommand,
    DeleteSegment,
    MergeSegments,
    MoveSegment,
    RejectSuggestion,
    RelabelSegment,
    SplitSegment,
    UndoStack,
)


def snapshot(ann: AnnotationSet) -> list[Segment]:
    return sorted(ann, key=lambda s: s.id)


@pytest.fixture
def stack():
    return UndoStack(AnnotationSet())


def test_add_move_relabel_delete_undo_redo(stack):
    ann = stack.annotations
    s = Segment("a", "activity", "wave", 1.0, 2.0)
    stack.push(AddSegment(s))
    stack.push(MoveSegment("a", start=0.5))
    stack.push(MoveSegment("a", start=3.0, end=4.0))  # move the whole segment
    stack.push(RelabelSegment("a", "clap"))
    stack.push(DeleteSegment("a"))
    assert "a" not in ann
    # One edge changed the length ("Resize"); both edges moved the span ("Move").
    assert stack.history == ["Add wave", "Resize wave", "Move wave", "Relabel wave → clap", "Delete clap"]
    expected = [None, (3.0, 4.0, "clap"), (3.0, 4.0, "wave"), (0.5, 2.0, "wave"), (1.0, 2.0, "wave"), None]
    for want in expected[1:]:
        stack.undo()
        got = ann.get("a")
        assert (got.start, got.end, got.label) == want if want else got is None
    assert len(ann) == 0 and not stack.can_undo
    stack.undo()  # no-op at the bottom
    for _ in range(5):
        stack.redo()
    assert "a" not in ann and not stack.can_redo


def test_point_event_moves_as_a_point(stack):
    stack.push(AddSegment(Segment("p", "t", "clap", 1.0, 1.0)))
    stack.push(MoveSegment("p", start=2.0))
    assert stack.annotations["p"].start == stack.annotations["p"].end == 2.0
    assert stack.history[-1] == "Move clap"


def test_invalid_command_leaves_everything_untouched(stack):
    stack.push(AddSegment(Segment("a", "t", "wave", 1.0, 2.0)))
    before = snapshot(stack.annotations)
    for bad in (MoveSegment("a", start=3.0), SplitSegment("a", at=2.0), MergeSegments(["a", "a2"]), DeleteSegment("zz")):
        with pytest.raises((ValueError, KeyError)):
            stack.push(bad)
    assert snapshot(stack.annotations) == before and stack.history == ["Add wave"]


def test_interleaved_undo_redo_and_branching(stack):
    ann = stack.annotations
    stack.push(AddSegment(Segment("a", "t", "x", 0.0, 1.0)))
    stack.push(AddSegment(Segment("b", "t", "y", 2.0, 3.0)))
    stack.push(MoveSegment("a", end=1.5))
    stack.undo()
    stack.undo()
    stack.redo()  # b back
    assert ann["a"].end == 1.0 and "b" in ann and stack.redo_text == "Resize x"
    stack.push(RelabelSegment("a", "z"))  # discards the redo branch
    assert not stack.can_redo and stack.history == ["Add x", "Add y", "Relabel x → z"]
    stack.undo()
    stack.push(MoveSegment("b", start=2.5))
    stack.undo()
    stack.redo()
    assert ann["a"].label == "x" and ann["b"].start == 2.5
    stack.set_index(0)
    assert len(ann) == 0
    stack.set_index(3)
    assert ann["b"].start == 2.5


def test_overlapping_segments_and_tiers_are_allowed(stack):
    stack.push(AddSegment(Segment("a", "activity", "walk", 0.0, 10.0)))
    stack.push(AddSegment(Segment("b", "activity", "wave", 5.0, 6.0)))
    stack.push(AddSegment(Segment("c", "speaker", "alice", 2.0, 8.0)))
    stack.push(RelabelSegment("b", "alice", tier="speaker"))
    assert [s.id for s in stack.annotations.overlapping(stack.annotations["b"])] == ["c"]
    stack.undo()
    assert stack.annotations["b"].tier == "activity"


def test_split_and_merge(stack):
    ann = stack.annotations
    stack.push(AddSegment(Segment("a", "t", "walk", 0.0, 10.0)))
    split = SplitSegment("a", at=4.0, new_id="a2")
    stack.push(split)
    assert (ann["a"].end, ann["a2"].start, ann["a2"].end, ann["a2"].label) == (4.0, 4.0, 10.0, "walk")
    stack.push(SplitSegment("a2", at=7.0, new_id="a3"))
    stack.push(MergeSegments(["a3", "a"], label="run"))  # non-adjacent: absorbs a2's span
    assert "a3" not in ann and (ann["a"].start, ann["a"].end, ann["a"].label) == (0.0, 10.0, "run")
    assert "a2" in ann  # merge only touches the segments it was given
    stack.undo()
    assert [(s.id, s.start, s.end) for s in ann] == [("a", 0.0, 4.0), ("a2", 4.0, 7.0), ("a3", 7.0, 10.0)]
    stack.undo()
    stack.undo()
    assert [(s.id, s.start, s.end) for s in ann] == [("a", 0.0, 10.0)]
    with pytest.raises(ValueError, match="one tier"):
        stack.push(AddSegment(Segment("o", "other", "x", 11, 12))) or stack.push(MergeSegments(["a", "o"]))
    with pytest.raises(ValueError, match="point"):
        stack.push(AddSegment(Segment("p", "t", "x", 20, 20))) or stack.push(SplitSegment("p", 20))


def test_suggestions_accept_and_reject(stack):
    ann = stack.annotations
    stack.push(AddSegment(Segment("s1", "sug", "sound", 0, 1, suggested=True)))
    stack.push(AddSegment(Segment("s2", "sug", "sound", 2, 3, suggested=True)))
    stack.push(AcceptSuggestion("s1", label="speech"))
    stack.push(RejectSuggestion("s2"))
    assert not ann["s1"].suggested and ann["s1"].label == "speech" and "s2" not in ann
    with pytest.raises(ValueError, match="not a suggestion"):
        stack.push(RejectSuggestion("s1"))
    stack.undo()
    stack.undo()
    assert ann["s1"].suggested and ann["s2"].suggested


def test_compound_is_one_step_and_all_or_nothing(stack):
    ann = stack.annotations
    adds = [AddSegment(Segment(f"i{i}", "t", "x", i, i + 0.5)) for i in range(3)]
    stack.push(CompoundCommand(adds, "Import 3 segments"))
    assert len(ann) == 3 and stack.history == ["Import 3 segments"]
    stack.undo()
    assert len(ann) == 0
    with pytest.raises(KeyError):
        stack.push(CompoundCommand([AddSegment(Segment("z", "t", "x", 0, 1)), DeleteSegment("missing")], "bad"))
    assert len(ann) == 0 and stack.history == ["Import 3 segments"]


def test_clean_state_and_autosave(stack):
    ann = stack.annotations
    saved, clean = [], []
    stack.clean_changed.connect(clean.append)
    assert stack.is_clean
    stack.push(AddSegment(Segment("a", "t", "x", 0, 1)))
    assert not stack.is_clean and clean == [False]
    stack.set_clean()
    stack.undo()
    assert not stack.is_clean
    stack.redo()
    assert stack.is_clean
    stack.undo()
    stack.push(AddSegment(Segment("b", "t", "y", 0, 1)))  # saved state is now unreachable
    stack.undo()
    stack.redo()
    assert not stack.is_clean

    stack.autosave = lambda a: saved.append(len(a))
    stack.push(AddSegment(Segment("c", "t", "z", 0, 1)))
    assert stack.is_clean and saved == [2]
    stack.undo()
    assert saved == [2, 1] and stack.is_clean

    def fail(_a):
        raise OSError("disk full")

    errors = []
    stack.autosave_failed.connect(errors.append)
    stack.autosave = fail
    stack.push(AddSegment(Segment("d", "t", "w", 0, 1)))
    assert "d" in ann and not stack.is_clean and errors == ["disk full"]


def test_limit_drops_oldest(stack):
    stack.limit = 3
    for i in range(5):
        stack.push(AddSegment(Segment(f"s{i}", "t", "x", i, i + 1)))
    assert len(stack.history) == 3 and stack.index == 3
    while stack.can_undo:
        stack.undo()
    assert sorted(stack.annotations._segments) == ["s0", "s1"]


def test_random_sequences_undo_to_start_and_redo_to_end():
    rng = random.Random(7)
    for trial in range(20):
        ann = AnnotationSet([Segment(f"base{i}", rng.choice("AB"), "x", i * 10.0, i * 10.0 + 5.0) for i in range(4)])
        stack = UndoStack(ann)
        states = [snapshot(ann)]
        for step in range(25):
            ids = [s.id for s in ann]
            pick = rng.choice(ids) if ids else None
            s = ann[pick] if pick else None
            options = [lambda: AddSegment(Segment(f"n{trial}_{step}", rng.choice("AB"), "y", rng.uniform(0, 50), 60.0))]
            if s is not None:
                options += [
                    lambda: MoveSegment(s.id, end=s.end + rng.uniform(0, 2)),
                    lambda: RelabelSegment(s.id, rng.choice("xyz")),
                    lambda: DeleteSegment(s.id),
                ]
                if s.duration > 1:
                    options.append(lambda: SplitSegment(s.id, s.start + s.duration / 2))
                same = [o.id for o in ann.segments(s.tier) if o.id != s.id]
                if same:
                    options.append(lambda: MergeSegments([s.id, rng.choice(same)]))
            if rng.random() < 0.25 and stack.can_undo:
                stack.undo()
                assert snapshot(ann) == states[stack.index]
                continue
            del states[stack.index + 1 :]  # pushing discards the redo branch
            stack.push(rng.choice(options)())
            states.append(snapshot(ann))
        # states[i] is the set with i commands applied: walk the whole history both ways.
        while stack.can_undo:
            stack.undo()
            assert snapshot(ann) == states[stack.index]
        while stack.can_redo:
            stack.redo()
            assert snapshot(ann) == states[stack.index]
        assert stack.index == len(states) - 1
