"""Session time: host-clock seconds inside, seconds from the session start outside.

Every timestamp in a session (samples, live labels, the sidecar) is host-clock seconds
(monotonic, e.g. ``2104.83``). People read and write times from the session start: the
labeling window shows ``01:14.200``, and a label file made in Audacity on the session's
audio starts at 0. So label files are written and read relative to `SessionSpan.origin`
(``metadata.start_host_time``; the earliest sample when a file lacks it) unless asked for
host-clock times (``--absolute``), and printed times are `format_offset` of the difference.
The sidecar stays in host-clock seconds: it is the canonical store.

Examples
--------
>>> format_offset(74.2), format_offset(-0.5), format_offset(3725.0)
('01:14.200', '-00:00.500', '62:05.000')
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sensorlab.labeling.annotations import Segment

#: Segments ending this close before the session (or starting this close after it) still count as inside.
SPAN_TOLERANCE = 1e-3


def format_offset(seconds: float) -> str:
    """``mm:ss.mmm`` (minutes not wrapped at 60, a sign when negative), as in the labeling window."""
    if not math.isfinite(seconds):
        return str(seconds)
    ms = round(abs(seconds) * 1000.0)
    minutes, ms = divmod(ms, 60_000)
    return f"{'-' if seconds < 0 and ms + minutes else ''}{minutes:02d}:{ms / 1000.0:06.3f}"


@dataclass(frozen=True)
class SessionSpan:
    """Where a session lies on the host clock.

    Attributes
    ----------
    origin
        Session start: host time shown as ``00:00.000`` and subtracted in relative label files.
    begin, end
        Host-time extent of everything recorded (``begin < origin`` with a pre-roll).
    """

    origin: float
    begin: float
    end: float

    def relative(self, t: float) -> str:
        """``t`` (host clock) as ``mm:ss.mmm`` from the session start."""
        return format_offset(t - self.origin)

    def describe(self) -> str:
        """The extent as ``00:00.000–01:02.345`` from the session start."""
        return f"{self.relative(self.begin)}–{self.relative(self.end)}"

    def touches(self, seg: Segment, tolerance: float = SPAN_TOLERANCE) -> bool:
        """True when ``seg`` overlaps the session (within ``tolerance`` seconds)."""
        return seg.end >= self.begin - tolerance and seg.start <= self.end + tolerance

    def any_inside(self, segments: Iterable[Segment]) -> bool:
        return any(self.touches(s) for s in segments)


def span_of(session: Any) -> SessionSpan:
    """`SessionSpan` of an open `sensorlab.session.reader.Session`."""
    from sensorlab.acquisition.lsl.runtime import clock_stream_of

    # An LSL clock stream starts with the measurement in force at the first sample, often
    # seconds before Record: it is no data to show, so it does not widen the timeline.
    firsts = [float(st.first_time) for st in session.streams.values() if st.count and clock_stream_of(st.info) is None]
    lasts = [float(st.last_time) for st in session.streams.values() if st.count]
    md = session.metadata
    origin = md.start_host_time if md.start_host_time is not None else min(firsts, default=0.0)
    origin = float(origin)
    end = max([*lasts, *([float(md.end_host_time)] if md.end_host_time is not None else [])], default=origin)
    return SessionSpan(origin, min([origin, *firsts]), max(end, origin))


class SessionUnreadable(ValueError):
    """A session file cannot be read (damaged, not a session, newer format): one line naming it."""


def one_line(e: BaseException) -> str:
    """An exception as one line (a KeyError without its quotes, newlines folded)."""
    msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
    return " ".join(str(msg).split()) or type(e).__name__


def open_session(path: str | Path):
    """`Session.open`, turning any failure into `SessionUnreadable` with one line naming the file."""
    from sensorlab.session.reader import Session

    try:
        return Session.open(path)
    except (OSError, RuntimeError, ValueError, KeyError) as e:
        msg = one_line(e)
        if Path(path).name in msg:
            raise SessionUnreadable(msg) from e
        raise SessionUnreadable(f"{path}: cannot read this session ({msg})") from e


def session_span(path: str | Path) -> SessionSpan:
    """`SessionSpan` of a session file; `SessionUnreadable` if it cannot be read."""
    with open_session(path) as s:
        try:
            return span_of(s)
        except (OSError, RuntimeError, ValueError, KeyError) as e:
            raise SessionUnreadable(f"{path}: cannot read this session's times ({one_line(e)})") from e


__all__ = ["SessionSpan", "SessionUnreadable", "format_offset", "one_line", "open_session", "session_span", "span_of"]
