"""One annotation: a `Segment` (a labeled span, or a point event when ``start == end``) on a
named `Tier`, with its id, suggestion flag, source and score, and its JSON form. Times are
host-clock seconds (float64).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

#: Tier used when a format or a source has no notion of tiers.
DEFAULT_TIER = "default"
#: Tier that live labels recorded during a session used to be read into. They now land
#: in `DEFAULT_TIER`, where the labeling view's keys put labels too (one user's labels were
#: split over two tiers), marked by ``source="live"``. Old sidecars keep this tier as saved.
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
        """A segment as saved (`to_dict`); raises ValueError naming the segment and the field
        when a hand-edited one has the wrong type. Kept as it was, ``"suggested": "false"``
        made a label an unreviewed suggestion (left out of exports and datasets) and
        ``"label": null`` a label named "None"."""
        if not isinstance(d, dict):
            raise ValueError(f"a segment must be an object with id, tier, label, start and end, not {type(d).__name__} {d!r:.40}")
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        name = known.get("id", "?")
        for key, want in _FIELD_TYPES.items():
            if key in known and not _is(known[key], want):
                raise ValueError(f"segment {name!r}: {key} must be {_WANT_WORDS[want]}, not {known[key]!r:.40}")
        try:
            return cls(**known)
        except TypeError as e:  # a required field missing
            raise ValueError(f"segment {name!r}: {e}".replace("Segment.__init__() ", "")) from None


_FIELD_TYPES = {"id": str, "tier": str, "label": str, "source": str, "suggested": bool, "start": float, "end": float, "score": float}
_WANT_WORDS = {str: "text", bool: "true or false", float: "a number of seconds (or a score)"}


def _is(value: Any, want: type) -> bool:
    if want is float:  # JSON numbers; a 400-digit integer would overflow float()
        return isinstance(value, (int, float)) and not isinstance(value, bool) and (not isinstance(value, int) or abs(value) < 1e300)
    return isinstance(value, want)


@dataclass(frozen=True)
class Tier:
    """A named layer of segments ("activity", "speaker"). Tiers may overlap each other."""

    name: str
    description: str = ""
