"""What ``sensorlab info SESSION`` says about the session's labels sidecar (``run1.labels.json``).

Labels outside the session's start and end are legal (a pre-roll records samples before the
start, and labels imported from another tool may reach past the end), so the reader keeps
them. But a label that touches no stream's samples at all usually comes from a hand edit or an
import with the wrong time origin; the summary counts such labels and shows the first one, so
the mistake is seen before it becomes an empty window in a dataset.

Qt-free; `sensorlab.session` cannot import this package (layers), so the CLI adds these lines
after the session's own summary.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sensorlab.labeling.segment import Segment
from sensorlab.labeling.store import SidecarError, load_sidecar, sidecar_path
from sensorlab.labeling.timebase import SPAN_TOLERANCE, one_line, open_session, span_of


def _outside_every_stream(segments: list[Segment], intervals: list[tuple[float, float]]) -> list[Segment]:
    return [s for s in segments
            if not any(s.end >= a - SPAN_TOLERANCE and s.start <= b + SPAN_TOLERANCE for a, b in intervals)]  # fmt: skip


def sidecar_lines(session_path: str | Path) -> list[str]:
    """Lines (indented like `format_summary`'s) on the sidecar: labels per tier, and a ``!`` line
    for labels lying entirely outside every stream's samples; ``[]`` without a sidecar.

    A sidecar that cannot be read gives its one-line error as a ``!`` line: the session's own
    report stays readable.
    """
    session_path = Path(session_path)
    path = sidecar_path(session_path)
    try:
        ann = load_sidecar(session_path)
    except SidecarError as e:
        return ["", f"  ! {one_line(e)}"]
    if ann is None:
        return []
    segments = list(ann)
    tiers = Counter(s.tier for s in segments)
    counts = ", ".join(f"{tier} {n}" for tier, n in sorted(tiers.items())) or "none"
    lines = ["", f"  labels ({path.name}): {counts}"]
    with open_session(session_path) as s:
        span = span_of(s)
        intervals = [(float(st.first_time), float(st.last_time)) for st in s.streams.values() if st.count]
    outside = sorted(_outside_every_stream(segments, intervals), key=lambda seg: seg.start)
    if outside:
        first = outside[0]
        lines.append(f"  ! {len(outside)} label(s) lie outside every stream's samples (recorded {span.describe()}); "
                     f"first: {first.label!r} on tier {first.tier!r} at {span.relative(first.start)}–{span.relative(first.end)}: "
                     f"move them in `sensorlab label {session_path}`, or fix their times in {path.name}")  # fmt: skip
    return lines


__all__ = ["sidecar_lines"]
