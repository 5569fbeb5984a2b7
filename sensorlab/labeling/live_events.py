"""Live labels recorded in a session's ``labels`` events stream (JSON start / stop / point
messages) → an `AnnotationSet`: starts and stops paired per label, an unmatched stop kept as a
point, an unstopped start closed at the end of the recording.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sensorlab.labeling.annotation_set import AnnotationSet
from sensorlab.labeling.segment import DEFAULT_TIER, Segment, new_segment_id

log = logging.getLogger(__name__)


@dataclass
class _Open:
    start: float
    tier: str


def annotations_from_live_events(
    events: Iterable[tuple[float, str]],
    *,
    tier: str = DEFAULT_TIER,
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
        Tier for events that name none: the tier the labeling view's keys label in, so live
        and later labels are one set (``source="live"`` tells them apart).
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
