"""`session_parity`: a recorded session's host predictions against its device's class reports.

`sensorlab parity SESSION` compares them after the fact: the host model's predictions come
from the session (recorded live) or its ``.predictions.h5`` sidecar (`sensorlab predict`), the
device's reports from one of its events streams; the rule is
`sensorlab.inference.device_parity`'s (`compare_device`). This module finds the two streams
and says which is missing, and how to fix that, when one is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sensorlab.inference.device_parity import DeviceParity, DeviceReport, compare_device


@dataclass
class SessionParity:
    """`session_parity`'s answer: the report, the trace, and what was compared."""

    report: DeviceReport
    parity: DeviceParity
    predictions: str
    device: str
    origin: float  # session start on the host clock: printed times are offsets from it


def session_parity(session: str | Path, device: str = "", predictions: str = "", tolerance: float | None = None, delay: float = 0.0,
                   key: str = "label") -> SessionParity:  # fmt: skip
    """The host model's recorded predictions against the device's recorded class reports.

    Predictions come from the session (recorded live) or its ``.predictions.h5`` sidecar
    (`sensorlab predict`); ``device`` is an events stream of the session (default: the only
    one that is neither live labels nor a model's own events). Raises ValueError with one
    line naming what is missing and the fix; OSError if a file cannot be read."""
    from sensorlab.acquisition.names import LIVE_LABELS_STREAM
    from sensorlab.acquisition.source import StreamKind
    from sensorlab.inference.engine import is_predictions
    from sensorlab.inference.offline import predictions_path
    from sensorlab.labeling.timebase import span_of
    from sensorlab.session.reader import Session

    session = Path(session)
    files = [p for p in (session, predictions_path(session)) if p.is_file()]
    with Session.open(session) as s:
        origin = span_of(s).origin
        streams = s.streams
        made = {f"{n}_events" for n, st in streams.items() if is_predictions(st.info)}
        events = [n for n, st in streams.items() if st.info.kind is StreamKind.EVENTS and n != LIVE_LABELS_STREAM and n not in made]
        if not device:
            if len(events) != 1:
                have = f"events streams: {', '.join(events)}" if events else 'it has none: record the board with protocol = "events"'
                raise ValueError(f"{session.name}: say which events stream is the device's with --device ({have})")
            device = events[0]
        if device not in streams or streams[device].info.kind is not StreamKind.EVENTS:
            raise ValueError(f"{session.name} has no events stream {device!r} (events streams: {', '.join(events) or 'none'}); fix --device")
        ev = streams[device].read()
    found: dict[str, Path] = {}
    chunk = info = None
    for f in files:
        with Session.open(f) as s:
            for n, st in s.streams.items():
                if is_predictions(st.info):
                    found.setdefault(n, f)
            want = predictions or (next(iter(found)) if len(found) == 1 else "")
            if want in s.streams and is_predictions(s.streams[want].info) and chunk is None:
                chunk, info = s.streams[want].read(), s.streams[want].info
    if chunk is None:
        if not found:
            raise ValueError(f"no predictions in {session.name} or {predictions_path(session).name}: run `sensorlab predict MODEL {session.name}` first, "
                             "or record with the model running")  # fmt: skip
        raise ValueError(f"say which predictions to compare with --predictions ({', '.join(found)})" if not predictions else
                         f"no predictions stream {predictions!r} (there are: {', '.join(found)}); fix --predictions")  # fmt: skip
    name = predictions or next(iter(found))
    hop = 1.0 / info.nominal_rate if info.nominal_rate > 0 else None
    starts = chunk.device_times if chunk.device_times is not None else chunk.timestamps - (hop or 0.0)
    report, dp = compare_device(starts, chunk.timestamps, chunk.data, list(info.channel_names), ev.timestamps, [str(x) for x in ev.data],
                                hop=hop, tolerance=tolerance, delay=delay, key=key)  # fmt: skip
    return SessionParity(report, dp, name, device, origin)


__all__ = ["SessionParity", "session_parity"]
