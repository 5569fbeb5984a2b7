"""Undoable edits of an `AnnotationSet`; `UndoStack` (in `undo_stack`) runs them.

Every annotation edit is a command, so it can be undone: the GUI maps a gesture to a command and
pushes it; it never mutates the `AnnotationSet` itself. A command captures the state it
replaces when it is *done* (not when it is constructed), so redo after an interleaved
sequence of other edits and undos stays correct.

A command validates before it mutates: if ``do`` raises, the set is unchanged and the stack
is untouched.

Examples
--------
>>> from sensorlab.labeling.annotations import AnnotationSet, Segment
>>> ann = AnnotationSet()
>>> stack = UndoStack(ann)
>>> seg = Segment.create("activity", "wave", 1.0, 2.0)
>>> stack.push(AddSegment(seg))
>>> stack.push(MoveSegment(seg.id, end=2.5))
>>> ann[seg.id].end
2.5
>>> stack.undo(); ann[seg.id].end
2.0
>>> stack.history
['Add wave', 'Move wave']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from sensorlab.labeling.annotations import AnnotationSet, Segment, new_segment_id
from sensorlab.labeling.suggest import SUGGESTION_TIER


class Command:
    """Base class: one undoable edit. Subclasses implement `do`, `undo` and `text`."""

    #: Short human description for the history list ("Move wave").
    text: str = ""

    def do(self, ann: AnnotationSet) -> None:
        raise NotImplementedError

    def undo(self, ann: AnnotationSet) -> None:
        raise NotImplementedError


class AddSegment(Command):
    """Add one segment (or point event)."""

    def __init__(self, segment: Segment):
        self.segment = segment
        self.text = f"Add {segment.label}"

    def do(self, ann: AnnotationSet) -> None:
        ann.add(self.segment)

    def undo(self, ann: AnnotationSet) -> None:
        ann.remove(self.segment.id)


class _Replace(Command):
    """Shared machinery: swap one segment for an edited copy."""

    def __init__(self, seg_id: str):
        self.seg_id = seg_id
        self._old: Segment | None = None

    def _new(self, old: Segment) -> Segment:
        raise NotImplementedError

    def do(self, ann: AnnotationSet) -> None:
        old = ann[self.seg_id]
        new = self._new(old)  # may raise ValueError before anything changed
        self._old = old
        ann.replace(new)

    def undo(self, ann: AnnotationSet) -> None:
        assert self._old is not None, "undo before do"
        ann.replace(self._old)


class MoveSegment(_Replace):
    """Move one or both edges; give both (shifted equally) to move the whole segment.

    Its `text` says "Resize LABEL" when one edge changed (an edge drag), "Move LABEL" when
    both did (the whole span, or a point event).

    Parameters
    ----------
    seg_id
        Segment to edit.
    start, end
        New edge times; ``None`` keeps that edge. A point event given only ``start``
        stays a point (both edges move).
    """

    def __init__(self, seg_id: str, start: float | None = None, end: float | None = None):
        super().__init__(seg_id)
        if start is None and end is None:
            raise ValueError("MoveSegment needs start and/or end")
        self.start, self.end = start, end

    def _new(self, old: Segment) -> Segment:
        if old.is_point and self.end is None:
            self.text = f"Move {old.label}"
            return replace(old, start=self.start, end=self.start)
        new = replace(
            old,
            start=old.start if self.start is None else self.start,
            end=old.end if self.end is None else self.end,
        )
        # One edge dragged changes the span's length ("Resize"); both edges moved, a whole-span
        # drag, keep it ("Move"), even when snapping moved them by slightly different amounts.
        one_edge = (new.start == old.start) != (new.end == old.end)
        self.text = f"{'Resize' if one_edge else 'Move'} {old.label}"
        return new


class RelabelSegment(_Replace):
    """Change a segment's label (and optionally move it to another tier)."""

    def __init__(self, seg_id: str, label: str, tier: str | None = None):
        super().__init__(seg_id)
        self.label, self.tier = label, tier

    def _new(self, old: Segment) -> Segment:
        self.text = f"Relabel {old.label} → {self.label}"
        return replace(old, label=self.label, tier=self.tier or old.tier)


class AcceptSuggestion(_Replace):
    """Turn a suggestion into a normal segment, optionally relabelling it (one key).

    ``tier``: where the accepted segment goes. A suggestion on the shared ``suggestions``
    tier becomes a label of the labels tier (the window's active tier, or the session's
    labels tier for ``sensorlab labels accept``): that is where a user looks for it and what
    a dataset reads. A suggestion made on another tier (``predict --tier``) stays there.
    """

    def __init__(self, seg_id: str, label: str | None = None, tier: str | None = None):
        super().__init__(seg_id)
        self.label, self.tier = label, tier

    def _new(self, old: Segment) -> Segment:
        self.text = f"Accept {self.label or old.label}"
        tier = self.tier if self.tier and old.tier == SUGGESTION_TIER else old.tier
        return replace(old, suggested=False, label=self.label or old.label, tier=tier)


class DeleteSegment(Command):
    """Remove one segment."""

    def __init__(self, seg_id: str):
        self.seg_id = seg_id
        self._old: Segment | None = None

    def do(self, ann: AnnotationSet) -> None:
        self._old = ann[self.seg_id]
        self.text = f"Delete {self._old.label}"
        ann.remove(self.seg_id)

    def undo(self, ann: AnnotationSet) -> None:
        assert self._old is not None, "undo before do"
        ann.add(self._old)


class RejectSuggestion(DeleteSegment):
    """Drop a suggestion (a delete, but refuses to delete a reviewed segment)."""

    def do(self, ann: AnnotationSet) -> None:
        if not ann[self.seg_id].suggested:
            raise ValueError(f"segment {self.seg_id!r} is not a suggestion")
        super().do(ann)
        self.text = f"Reject {self._old.label}" if self._old else "Reject"


class SplitSegment(Command):
    """Split a segment at time ``at`` into two; the right half gets a new id.

    ``at`` must be strictly inside the segment (a point cannot be split).
    """

    def __init__(self, seg_id: str, at: float, new_id: str | None = None):
        self.seg_id, self.at = seg_id, float(at)
        self.new_id = new_id or new_segment_id()
        self._old: Segment | None = None

    def do(self, ann: AnnotationSet) -> None:
        old = ann[self.seg_id]
        if old.is_point:
            raise ValueError(f"cannot split the point event {self.seg_id!r}")
        if not old.start < self.at < old.end:
            raise ValueError(f"split time {self.at} is not inside ({old.start}, {old.end})")
        self._old = old
        self.text = f"Split {old.label}"
        ann.replace(replace(old, end=self.at))
        ann.add(replace(old, id=self.new_id, start=self.at))

    def undo(self, ann: AnnotationSet) -> None:
        assert self._old is not None, "undo before do"
        ann.remove(self.new_id)
        ann.replace(self._old)

    @property
    def right_id(self) -> str:
        return self.new_id


class MergeSegments(Command):
    """Merge segments of one tier into the first of them, spanning from min start to max end.

    Parameters
    ----------
    seg_ids
        Two or more segments on the same tier (they need not touch: the gap is absorbed).
    label
        Label of the result; default the label of the earliest segment.
    """

    def __init__(self, seg_ids: Sequence[str], label: str | None = None):
        if len(seg_ids) < 2:
            raise ValueError("merge needs at least two segments")
        self.seg_ids = list(dict.fromkeys(seg_ids))
        self.label = label
        self._olds: list[Segment] = []
        self.kept_id: str | None = None

    def do(self, ann: AnnotationSet) -> None:
        olds = sorted((ann[i] for i in self.seg_ids), key=lambda s: (s.start, s.end))
        if len({s.tier for s in olds}) != 1:
            raise ValueError("can only merge segments of one tier")
        self._olds = olds
        first = olds[0]
        self.kept_id = first.id
        self.text = f"Merge {len(olds)} segments"
        for s in olds[1:]:
            ann.remove(s.id)
        ann.replace(
            replace(
                first,
                start=min(s.start for s in olds),
                end=max(s.end for s in olds),
                label=self.label or first.label,
                suggested=all(s.suggested for s in olds),
            )
        )

    def undo(self, ann: AnnotationSet) -> None:
        ann.replace(self._olds[0])
        for s in self._olds[1:]:
            ann.add(s)


class CompoundCommand(Command):
    """Several commands as one undo step ("Import 42 segments", "Accept all suggestions").

    If one child fails in ``do``, the children already done are undone and the error is
    re-raised, so the step is all or nothing.
    """

    def __init__(self, commands: Iterable[Command], text: str):
        self.commands = list(commands)
        self.text = text

    def do(self, ann: AnnotationSet) -> None:
        done: list[Command] = []
        try:
            for c in self.commands:
                c.do(ann)
                done.append(c)
        except Exception:
            for c in reversed(done):
                c.undo(ann)
            raise

    def undo(self, ann: AnnotationSet) -> None:
        for c in reversed(self.commands):
            c.undo(ann)


# The stack that runs these commands lives in its own module; imported here so
# ``from sensorlab.labeling.commands import UndoStack`` keeps working.
from sensorlab.labeling.undo_stack import UndoStack  # noqa: E402


__all__ = [
    "AcceptSuggestion",
    "AddSegment",
    "Command",
    "CompoundCommand",
    "DeleteSegment",
    "MergeSegments",
    "MoveSegment",
    "RejectSuggestion",
    "RelabelSegment",
    "SplitSegment",
    "UndoStack",
]
