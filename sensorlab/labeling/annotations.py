"""The annotation model: segments on tiers, the project's label set, and live-label import.

Everything here is Qt-free. The GUI observes an `AnnotationSet` through its psygnal signals
and changes it only through commands (`sensorlab.labeling.commands`), so that every edit is
undoable and autosaved.

Times are host-clock seconds (float64), the session clock shared by every stream. A point
event is a `Segment` whose ``start == end``.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from psygnal import Signal

# The label set lives in its own module; re-exported because views import it from here.
from sensorlab.labeling.labelset import DEFAULT_COLORS, LabelDef, LabelSet

log = logging.getLogger(__name__)

#: Tier used when a format or a source has no notion of tiers.
DEFAULT_TIER = "default"
#: Tier that live labels recorded during a session start in.
LIVE_TIER = "live"


def new_segment_id() -> str:
    """Return a new unique segment id (random, so ids from different files never clash)."""
    return uuid.uuid4().hex[:16]


@dataclass(frozen=True)
class Segment:
    """One annotation: a labelled time span, or a point event when ``start == end``.

    Segments are immutable; an edit replaces the segment with a new one carrying the same
    ``id`` (`dataclasses.replace`), which is what lets commands undo by swapping values.

    Parameters
    ----------
    id
        Unique within an `AnnotationSet`; stable across edits, saves and undo.
    tier
        Name of the tier it lives on (segments on different tiers may overlap freely).
    label
        Label name (normally one of the project's `LabelSet`, but any string is kept).
    start, end
        Session-clock seconds, ``start <= end``.
    suggested
        True for an auto-suggestion not yet reviewed; the GUI draws it distinctly and
        `AcceptSuggestion` / `RejectSuggestion` resolve it.
    source
        Where it came from: ``""`` (made by hand), ``"live"``, ``"import:eaf"``,
        ``"suggest:energy:mic"``, ...
    score
        Confidence of a suggestion, or NaN.

    Examples
    --------
    >>> s = Segment(id="a", tier="activity", label="wave", start=1.0, end=2.5)
    >>> s.duration, s.is_point
    (1.5, False)
    """

    id: str
    tier: str
    label: str
    start: float
    end: float
    suggested: bool = False
    source: str = ""
    score: float = math.nan

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", float(self.start))
        object.__setattr__(self, "end", float(self.end))
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise ValueError(f"segment {self.id!r} has a non-finite time ({self.start}, {self.end})")
        if self.end < self.start:
            raise ValueError(f"segment {self.id!r} ends ({self.end}) before it starts ({self.start})")
        if not self.tier:
            raise ValueError(f"segment {self.id!r} has an empty tier name")

    @classmethod
    def create(
        cls, tier: str, label: str, start: float, end: float | None = None, **kwargs: Any
    ) -> Segment:
        """Make a segment with a fresh id; ``end=None`` makes a point event.

        Examples
        --------
        >>> Segment.create("activity", "clap", 3.0).is_point
        True
        """
        return cls(new_segment_id(), tier, label, start, start if end is None else end, **kwargs)

    @property
    def is_point(self) -> bool:
        return self.start == self.end

    @property
    def duration(self) -> float:
        return self.end - self.start

    def overlaps(self, other: Segment) -> bool:
        """True if the two share time. Touching edges do not count; a point inside a span does."""
        if self.is_point and other.is_point:
            return self.start == other.start
        if self.is_point or other.is_point:
            p, span = (self, other) if self.is_point else (other, self)
            return span.start < p.start < span.end
        return max(self.start, other.start) < min(self.end, other.end)

    def to_dict(self) -> dict[str, Any]:
        d = {name: getattr(self, name) for name in self.__dataclass_fields__}  # asdict deep-copies: 20× slower
        if math.isnan(self.score):
            del d["score"]  # JSON has no NaN; absent means "no score"
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


@dataclass(frozen=True)
class Tier:
    """A named layer of segments ("activity", "speaker"). Tiers may overlap each other."""

    name: str
    description: str = ""


# --------------------------------------------------------------------------------------------
# Annotation set
# --------------------------------------------------------------------------------------------


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
        return AnnotationSet(self._segments.values(), self._tiers.values())

    # -- plain data (the sidecar uses these) ---------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        segs = sorted(self._segments.values(), key=lambda s: (s.tier, s.start, s.end, s.id))
        return {
            "tiers": [asdict(t) for t in self._tiers.values()],
            "segments": [s.to_dict() for s in segs],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AnnotationSet:
        tiers = [Tier(**{k: v for k, v in t.items() if k in Tier.__dataclass_fields__}) for t in d.get("tiers", [])]
        return cls((Segment.from_dict(s) for s in d.get("segments", [])), tiers)


# --------------------------------------------------------------------------------------------
# Live labels recorded during a session
# --------------------------------------------------------------------------------------------


@dataclass
class _Open:
    start: float
    tier: str


def annotations_from_live_events(
    events: Iterable[tuple[float, str]],
    *,
    tier: str = LIVE_TIER,
    end_time: float | None = None,
) -> AnnotationSet:
    """Turn the ``labels`` events stream recorded live into initial annotations.

    Each event is ``(time, text)`` where ``text`` is UTF-8 JSON:
    ``{"label": "wave", "type": "point" | "start" | "stop"}``, optionally with ``"tier"``.

    Rules (chosen so that nothing the user pressed is silently dropped):

    - ``point`` → a point segment at the event time.
    - ``start`` … ``stop`` of the same label (and tier) → one segment. Different labels may
      be open at once (overlapping segments).
    - A second ``start`` of a label that is already open closes the open one at that time
      and opens a new one (a restart, as when a key is pressed twice).
    - A ``stop`` with no open ``start`` becomes a point segment (so the time is kept) and
      is logged.
    - A ``start`` never stopped ends at ``end_time`` (the end of the recording) if given,
      else at the last event time, and is logged.
    - Text that is not JSON, or JSON without a ``label``, is kept as a point segment whose
      label is the raw text (markers sent by other tools).

    Parameters
    ----------
    events
        ``(time, json_text)`` pairs; they are sorted by time (stable) first.
    tier
        Tier for events that name none.
    end_time
        Session end, used to close unterminated segments.

    Returns
    -------
    AnnotationSet
        Segments with ``source="live"``.

    Examples
    --------
    >>> ann = annotations_from_live_events([
    ...     (1.0, '{"label": "wave", "type": "start"}'),
    ...     (2.0, '{"label": "wave", "type": "stop"}'),
    ...     (3.0, '{"label": "clap", "type": "point"}')])
    >>> [(s.label, s.start, s.end) for s in ann]
    [('wave', 1.0, 2.0), ('clap', 3.0, 3.0)]
    """
    evs = sorted(((float(t), txt) for t, txt in events), key=lambda e: e[0])
    segments: list[Segment] = []
    open_: dict[tuple[str, str], _Open] = {}
    last_t = evs[-1][0] if evs else 0.0
    # A session's events repeat a few texts (one per label and type): each is parsed once.
    # Ten hours of live labels took a third of opening the labeling view in `json.loads`
    # and in one ``segment_added`` signal per segment (now one bulk `replace_all`).
    parsed: dict[str | bytes, object] = {}

    def emit(label: str, tr: str, t0: float, t1: float) -> None:
        segments.append(Segment(new_segment_id(), tr, label, t0, t1, source="live"))

    for t, raw in evs:
        if raw in parsed:
            txt, msg = parsed[raw]
        else:
            txt = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
            try:
                msg = json.loads(txt)
            except (json.JSONDecodeError, TypeError):
                msg = None
            parsed[raw] = (txt, msg)
        if not isinstance(msg, dict) or not isinstance(msg.get("label"), str):
            emit(str(txt), tier, t, t)
            continue
        label, kind, tr = msg["label"], str(msg.get("type", "point")), str(msg.get("tier") or tier)
        key = (tr, label)
        if kind == "start":
            if key in open_:
                emit(label, tr, open_[key].start, t)
            open_[key] = _Open(t, tr)
        elif kind == "stop":
            if key in open_:
                emit(label, tr, open_.pop(key).start, t)
            else:
                log.warning("live label %r stopped at %.6f without a start; kept as a point", label, t)
                emit(label, tr, t, t)
        else:
            emit(label, tr, t, t)
    for (tr, label), o in open_.items():
        t1 = max(o.start, end_time if end_time is not None else last_t)
        log.warning("live label %r started at %.6f was never stopped; closed at %.6f", label, o.start, t1)
        emit(label, tr, o.start, t1)
    out = AnnotationSet()
    out.replace_all(segments)
    return out


__all__ = [
    "DEFAULT_COLORS",
    "DEFAULT_TIER",
    "LIVE_TIER",
    "AnnotationSet",
    "LabelDef",
    "LabelSet",
    "Segment",
    "Tier",
    "annotations_from_live_events",
    "new_segment_id",
]
