"""`AnnotationView`: annotation tiers as lanes of coloured regions on the timeline.

The view observes an `AnnotationSet` (psygnal ``segment_added/changed/removed``, ``tier_added``,
``reset``) and turns gestures into commands pushed on the `UndoStack`, so every edit can be
undone; it never edits the set itself:

- left-drag on empty lane space → `AddSegment` (current label, that lane's tier);
- dragging a region's edge or body previews on ``sigRegionChanged`` and commits one
  `MoveSegment` on ``sigRegionChangeFinished``; point events are draggable lines;
- a click selects (the labeling view's keys act on the selection).

The model's signals fire synchronously on the thread that pushed the command, which is
always the GUI thread here (commands come from gestures and keys), so they are connected
directly rather than through `qt_relay`.

Interactive graphics items (draggable regions and lines) exist only for segments in (or near)
the visible range, and only once the view has settled: while it scrolls or zooms, and whenever
a lane has more than `MAX_ITEMS` segments in view (zoomed out over hours), the lane's
`SegmentStrip` (`segment_strip.py`) paints them, looking the same, as one image. Creating
pyqtgraph items (a region, two lines and a text each) and recomputing their geometry every frame cost most of a scroll
frame and seconds when opening a long session (docs/PERFORMANCE.md). Suggestions are drawn
hatched with dashed edges.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from sensorlab.app.labeling.lane_texts import layout_lane_texts
from sensorlab.app.labeling.lanes import LANE_HEIGHT, Lane, LaneKey, lane_key, source_name
from sensorlab.app.labeling.timeline import Timeline
from sensorlab.labeling.annotations import AnnotationSet, Segment, Tier
from sensorlab.labeling.commands import AddSegment, Command, MoveSegment, UndoStack
from sensorlab.labeling.labelset import LabelSet
from sensorlab.labeling.onsets import snap_to_onset
from sensorlab.labeling.suggest import SUGGESTION_TIER

#: Gestures shorter than this many pixels are clicks, not new segments.
MIN_DRAG_PX = 4
#: Edges snap to onsets within this many pixels (when snapping is on).
SNAP_PX = 8
#: A lane with more segments than this in (or near) view draws them with its strip only
#: (zoom in to edit them).
MAX_ITEMS = 40


class _SelectOnClick:
    """A left click on the item selects its segment; a right click on a suggestion selects it
    and asks for its menu (accept / reject) (mixed into the pyqtgraph items below)."""

    view: AnnotationView
    seg_id: str

    def mouseClickEvent(self, ev):  # noqa: N802
        seg = self.view.annotations.get(self.seg_id)
        right = ev.button() == Qt.MouseButton.RightButton and seg is not None and seg.suggested
        if ev.button() == Qt.MouseButton.LeftButton or right:
            ev.accept()
            self.view.select(self.seg_id)
            if right:
                self.view.menu_requested.emit(self.seg_id, ev.screenPos().toPoint())
        else:
            super().mouseClickEvent(ev)


class SegmentItem(_SelectOnClick, pg.LinearRegionItem):
    """A span segment: coloured region with its label; hatched with dashed edges if suggested."""

    def __init__(self, view: AnnotationView, seg: Segment, color: str, selected: bool):
        c = QColor(color)
        fill = QColor(c)
        fill.setAlpha(70 if not seg.suggested else 150)
        brush = QBrush(fill, Qt.BrushStyle.BDiagPattern) if seg.suggested else QBrush(fill)
        hover = QColor(c)
        hover.setAlpha(120)
        edge = QColor("#ffffff") if selected else c
        style = Qt.PenStyle.DashLine if seg.suggested else Qt.PenStyle.SolidLine
        x0, x1 = seg.start - view.origin, seg.end - view.origin
        super().__init__((x0, x1), brush=brush, hoverBrush=pg.mkBrush(hover),
                         pen=pg.mkPen(edge, width=2 if selected else 1, style=style),
                         hoverPen=pg.mkPen("#ffffff", width=2), swapMode="block")
        self.view = view
        self.seg_id = seg.id
        self.text = pg.TextItem(("? " if seg.suggested else "") + seg.label, color="#ffffff" if selected else "#e8eaed", anchor=(0, 0.5))
        self.text.setParentItem(self)
        self._place_text()
        self.sigRegionChanged.connect(self._place_text)
        self.sigRegionChangeFinished.connect(lambda _item: view.commit_move(self.seg_id, *self.getRegion()))

    def _place_text(self, *_):
        # At the visible left edge when the start has scrolled out of view, as the strip draws
        # it: at the start the label hid behind the axis and showed its last letters ("h").
        a, b = self.getRegion()
        vb = self.getViewBox()
        left = vb.viewRange()[0][0] if vb is not None else a
        self.text.setPos(min(max(a, left), b), 0.5)



class PointItem(_SelectOnClick, pg.InfiniteLine):
    """A point event: a draggable vertical line with its label."""

    def __init__(self, view: AnnotationView, seg: Segment, color: str, selected: bool):
        style = Qt.PenStyle.DashLine if seg.suggested else Qt.PenStyle.SolidLine
        super().__init__(pos=seg.start - view.origin, angle=90, movable=True,
                         pen=pg.mkPen("#ffffff" if selected else color, width=3 if selected else 2, style=style),
                         hoverPen=pg.mkPen("#ffffff", width=3), label=("? " if seg.suggested else "") + seg.label,
                         labelOpts={"position": 0.5, "color": "#e8eaed", "anchors": [(0, 0.5), (0, 0.5)]})
        self.view = view
        self.seg_id = seg.id
        self.sigPositionChangeFinished.connect(lambda _l: view.commit_move(self.seg_id, self.value(), None))



class AnnotationView(QObject):
    """Draws an `AnnotationSet` as lanes on a `Timeline` and maps gestures to commands.

    Parameters
    ----------
    annotations, stack
        The model and the undo stack its edits go through.
    labels
        The project's label set (colours; the label of new segments).
    timeline
        Where the lanes go (appended below the tracks, one per tier).

    Signals
    -------
    selection_changed(seg_id)
        ``""`` when nothing is selected.
    message(text)
        A gesture could not be applied (e.g. an invalid edit); for the status bar.
    tier_activated(tier)
        The user worked in a lane (new segments from keys go to that tier).
    menu_requested(seg_id, screen position)
        A right click on a suggestion (selected): its accept / reject menu.
    """

    menu_requested = Signal(str, QPoint)
    selection_changed = Signal(str)
    message = Signal(str)
    tier_activated = Signal(str)

    def __init__(self, annotations: AnnotationSet, stack: UndoStack, labels: LabelSet, timeline: Timeline, parent=None):
        super().__init__(parent)
        self.annotations = annotations
        self.stack = stack
        self.labels = labels
        self.timeline = timeline
        self.origin = timeline.origin
        self.current_label = labels.names[0] if len(labels) else "label"
        self.lanes: dict[LaneKey, Lane] = {}
        self.items: dict[str, pg.GraphicsObject] = {}
        self.selected = ""
        self.snap_times: np.ndarray | None = None
        for tier in annotations.tiers:
            self._on_tier_added(tier)
        self._add_suggestion_lanes()
        annotations.segment_added.connect(self._on_segment_added)
        annotations.segment_changed.connect(self._on_segment_changed)
        annotations.segment_removed.connect(self._on_segment_removed)
        annotations.tier_added.connect(self._on_tier_added)
        annotations.reset.connect(self._on_reset)
        labels.label_changed.connect(lambda *_: self._rebuild())
        # While the view moves, items only leave (the strips draw what enters); once it has
        # settled, the segments in view get their interactive items.
        timeline.range_changed.connect(lambda *_: self._sync_visible(create=False))
        timeline.settled.connect(lambda *_: self._sync_visible())

    def disconnect_model(self) -> None:
        """Stop observing the model (before the view is thrown away)."""
        for sig, slot in ((self.annotations.segment_added, self._on_segment_added),
                          (self.annotations.segment_changed, self._on_segment_changed),
                          (self.annotations.segment_removed, self._on_segment_removed),
                          (self.annotations.tier_added, self._on_tier_added),
                          (self.annotations.reset, self._on_reset)):
            sig.disconnect(slot)

    # -- gestures → commands ------------------------------------------------------------------
    def push(self, command: Command) -> bool:
        """Push ``command``; an invalid edit becomes a status message, not an exception."""
        try:
            self.stack.push(command)
        except (ValueError, KeyError) as e:
            self.message.emit(f"{command.__class__.__name__}: {e}")
            return False
        return True

    def _px_to_seconds(self, px: float) -> float:
        t0, t1 = self.timeline.view_range
        return px * (t1 - t0) / max(1, self.timeline.pixels())

    def snap(self, t: float) -> float:
        if self.snap_times is None or not len(self.snap_times):
            return t
        return float(snap_to_onset(t, self.snap_times, self._px_to_seconds(SNAP_PX)))

    def create_from_drag(self, tier: str, x0: float, x1: float) -> None:
        self.tier_activated.emit(tier)
        a, b = sorted((x0, x1))
        if b - a < self._px_to_seconds(MIN_DRAG_PX):
            return
        seg = Segment.create(tier, self.current_label, self.snap(a + self.origin), self.snap(b + self.origin))
        if self.push(AddSegment(seg)):
            self.select(seg.id)

    def commit_move(self, seg_id: str, x0: float, x1: float | None) -> None:
        seg = self.annotations.get(seg_id)
        if seg is None:
            return
        start = self.snap(x0 + self.origin)
        end = None if x1 is None else self.snap(x1 + self.origin)
        if start == seg.start and (end is None or end == seg.end):
            return
        self.tier_activated.emit(seg.tier)
        if not self.push(MoveSegment(seg_id, start=start, end=end)):
            self._refresh_item(seg_id)  # put the item back where the model says
            return
        # The segment just dragged is the one being worked on: 1–9 relabel it, Delete deletes it
        # (they added a new point at the far-away cursor, or acted on an older selection).
        self.select(seg_id)

    def select(self, seg_id: str) -> None:
        if seg_id == self.selected:
            return
        old, self.selected = self.selected, seg_id
        for sid in (old, seg_id):
            self._refresh_item(sid)
        self._layout_texts()
        self._update_strips()  # a segment drawn by a strip shows its selection there
        if seg_id and seg_id in self.annotations:
            self.tier_activated.emit(self.annotations[seg_id].tier)
        self.selection_changed.emit(seg_id)

    # -- model → items ------------------------------------------------------------------------
    def _make_item(self, seg: Segment) -> pg.GraphicsObject:
        color = self.labels.color_of(seg.label)
        cls = PointItem if seg.is_point else SegmentItem
        item = cls(self, seg, color, seg.id == self.selected)
        item.setZValue(10 if seg.id == self.selected else (1 if seg.suggested else 5))
        if seg.suggested:  # hovering names the source (its lane does too)
            score = "" if seg.score is None else f", score {seg.score:.2f}"
            item.setToolTip(f"? {seg.label} from {source_name(seg.source)}{score}: A accept · R reject")
        self.lane_of(seg).plot.addItem(item, ignoreBounds=True)
        if isinstance(item, SegmentItem):
            item._place_text()  # now that it has a view to pin its label to
        return item

    def _remove_item(self, seg_id: str) -> None:
        item = self.items.pop(seg_id, None)
        if item is not None:
            vb = item.getViewBox()
            if vb is not None:
                vb.removeItem(item)
            item.deleteLater()

    def _refresh_item(self, seg_id: str) -> None:
        if seg_id in self.items:
            self._remove_item(seg_id)
            seg = self.annotations.get(seg_id)
            if seg is not None:
                self.items[seg_id] = self._make_item(seg)

    def _visible(self) -> tuple[float, float]:
        t0, t1 = self.timeline.view_range
        m = 0.25 * (t1 - t0)
        return t0 - m, t1 + m

    def _sync_visible(self, create: bool = True) -> None:
        """Items for the segments in (or near) view: removes the others; makes the missing
        ones unless ``create`` is False or their lane is dense (its strip draws them)."""
        if not create and not self.items:
            # Scrolling with no items (zoomed out, or still moving): nothing to remove, and
            # the strips repaint with the range by themselves. Listing the segments in view
            # (every one of a 10-hour session's thousands when zoomed out) each frame cost
            # ~0.5 ms of a scroll frame.
            return
        t0, t1 = self._visible()
        segs = self.annotations.in_range(t0, t1)
        per_lane: dict[LaneKey, int] = {}
        for s in segs:
            key = lane_key(s)
            per_lane[key] = per_lane.get(key, 0) + 1
        for key, lane in self.lanes.items():
            lane.dense = per_lane.get(key, 0) > MAX_ITEMS
        want = {s.id: s for s in segs if not self.lane_of(s).dense}
        for sid in [s for s in self.items if s not in want]:
            self._remove_item(sid)
        if create:
            for sid, seg in want.items():
                if sid not in self.items:
                    self.items[sid] = self._make_item(seg)
        for item in self.items.values():
            if isinstance(item, SegmentItem):
                item._place_text()
        self._layout_texts()
        self._update_strips()

    def _layout_texts(self) -> None:
        layout_lane_texts(self)  # lane_texts.py: no text printed over another

    def _update_strips(self) -> None:
        for lane in self.lanes.values():
            lane.strip.update()

    def _rebuild(self) -> None:
        for sid in list(self.items):
            self._remove_item(sid)
        self._sync_visible()

    def ensure_lane(self, tier: str) -> None:
        """A lane for ``tier`` before it holds a segment: a session nobody has labeled yet has
        no tiers, and without a lane there was nowhere to drag its first label."""
        self.lane_for(tier)

    def _on_tier_added(self, tier: Tier) -> None:
        if tier.name != SUGGESTION_TIER:  # its suggestions have their sources' lanes; a label there makes its lane
            self.lane_for(tier.name)

    def lane_for(self, key: LaneKey) -> Lane:
        """The lane of ``key`` (a tier, or a tier and a suggestion source), appended if new."""
        lane = self.lanes.get(key)
        if lane is None:
            lane = self.lanes[key] = Lane(self, key)
            self.timeline.add_plot(lane.plot, -LANE_HEIGHT)
        return lane

    def lane_of(self, seg: Segment) -> Lane:
        return self.lane_for(lane_key(seg))

    def _add_suggestion_lanes(self) -> None:
        """Before any item exists: the strips draw the suggestions zoomed out or while scrolling."""
        for key in sorted({lane_key(s) for s in self.annotations.segments(suggested=True)}):
            self.lane_for(key)

    def _on_segment_added(self, seg: Segment) -> None:
        t0, t1 = self._visible()
        lane = self.lane_of(seg)
        if seg.end >= t0 and seg.start <= t1 and not lane.dense:
            self.items[seg.id] = self._make_item(seg)
            self._layout_texts()
        self._update_strips()

    def _on_segment_changed(self, old: Segment, new: Segment) -> None:
        self._remove_item(new.id)
        self._on_segment_added(new)

    def _on_segment_removed(self, seg: Segment) -> None:
        self._remove_item(seg.id)
        self._layout_texts()  # a text it hid may show again
        self._update_strips()
        if seg.id == self.selected:
            self.select("")

    def _on_reset(self) -> None:
        for t in self.annotations.tiers:
            self._on_tier_added(t)
        self._add_suggestion_lanes()
        self.selected = ""
        self._rebuild()
        self.selection_changed.emit("")


__all__ = ["AnnotationView", "Lane", "LANE_HEIGHT", "PointItem", "SegmentItem"]
