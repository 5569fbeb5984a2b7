"""`AnnotationSet`: all segments of one session on named tiers, with psygnal change signals and
time queries (a sorted index rebuilt after changes). Qt-free; the GUI observes the signals and
changes the set only through commands (`sensorlab.labeling.commands`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import Any

import numpy as np
from psygnal import Signal

from sensorlab.labeling.segment import Segment, Tier


class AnnotationSet:
    """All segments of one session, on named tiers, with change signals and time queries.

    Mutating methods (`add`, `replace`, `remove`, `add_tier`, `remove_tier`, `reset`) are
    the primitives that commands call; views must not call them directly (use
    `sensorlab.labeling.commands.UndoStack.push`). Signals fire synchronously on the thread
    that made the change.

    Signals
    -------
    segment_added(Segment), segment_changed(old, new), segment_removed(Segment),
    tier_added(Tier), tier_removed(Tier), reset() after a bulk replacement (re-read all).

    Examples
    --------
    >>> ann = AnnotationSet()
    >>> ann.add(Segment("a", "activity", "wave", 1.0, 2.0))
    >>> [s.label for s in ann.in_range(0.0, 1.5)]
    ['wave']
    >>> ann.next_segment(0.0).id
    'a'
    """

    segment_added = Signal(Segment)
    segment_changed = Signal(Segment, Segment)
    segment_removed = Signal(Segment)
    tier_added = Signal(Tier)
    tier_removed = Signal(Tier)
    reset = Signal()

    def __init__(self, segments: Iterable[Segment] = (), tiers: Iterable[Tier] = ()):
        self._tiers: dict[str, Tier] = {}
        self._segments: dict[str, Segment] = {}
        self._index: tuple[np.ndarray, np.ndarray, list[Segment]] | None = None
        for t in tiers:
            self._tiers[t.name] = t
        for s in segments:
            self._insert(s)
        #: The label set the session is labeled with (`LabelSet.to_dict` entries: name, colour,
        #: hotkey), saved in the sidecar so reopening it gives the same keys; [] when unknown.
        self.label_defs: list[dict[str, Any]] = []

    # -- container protocol -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._segments)

    def __iter__(self) -> Iterator[Segment]:
        """Segments sorted by (start, end, tier)."""
        return iter(self._sorted()[2])

    def __contains__(self, seg_id: object) -> bool:
        return seg_id in self._segments

    def __getitem__(self, seg_id: str) -> Segment:
        return self._segments[seg_id]

    def get(self, seg_id: str) -> Segment | None:
        return self._segments.get(seg_id)

    @property
    def tiers(self) -> list[Tier]:
        """Tiers in creation order (every segment's tier exists)."""
        return list(self._tiers.values())

    @property
    def tier_names(self) -> list[str]:
        return list(self._tiers)

    # -- primitives (commands call these) ------------------------------------------------
    def _insert(self, seg: Segment) -> None:
        if seg.id in self._segments:
            raise KeyError(f"segment id {seg.id!r} already exists")
        if seg.tier not in self._tiers:
            self._tiers[seg.tier] = Tier(seg.tier)
            self.tier_added.emit(self._tiers[seg.tier])
        self._segments[seg.id] = seg
        self._index = None

    def add(self, seg: Segment) -> None:
        """Add a segment (its tier is created if needed)."""
        self._insert(seg)
        self.segment_added.emit(seg)

    def replace(self, new: Segment) -> Segment:
        """Replace the segment with ``new.id`` by ``new``; returns the old one."""
        old = self._segments[new.id]
        if new.tier not in self._tiers:
            self.add_tier(Tier(new.tier))
        self._segments[new.id] = new
        self._index = None
        self.segment_changed.emit(old, new)
        return old

    def remove(self, seg_id: str) -> Segment:
        seg = self._segments.pop(seg_id)
        self._index = None
        self.segment_removed.emit(seg)
        return seg

    def add_tier(self, tier: Tier) -> None:
        if tier.name in self._tiers:
            raise ValueError(f"tier {tier.name!r} already exists")
        self._tiers[tier.name] = tier
        self.tier_added.emit(tier)

    def remove_tier(self, name: str) -> Tier:
        """Remove an empty tier (delete its segments first, through commands, to keep undo)."""
        if any(s.tier == name for s in self._segments.values()):
            raise ValueError(f"tier {name!r} still has segments")
        tier = self._tiers.pop(name)
        self.tier_removed.emit(tier)
        return tier

    def replace_all(self, segments: Iterable[Segment], tiers: Iterable[Tier] = ()) -> None:
        """Bulk replacement (load, import without merge); emits only ``reset``."""
        self._tiers = {t.name: t for t in tiers}
        self._segments = {}
        self._index = None
        with self.tier_added.blocked():
            for s in segments:
                self._insert(s)
        self.reset.emit()

    # -- queries ---------------------------------------------------------------------------
    def _sorted(self) -> tuple[np.ndarray, np.ndarray, list[Segment]]:
        # Rebuilt lazily after edits: queries on an hour of labels are then vectorised, and
        # a drag (one edit per release) costs one O(n log n) sort, which is negligible.
        if self._index is None:
            segs = sorted(self._segments.values(), key=lambda s: (s.start, s.end, s.tier, s.id))
            starts = np.fromiter((s.start for s in segs), np.float64, len(segs))
            ends = np.fromiter((s.end for s in segs), np.float64, len(segs))
            self._index = (starts, ends, segs)
        return self._index

    def sorted_index(self) -> tuple[np.ndarray, np.ndarray, list[Segment]]:
        """``(starts, ends, segments)`` sorted by start. A new tuple after every change, so a
        view may cache what it derives from it as long as it gets the same object back."""
        return self._sorted()

    def segments(self, tier: str | None = None, *, suggested: bool | None = None) -> list[Segment]:
        """Segments sorted by start, optionally of one tier and/or suggestion state."""
        return [
            s for s in self._sorted()[2]
            if (tier is None or s.tier == tier) and (suggested is None or s.suggested == suggested)
        ]

    def in_range(self, t0: float, t1: float, tier: str | None = None) -> list[Segment]:
        """Segments that intersect the closed interval ``[t0, t1]``, sorted by start.

        Point events on either bound are included, so a view showing ``[t0, t1]`` draws
        every marker it contains.
        """
        starts, ends, segs = self._sorted()
        hit = np.flatnonzero((starts <= t1) & (ends >= t0))
        return [segs[i] for i in hit if tier is None or segs[i].tier == tier]

    def at(self, t: float, tier: str | None = None) -> list[Segment]:
        """Segments containing time ``t`` (edges included)."""
        return self.in_range(t, t, tier)

    def next_segment(
        self, t: float, tier: str | None = None, label: str | None = None, *, eps: float = 1e-9
    ) -> Segment | None:
        """First segment starting strictly after ``t`` (+``eps``): "jump to next label"."""
        starts, _, segs = self._sorted()
        i = int(np.searchsorted(starts, t + eps, side="right"))
        for s in segs[i:]:
            if (tier is None or s.tier == tier) and (label is None or s.label == label):
                return s
        return None

    def previous_segment(
        self, t: float, tier: str | None = None, label: str | None = None, *, eps: float = 1e-9
    ) -> Segment | None:
        """Last segment starting strictly before ``t`` (-``eps``): "jump to previous label"."""
        starts, _, segs = self._sorted()
        i = int(np.searchsorted(starts, t - eps, side="left"))
        for s in reversed(segs[:i]):
            if (tier is None or s.tier == tier) and (label is None or s.label == label):
                return s
        return None

    def overlapping(self, seg: Segment) -> list[Segment]:
        """Other segments on the same tier that overlap ``seg``."""
        return [o for o in self.in_range(seg.start, seg.end, seg.tier) if o.id != seg.id and o.overlaps(seg)]

    def labels(self) -> list[str]:
        """Distinct label names in use, sorted."""
        return sorted({s.label for s in self._segments.values()})

    def copy(self) -> AnnotationSet:
        out = AnnotationSet(self._segments.values(), self._tiers.values())
        out.label_defs = [dict(d) for d in self.label_defs]
        return out

    # -- plain data (the sidecar uses these) ---------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        segs = sorted(self._segments.values(), key=lambda s: (s.tier, s.start, s.end, s.id))
        return {
            "tiers": [asdict(t) for t in self._tiers.values()],
            **({"labels": [dict(d) for d in self.label_defs]} if self.label_defs else {}),
            "segments": [s.to_dict() for s in segs],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AnnotationSet:
        for key in ("tiers", "segments"):
            if not isinstance(d.get(key, []), list):
                raise ValueError(f"{key} must be a list, not {type(d[key]).__name__}")
        tiers = [Tier(**{k: v for k, v in t.items() if k in Tier.__dataclass_fields__}) for t in d.get("tiers", [])]
        out = cls((Segment.from_dict(s) for s in d.get("segments", [])), tiers)
        labels = d.get("labels", [])
        out.label_defs = [dict(e) for e in labels if isinstance(e, dict) and isinstance(e.get("name"), str)] if isinstance(labels, list) else []
        return out
