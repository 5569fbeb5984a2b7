"""CSV label tables: a header ``tier,label,start,end`` and one row per segment.

Times are written with ``repr`` (shortest exact float64 decimal), so a round trip is
bit-exact. Import accepts extra columns (ignored) and columns in any order.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sensorlab.labeling.annotations import DEFAULT_TIER, AnnotationSet, Segment, new_segment_id
from sensorlab.labeling.formats._common import select

COLUMNS = ("tier", "label", "start", "end")


def export_csv(
    annotations: AnnotationSet, path: str | Path, *, tier: str | None = None, include_suggested: bool = False
) -> Path:
    """Write ``tier,label,start,end`` rows sorted by start.

    Examples
    --------
    >>> export_csv(ann, "labels.csv")  # doctest: +SKIP
    """
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for s in select(annotations, tier, include_suggested):
            w.writerow([s.tier, s.label, repr(s.start), repr(s.end)])
    return path


def import_csv(path: str | Path, *, tier: str = DEFAULT_TIER) -> AnnotationSet:
    """Read a CSV with at least ``label,start,end`` columns; ``tier`` fills a missing column."""
    out = AnnotationSet()
    with Path(path).open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"label", "start", "end"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}; need tier,label,start,end")
        for row in reader:
            out.add(Segment(new_segment_id(), row.get("tier") or tier, row["label"],
                            float(row["start"]), float(row["end"]), source="import:csv"))
    return out


__all__ = ["export_csv", "import_csv"]
