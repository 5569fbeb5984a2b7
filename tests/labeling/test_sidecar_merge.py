"""The window's autosave merges three ways with a sidecar another program changed: what it
read, what it changed, what the file has now (real sidecar files, the real autosaver)."""

from __future__ import annotations

from dataclasses import replace

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.commands import AddSegment, DeleteSegment, MoveSegment, UndoStack
from sensorlab.labeling.store import autosaver, load_annotations, save_annotations, sidecar_path


def _segments(n: int) -> list[Segment]:
    return [Segment(f"s{i}", "default", "wave", float(i), i + 0.5) for i in range(n)]


def _window(path, segments):
    """A window's set and undo stack on a sidecar that holds ``segments``."""
    save_annotations(AnnotationSet(segments), path)
    ann = load_annotations(path)
    return ann, UndoStack(ann, autosave=autosaver(path))


def _other_program(path, edit) -> None:
    """Read the file, ``edit`` the set, write it back: `labels import --replace`, another window."""
    theirs = load_annotations(path)
    edit(theirs)
    save_annotations(theirs, path)


def test_segments_another_program_deleted_stay_deleted_after_the_windows_next_save(tmp_path):
    path = sidecar_path(tmp_path / "run1.h5")
    ann, stack = _window(path, _segments(4))
    _other_program(path, lambda a: (a.remove("s0"), a.remove("s1")))
    stack.push(AddSegment(Segment("mine", "default", "clap", 9.0, 9.0)))  # the window's next edit saves
    on_disk = {s.id for s in load_annotations(path)}
    assert on_disk == {"s2", "s3", "mine"}  # s0 and s1 were written back before
    assert {s.id for s in ann} == on_disk  # and the window no longer shows them


def test_a_segment_the_window_edited_keeps_its_edit_when_another_program_deleted_it(tmp_path):
    path = sidecar_path(tmp_path / "run1.h5")
    ann, stack = _window(path, _segments(3))
    saver = stack.autosave
    _other_program(path, lambda a: (a.remove("s0"), a.remove("s1")))
    stack.push(MoveSegment("s0", start=0.25, end=0.75))  # edited here, deleted there
    on_disk = load_annotations(path)
    assert on_disk["s0"].start == 0.25 and "s1" not in on_disk and "s2" in on_disk
    merge = saver.take_changes(ann)  # what the window reports at its next check
    assert [s.id for s in merge.kept] == ["s0"] and [s.id for s in merge.removed] == ["s1"]
    assert "kept this window's edit of 1 label(s) (wave)" in merge.message()
    assert "1 label(s) deleted by another program" in merge.message()
    assert not saver.take_changes(ann)  # reported once


def test_changes_on_the_other_side_reach_the_window_and_its_deletions_stay(tmp_path):
    path = sidecar_path(tmp_path / "run1.h5")
    ann, stack = _window(path, _segments(3))
    stack.push(DeleteSegment("s2"))  # deleted here
    _other_program(path, lambda a: (a.replace(replace(a["s1"], label="clap")), a.add(Segment("new", "words", "hi", 5.0, 6.0))))
    merge = stack.autosave.take_changes(ann)  # the window's once-a-second check
    assert [s.id for s in merge.changed] == ["s1"] and [s.id for s in merge.added] == ["new"] and not merge.removed
    assert ann["s1"].label == "clap" and "new" in ann and "s2" not in ann
    stack.push(AddSegment(Segment("mine", "default", "clap", 9.0, 9.0)))
    assert {s.id for s in load_annotations(path)} == {"s0", "s1", "new", "mine"}
