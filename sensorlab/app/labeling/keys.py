"""Keyboard of the labeling view: one table from key to action, every edit a command.

Kept apart from `labeling_view` so the whole keyboard map is readable on one screen (the
table in `KeyHandler.__init__`) and documented once (docs/LABELING.md, "Labeling view").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from sensorlab.labeling.annotations import Segment
from sensorlab.labeling.commands import (
    AcceptSuggestion, AddSegment, DeleteSegment, MergeSegments, RejectSuggestion, RelabelSegment, SplitSegment,
)

if TYPE_CHECKING:
    from sensorlab.app.labeling.view import LabelingView

K = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


class KeyHandler:
    """Maps key presses of a `LabelingView` to actions."""

    def __init__(self, view: LabelingView):
        self.v = view
        self.table: dict[tuple[int, bool, bool], Callable[[], None]] = {
            # (key, ctrl, shift): action
            (K.Key_Space, False, False): view.toggle_play,
            (K.Key_Left, False, False): lambda: self.step(-0.01),
            (K.Key_Right, False, False): lambda: self.step(0.01),
            (K.Key_Left, False, True): lambda: self.step(-0.1),
            (K.Key_Right, False, True): lambda: self.step(0.1),
            (K.Key_Z, True, False): view.stack.undo,
            (K.Key_Z, True, True): view.stack.redo,
            (K.Key_Y, True, False): view.stack.redo,
            (K.Key_Delete, False, False): self.delete,
            (K.Key_Backspace, False, False): self.delete,
            (K.Key_S, False, False): self.split,
            (K.Key_M, False, False): self.merge,
            (K.Key_A, False, False): lambda: self.review(accept=True),
            (K.Key_R, False, False): lambda: self.review(accept=False),
            (K.Key_N, False, False): lambda: self.jump(+1),
            (K.Key_P, False, False): lambda: self.jump(-1),
            (K.Key_Plus, False, False): lambda: view.timeline.zoom(0.5),
            (K.Key_Equal, False, False): lambda: view.timeline.zoom(0.5),
            (K.Key_Minus, False, False): lambda: view.timeline.zoom(2.0),
            (K.Key_0, False, False): lambda: view.timeline.show_all(),
            (K.Key_Home, False, False): lambda: self.goto(view.timeline.t_begin),
            (K.Key_End, False, False): lambda: self.goto(view.timeline.t_end),
            (K.Key_Escape, False, False): lambda: view.annotation_view.select(""),
        }

    def handle(self, ev) -> bool:
        """Run the action of a key event; False if the key is not ours."""
        mods = ev.modifiers()
        key = ev.key()
        ctrl, shift = bool(mods & CTRL), bool(mods & SHIFT)
        if not ctrl and K.Key_1 <= key <= K.Key_9:
            self.digit(key - K.Key_0)
            return True
        if key == K.Key_Plus:  # '+' needs Shift on most layouts
            shift = False
        action = self.table.get((key, ctrl, shift))
        if action is None:
            return False
        action()
        return True

    # -- helpers ------------------------------------------------------------------------------
    @property
    def selected(self) -> Segment | None:
        sid = self.v.annotation_view.selected
        return self.v.annotations.get(sid) if sid else None

    def goto(self, t: float, select: str | None = None) -> None:
        tl = self.v.timeline
        tl.set_cursor(t)
        tl.ensure_visible(t)
        if select is not None:
            self.v.annotation_view.select(select)

    def step(self, fraction: float) -> None:
        t0, t1 = self.v.timeline.view_range
        self.goto(self.v.cursor + fraction * (t1 - t0))

    def _target(self) -> Segment | None:
        """The selection, else the span under the cursor on the active tier."""
        sel = self.selected
        if sel is not None:
            return sel
        spans = [s for s in self.v.annotations.at(self.v.cursor, self.v.tier) if not s.is_point]
        return spans[0] if spans else None

    # -- actions ------------------------------------------------------------------------------
    def digit(self, n: int) -> None:
        v, av = self.v, self.v.annotation_view
        lab = v.labels.by_hotkey(n)
        if lab is None:
            v.message.emit(f"no label has hotkey {n} (edit the label set)")
            return
        av.current_label = lab.name
        sel = self.selected
        if sel is not None:
            if sel.suggested:
                if av.push(AcceptSuggestion(sel.id, lab.name, v.tier)):
                    self._reviewed(sel.id, True)
            else:
                av.push(RelabelSegment(sel.id, lab.name))
            return
        t = av.snap(v.cursor)
        if v.playback.playing:  # start/stop a span while watching
            if n in v.open_spans:
                t0 = v.open_spans.pop(n)
                seg = Segment.create(v.tier, lab.name, min(t0, t), max(t0, t))
                av.push(AddSegment(seg))
                v.message.emit(f"{lab.name}: {seg.duration:.2f} s")
            else:
                v.open_spans[n] = t
                v.message.emit(f"{lab.name} started… press {n} again to stop")
            return
        seg = Segment.create(v.tier, lab.name, t)
        if av.push(AddSegment(seg)):
            av.select(seg.id)

    def end_open_spans(self) -> None:
        """Playback paused or stopped: each span started with a key ends at the cursor. Pausing
        where the sound ends is the natural gesture, and the started span was dropped."""
        v, av = self.v, self.v.annotation_view
        spans, v.open_spans = dict(v.open_spans), {}
        if av is None:
            return
        t = av.snap(v.cursor)
        for n, t0 in spans.items():
            lab = v.labels.by_hotkey(n)
            if lab is None:  # its hotkey was given to no label meanwhile (label set edited)
                continue
            seg = Segment.create(v.tier, lab.name, min(t0, t), max(t0, t))
            if av.push(AddSegment(seg)):
                v.message.emit(f"{lab.name}: {seg.duration:.2f} s (ended at the pause)")

    def delete(self) -> None:
        sel = self.selected
        if sel is not None:
            self.v.annotation_view.push(DeleteSegment(sel.id))

    def split(self) -> None:
        seg = self._target()
        if seg is None:
            self.v.message.emit("nothing to split: select a segment or put the cursor inside one")
            return
        cmd = SplitSegment(seg.id, self.v.cursor)
        if self.v.annotation_view.push(cmd):
            self.v.annotation_view.select(cmd.right_id)

    def merge(self) -> None:
        seg = self._target()
        nxt = seg and next((s for s in self.v.annotations.segments(seg.tier) if s.start >= seg.end and s.id != seg.id), None)
        if seg is None or nxt is None:
            self.v.message.emit("nothing to merge: select a segment that has a next one on its tier")
            return
        if self.v.annotation_view.push(MergeSegments([seg.id, nxt.id])):
            self.v.annotation_view.select(seg.id)

    def review(self, accept: bool) -> None:
        ann, cur = self.v.annotations, self.v.cursor
        sel = self.selected
        if sel is None or not sel.suggested:
            sugg = [s for s in ann.segments(suggested=True) if s.end >= cur]
            sel = sugg[0] if sugg else None
        if sel is None:
            self.v.message.emit("no suggestion to review after the cursor")
            return
        cmd = AcceptSuggestion(sel.id, tier=self.v.tier) if accept else RejectSuggestion(sel.id)  # into the labels tier, like `labels accept`
        if self.v.annotation_view.push(cmd):
            self._reviewed(sel.id, accept, sel.label)
            nxt = next((s for s in ann.segments(suggested=True) if s.start >= sel.start and s.id != sel.id), None)
            if nxt is not None:
                self.goto(nxt.start, select=nxt.id)
            else:
                self.v.annotation_view.select(sel.id if accept else "")

    def _reviewed(self, seg_id: str, accepted: bool, label: str = "") -> None:
        """The status line says what the key did and what is left: the previous message (say,
        a suggestion run's) would otherwise stay and read as the result of the key."""
        ann = self.v.annotations
        left = len(list(ann.segments(suggested=True)))
        done = f"accepted {ann[seg_id].label} into tier {ann[seg_id].tier}" if accepted else f"rejected {label}"
        self.v.message.emit(f"{done} (Ctrl+Z undoes) · {left} suggestion(s) left to review" if left else f"{done} · all suggestions reviewed")

    def jump(self, direction: int) -> None:
        ann, cur = self.v.annotations, self.v.cursor
        seg = ann.next_segment(cur) if direction > 0 else ann.previous_segment(cur)
        if seg is None:
            self.v.message.emit("no more labels " + ("after" if direction > 0 else "before") + " the cursor")
            return
        self.goto(seg.start, select=seg.id)


__all__ = ["KeyHandler"]
