"""Label Studio time-series JSON (the ``timeserieslabels`` result format).

Export writes one task in Label Studio's JSON export layout::

    [{"data": {...}, "annotations": [{"result": [
        {"id": "…", "from_name": "<tier>", "to_name": "ts", "type": "timeserieslabels",
         "value": {"start": 12.5, "end": 14.0, "instant": false, "timeserieslabels": ["wave"]}}
    ]}]}]

``from_name`` (the name of the ``<TimeSeriesLabels>`` control) carries the tier. Times are
numbers in seconds on the session clock (or minus ``origin``), written with full float64
precision. Unreviewed suggestions go into ``predictions`` (Label Studio shows them as
pre-annotations to accept), which matches our review flow; import reads them back as
``suggested=True``.

Import also accepts a single task object, a bare result list, and results whose
``start``/``end`` are strings holding numbers. Date-time strings (Label Studio's
``timeFormat`` for date columns) are not supported: export the session time column as
seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sensorlab.labeling.annotations import DEFAULT_TIER, AnnotationSet, Segment, new_segment_id
from sensorlab.labeling.formats._common import select


def _result(s: Segment, to_name: str, origin: float) -> dict[str, Any]:
    return {
        "id": s.id[:10],
        "from_name": s.tier,
        "to_name": to_name,
        "type": "timeserieslabels",
        "value": {
            "start": s.start - origin,
            "end": s.end - origin,
            "instant": s.is_point,
            "timeserieslabels": [s.label],
        },
    }


def export_labelstudio(
    annotations: AnnotationSet,
    path: str | Path,
    *,
    tier: str | None = None,
    include_suggested: bool = True,
    to_name: str = "ts",
    data: dict[str, Any] | None = None,
    origin: float = 0.0,
) -> Path:
    """Write a Label Studio task file with our segments as time-series results.

    Parameters
    ----------
    tier
        Only this tier (default: all; each tier is its own ``from_name``).
    include_suggested
        Put unreviewed suggestions in the task's ``predictions``.
    to_name
        Name of the ``<TimeSeries>`` object tag in the labeling config.
    data
        The task's ``data`` (e.g. ``{"csv": "/data/upload/run1.csv"}``).
    origin
        Subtracted from every time.
    """
    path = Path(path)
    segs = select(annotations, tier, include_suggested)
    task: dict[str, Any] = {
        "data": data or {},
        "annotations": [{"result": [_result(s, to_name, origin) for s in segs if not s.suggested]}],
    }
    suggested = [_result(s, to_name, origin) for s in segs if s.suggested]
    if suggested:
        task["predictions"] = [{"model_version": "sensorlab-suggest", "result": suggested}]
    task["meta"] = {"sensorlab": {"time_origin": origin}}
    path.write_text(json.dumps([task], indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _results(doc: Any) -> list[tuple[dict[str, Any], bool]]:
    """(result, is_prediction) pairs from a task list, one task, or a bare result list."""
    tasks = doc if isinstance(doc, list) else [doc]
    out: list[tuple[dict[str, Any], bool]] = []
    for task in tasks:
        if not isinstance(task, dict):
            continue
        if "value" in task and "type" in task:  # a bare result
            out.append((task, False))
            continue
        for key, is_pred in (("annotations", False), ("completions", False), ("predictions", True)):
            for ann in task.get(key, []) or []:
                out.extend((r, is_pred) for r in ann.get("result", []))
    return out


def import_labelstudio(path: str | Path, *, tier: str = DEFAULT_TIER, origin: float | None = None) -> AnnotationSet:
    """Read ``timeserieslabels`` results; ``from_name`` becomes the tier.

    ``origin`` is added to every time; default: the one stored in the task's
    ``meta.sensorlab.time_origin`` by `export_labelstudio`, else 0.
    """
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    if origin is None:
        first = doc[0] if isinstance(doc, list) and doc else doc
        origin = float(((first or {}).get("meta") or {}).get("sensorlab", {}).get("time_origin", 0.0)) if isinstance(first, dict) else 0.0
    out = AnnotationSet()
    for r, is_pred in _results(doc):
        if r.get("type") != "timeserieslabels":
            continue
        v = r["value"]
        start = float(v["start"]) + origin
        end = start if v.get("instant") or "end" not in v else float(v["end"]) + origin
        for label in v.get("timeserieslabels") or [""]:
            out.add(Segment(new_segment_id(), r.get("from_name") or tier, label, start, end,
                            suggested=is_pred, source="import:labelstudio"))
    return out


__all__ = ["export_labelstudio", "import_labelstudio"]
