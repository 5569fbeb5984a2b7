"""Helpers shared by the format modules."""

from __future__ import annotations

import math

from sensorlab.labeling.annotations import AnnotationSet, Segment


def select(annotations: AnnotationSet, tier: str | None, include_suggested: bool) -> list[Segment]:
    """Segments to export: one tier or all, reviewed only unless asked, sorted by start."""
    if tier is not None and tier not in annotations.tier_names:
        raise KeyError(f"no tier {tier!r}; tiers: {', '.join(annotations.tier_names) or '(none)'}")
    return [s for s in annotations.segments(tier) if include_suggested or not s.suggested]


def parse_time(value: object, where: str, what: str = "time") -> float:
    """A time value read from a label file, or ``ValueError`` naming ``where`` (``file:line``) and the fix."""
    text = value.strip() if isinstance(value, str) else value
    try:
        t = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        shown = text[:40] if isinstance(text, str) else text
        raise ValueError(f"{where}: {what} {shown!r} is not a number; write times in seconds, e.g. 12.5") from None
    if not math.isfinite(t):
        raise ValueError(f"{where}: {what} {text!r} is not a finite time; write times in seconds, e.g. 12.5")
    return t


def check_order(start: float, end: float, where: str) -> None:
    """``ValueError`` naming ``where`` when a segment ends before it starts."""
    if end < start:
        raise ValueError(f"{where}: end ({end!r}) is before start ({start!r}); swap them")
