"""The label set a session is labeled with when no project ``labels.toml`` names one.

Its sidecar keeps the set it was last labeled with (the labeling window stores its set with
every save; the studio stores its live labels' set with the recording's labels), so
reopening a session gives the same hotkeys and colours as before, and a session recorded in
the studio keeps the keys pressed while recording. Labels in use that the stored set lacks
(imported, accepted suggestions) are added after it, on the free keys. A session without a
stored set gets one built from its labels: reviewed labels first (sorted), a model's
suggestion labels after them. Qt-free.
"""

from __future__ import annotations

from sensorlab.labeling.annotation_set import AnnotationSet
from sensorlab.labeling.labelset import DEFAULT_COLORS, LabelDef, LabelSet


def labels_in_use(annotations: AnnotationSet) -> list[str]:
    """Reviewed labels (sorted), then the labels only suggestions carry: a model's suggestion
    labels (class2…) come after them, or running a model moved speech from key 2 to 3."""
    reviewed = sorted({s.label for s in annotations if s.label and not s.suggested})
    return reviewed + [n for n in annotations.labels() if n and n not in reviewed]


def stored_labelset(annotations: AnnotationSet) -> LabelSet | None:
    """The label set saved with the annotations, or None (none saved, or a hand edit broke it)."""
    if not annotations.label_defs:
        return None
    try:
        return LabelSet.from_dict({"labels": annotations.label_defs})
    except (TypeError, ValueError):  # clashing hotkeys, a bad colour: built from the labels instead
        return None


def session_labelset(annotations: AnnotationSet) -> LabelSet:
    """The stored label set plus the labels in use it lacks, else one built from those labels."""
    in_use = labels_in_use(annotations)
    labels = stored_labelset(annotations)
    if labels is None:
        return LabelSet.from_names(in_use or ["label"])  # beyond 9 without a hotkey, still in the set
    free = [k for k in range(1, 10) if labels.by_hotkey(k) is None]
    for name in (n for n in in_use if n not in labels):
        labels.add(LabelDef(name, DEFAULT_COLORS[len(labels) % len(DEFAULT_COLORS)], free.pop(0) if free else None))
    return labels


def remember_labelset(annotations: AnnotationSet, labels: LabelSet) -> None:
    """Keep ``labels`` with ``annotations``: the next save of the sidecar stores it."""
    annotations.label_defs = labels.to_dict()["labels"]


__all__ = ["labels_in_use", "remember_labelset", "session_labelset", "stored_labelset"]
