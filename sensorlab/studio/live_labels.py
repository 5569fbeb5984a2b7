"""`LiveLabels`: labels pressed while recording, stored in the session and kept for its sidecar.

A live label is one event in the session's ``labels`` EVENTS stream (append-only, like any
stream: the recording is never rewritten). Its text is JSON, ``{"label": ..., "type":
"point" | "start" | "stop"}``, the form `annotations_from_live_events` reads back. When the
recording stops, open spans are closed and the events are also saved as the annotations
sidecar (``run1.labels.json``), the labeling timeline's starting point.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from sensorlab.labeling.annotations import AnnotationSet, annotations_from_live_events
from sensorlab.labeling.store import save_annotations, sidecar_path

KINDS = ("point", "start", "stop")


def live_event(label: str, kind: str) -> str:
    """The JSON text of one live-label event (``kind``: point, start or stop)."""
    if kind not in KINDS:
        raise ValueError(f"live label kind {kind!r}: use one of {', '.join(KINDS)}")
    return json.dumps({"label": label, "type": kind})


def parse_event(text: str) -> tuple[str, str] | None:
    """``(label, kind)`` of a live-label event; None for other markers (plain text)."""
    try:
        msg = json.loads(text)
    except ValueError:
        return None
    if not isinstance(msg, dict) or "label" not in msg:
        return None
    return str(msg["label"]), str(msg.get("type", "point"))


class LiveLabels:
    """The live-label events of one recording (any thread).

    `add` keeps an event that was stored in the file; `open_spans` names labels started and
    not stopped (closed when the recording stops); `save` writes the sidecar.
    """

    def __init__(self) -> None:
        self._events: list[tuple[float, str]] = []
        self._open: set[str] = set()
        self._lock = threading.Lock()
        #: The label set the labels are pressed from (`LabelSet.to_dict` entries), saved in the
        #: sidecar with them; set by the GUI's label bar (None: not saved).
        self.label_defs: Callable[[], list[dict]] | None = None

    def clear(self) -> None:
        with self._lock:
            self._events, self._open = [], set()

    def add(self, t: float, text: str) -> None:
        parsed = parse_event(text)
        with self._lock:
            self._events.append((t, text))
            if parsed is not None:
                label, kind = parsed
                if kind == "start":
                    self._open.add(label)
                elif kind == "stop":
                    self._open.discard(label)

    @property
    def events(self) -> list[tuple[float, str]]:
        with self._lock:
            return list(self._events)

    @property
    def open_spans(self) -> list[str]:
        with self._lock:
            return sorted(self._open)

    def annotations(self, end_time: float) -> AnnotationSet:
        return annotations_from_live_events(self.events, end_time=end_time)

    def save(self, session: Path, end_time: float) -> int:
        """Write the events as the annotations sidecar of ``session``; returns how many
        annotations (0: nothing pressed, no file written). Raises OSError."""
        if not self.events:
            return 0
        ann = self.annotations(end_time)
        if self.label_defs is not None:  # the keys pressed, so the labeling window gives the same ones
            ann.label_defs = [dict(d) for d in self.label_defs()]
        save_annotations(ann, sidecar_path(session), session=session.name)
        return len(ann)
