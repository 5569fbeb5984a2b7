"""Audacity label tracks (``File > Export > Export Labels``): ``start<TAB>end<TAB>label``.

Point labels have ``start == end``. Audacity writes 6 decimals; we write ``repr`` floats
(up to 17 significant digits), which Audacity reads fine and which round-trip exactly.
Spectral-selection lines (starting with a backslash) are skipped on import. The format has
no tiers: export one tier (``tier=``) or all tiers flattened; import puts every label on
``tier``.
"""

from __future__ import annotations

from pathlib import Path

from sensorlab.labeling.annotations import DEFAULT_TIER, AnnotationSet, Segment, new_segment_id
from sensorlab.labeling.formats._common import check_order, check_text, parse_time, select


def export_audacity(
    annotations: AnnotationSet,
    path: str | Path,
    *,
    tier: str | None = None,
    include_suggested: bool = False,
    origin: float = 0.0,
) -> Path:
    """Write an Audacity label track.

    Parameters
    ----------
    tier
        Only this tier (default: all tiers, flattened, sorted by start).
    include_suggested
        Also write unreviewed suggestions.
    origin
        Subtracted from every time, e.g. the session start so that times match a WAV
        export of the session's audio that starts at 0. With the default 0 the round trip
        is bit-exact; with an origin, within one float64 ulp of the absolute time
        (picoseconds).

    Examples
    --------
    >>> export_audacity(ann, "labels.txt", tier="activity")  # doctest: +SKIP
    """
    path = Path(path)
    lines = []
    for s in select(annotations, tier, include_suggested):
        label = s.label.replace("\t", " ").replace("\n", " ")  # the format cannot hold these
        lines.append(f"{s.start - origin!r}\t{s.end - origin!r}\t{label}\n")
    path.write_text("".join(lines), encoding="utf-8", newline="\n")
    return path


def import_audacity(path: str | Path, *, tier: str = DEFAULT_TIER, origin: float = 0.0) -> AnnotationSet:
    """Read an Audacity label track; ``origin`` is added to every time.

    A malformed line raises ``ValueError`` naming the file and the line.
    """
    out = AnnotationSet()
    for n, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip() or line.startswith("\\"):
            continue
        parts = line.split("\t", 2)
        if len(parts) < 2:
            raise ValueError(f"{path}:{n}: expected 'start<TAB>end<TAB>label' (tab-separated, times in seconds), got {line[:60]!r}")
        where = f"{path}:{n}"
        start = parse_time(parts[0], where, "start")
        end = parse_time(parts[1], where, "end")
        check_order(start, end, where)
        start, end = start + origin, end + origin
        label = check_text(parts[2] if len(parts) > 2 else "", where)
        out.add(Segment(new_segment_id(), tier, label, start, end, source="import:audacity"))
    return out


__all__ = ["export_audacity", "import_audacity"]
