"""Read the annotations of a recorded session: its sidecar, else the live labels it recorded.

Edits made after recording live in the sidecar ``run1.labels.json`` (`labeling.store`); a
session nobody has labeled yet starts from the live labels pressed while recording, stored
in its reserved EVENTS stream (`sensorlab.session.format.LABELS_STREAM`). The labeling view,
the ``sensorlab labels`` commands and dataset building all read annotations through here.
"""

from __future__ import annotations

from pathlib import Path

from sensorlab.labeling.annotations import AnnotationSet, annotations_from_live_events
from sensorlab.labeling.store import load_sidecar
from sensorlab.labeling.timebase import open_session
from sensorlab.session.format import LABELS_STREAM


def read_annotations(session_path: str | Path) -> AnnotationSet:
    """The annotations of a session: its sidecar, else its live labels, else empty.

    Examples
    --------
    >>> ann = read_annotations("run1.h5")  # doctest: +SKIP
    """
    session_path = Path(session_path)
    saved = load_sidecar(session_path)
    if saved is not None:
        return saved
    if not session_path.exists():
        return AnnotationSet()
    with open_session(session_path) as s:
        if LABELS_STREAM not in s.streams:
            return AnnotationSet()
        return annotations_from_live_events(s.events(LABELS_STREAM), end_time=s.metadata.end_host_time)


__all__ = ["LABELS_STREAM", "read_annotations"]
