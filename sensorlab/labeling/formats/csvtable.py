"""CSV label tables: a header ``tier,label,start,end`` and one row per segment.

Times are written with ``repr`` (shortest exact float64 decimal), so a round trip is
bit-exact. Import accepts extra columns (ignored) and columns in any order.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sensorlab.labeling.annotations import DEFAULT_TIER, AnnotationSet, Segment, new_segment_id
from sensorlab.labeling.formats._common import check_order, check_text, parse_time, select

COLUMNS = ("tier", "label", "start", "end")


def export_csv(
    annotations: AnnotationSet,
    path: str | Path,
    *,
    tier: str | None = None,
    include_suggested: bool = False,
    origin: float = 0.0,
) -> Path:
    """Write ``tier,label,start,end`` rows sorted by start; ``origin`` is subtracted from every time.

    Examples
    --------
    >>> export_csv(ann, "labels.csv")  # doctest: +SKIP
    """
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for s in select(annotations, tier, include_suggested):
            w.writerow([s.tier, s.label, repr(s.start - origin), repr(s.end - origin)])
    return path


def import_csv(path: str | Path, *, tier: str = DEFAULT_TIER, origin: float = 0.0) -> AnnotationSet:
    """Read a CSV with at least ``label,start,end`` columns; ``tier`` fills a missing column.

    ``origin`` is added to every time. A value that is not a number raises ``ValueError``
    naming the file, the line and the column.
    """
    out = AnnotationSet()
    with Path(path).open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        try:
            missing = {"label", "start", "end"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))} in the header line; "
                                 "the first line must name the columns tier,label,start,end")
            for row in reader:
                where = f"{path}:{reader.line_num}"
                start = parse_time(row.get("start"), where, "start")
                end = parse_time(row.get("end"), where, "end")
                check_order(start, end, where)
                start, end = start + origin, end + origin
                out.add(Segment(new_segment_id(), check_text(row.get("tier") or tier, where, "tier name"),
                                check_text(row.get("label") or "", where), start, end, source="import:csv"))
        except csv.Error as e:
            raise ValueError(f"{path}:{reader.line_num}: not a valid CSV line ({e})") from None
    return out


__all__ = ["export_csv", "import_csv"]
