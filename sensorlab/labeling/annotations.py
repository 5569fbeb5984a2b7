"""The annotation model: segments on tiers, the project's label set, and live-label import.

Everything here is Qt-free. The GUI observes an `AnnotationSet` through its psygnal signals
and changes it only through commands (`sensorlab.labeling.commands`), so that every edit is
undoable and autosaved.

Times are host-clock seconds (float64), the session clock shared by every stream. A point
event is a `Segment` whose ``start == end``.

This module gathers them under one name: `Segment` and `Tier` are in `segment.py`,
`AnnotationSet` in `annotation_set.py`, the live-label import in `live_events.py`, the
label set in `labelset.py` (views import them all from here).
"""

from __future__ import annotations

from sensorlab.labeling.annotation_set import AnnotationSet
from sensorlab.labeling.labelset import DEFAULT_COLORS, LabelDef, LabelSet
from sensorlab.labeling.live_events import annotations_from_live_events
from sensorlab.labeling.segment import (
    DEFAULT_TIER,
    LIVE_TIER,
    Segment,
    Tier,
    new_segment_id,
)

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
