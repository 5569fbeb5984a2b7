"""Helpers shared by the format modules."""

from __future__ import annotations

from sensorlab.labeling.annotations import AnnotationSet, Segment


def select(annotations: AnnotationSet, tier: str | None, include_suggested: bool) -> list[Segment]:
    """Segments to export: one tier or all, reviewed only unless asked, sorted by start."""
    if tier is not None and tier not in annotations.tier_names:
        raise KeyError(f"no tier {tier!r}; tiers: {', '.join(annotations.tier_names) or '(none)'}")
    return [s for s in annotations.segments(tier) if include_suggested or not s.suggested]
