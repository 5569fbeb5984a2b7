"""Everything datasets read from sessions goes through here: metadata, annotations, samples, hashes.

Keeping it in one module means a change in how sessions or labels are read (e.g. the
session package's block reader, or where annotations live) is one edit here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sensorlab.acquisition.source import Chunk, StreamKind
from sensorlab.datasets.windows import Span
from sensorlab.labeling import session_labels
from sensorlab.labeling.annotations import AnnotationSet
from sensorlab.labeling.timebase import SessionUnreadable, one_line, open_session  # noqa: F401 - re-exported

#: Stream kinds windowed as signals (resampled and filtered) vs as frames (nearest frame).
SIGNAL_KINDS = (StreamKind.AUDIO, StreamKind.TIMESERIES)
FRAME_KINDS = (StreamKind.VIDEO, StreamKind.FRAMES)
_HASH_BLOCK = 4 << 20


def read_annotations(session_path: str | Path) -> AnnotationSet:
    """The annotations of a session: its sidecar, else the live labels it recorded, else none."""
    return session_labels.read_annotations(session_path)


def tier_spans(annotations: AnnotationSet, tier: str, include: list[str] | None = None) -> list[Span]:
    """Reviewed segments of one tier as `Span`s (unreviewed suggestions never label a window)."""
    keep = set(include) if include is not None else None
    spans = [Span(s.label, s.start, s.end) for s in annotations.segments(tier, suggested=False) if keep is None or s.label in keep]
    return sorted(spans, key=lambda s: (s.start, s.end, s.label))


def spans_sha256(spans: list[Span]) -> str:
    """Hash of the labels a dataset used: canonical JSON of (label, start, end), exact float64."""
    doc = [[s.label, repr(s.start), repr(s.end)] for s in spans]
    return hashlib.sha256(json.dumps(doc, separators=(",", ":")).encode()).hexdigest()


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, read in blocks (never the whole file in memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_HASH_BLOCK):
            h.update(block)
    return h.hexdigest()


def session_fields(session: Any, path: Path) -> dict[str, Any]:
    """What spec filters and split keys can name: tags, then metadata (``name``, ``duration``, …).

    ``session`` is the file name without ``.h5`` (unique within a corpus), the default split key.
    """
    m = session.metadata
    fields: dict[str, Any] = {"session": path.stem, "file": path.name, "name": m.name or path.stem, "notes": m.notes,
                              "hostname": m.hostname, "software_version": m.software_version,
                              "start_time": m.start_time_iso, "duration": session.duration}  # fmt: skip
    fields.update({k: v for k, v in m.tags.items() if k not in ("session", "file")})
    return fields


def read_span(stream: Any, t0: float, t1: float) -> Chunk:
    """Samples of a session stream with ``t0 <= t < t1`` (frames decoded).

    Windows are read in groups around the windows kept, skipping unlabeled stretches, so this
    is a time-range read (`StreamReader.read`, which bisects without loading the timestamps)
    rather than `sensorlab.session.blocks.iter_blocks`, which walks a whole stream.
    """
    return stream.read(t0, t1)


__all__ = ["FRAME_KINDS", "SIGNAL_KINDS", "SessionUnreadable", "file_sha256", "one_line", "open_session", "read_annotations",
           "read_span", "session_fields", "spans_sha256", "tier_spans"]  # fmt: skip
