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
from sensorlab.labeling.formats._common import check_order, check_text, parse_time, select


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


NOT_LS = ("not a Label Studio export: {why}; expected a JSON list of tasks with \"annotations\" or "
          "\"predictions\" holding timeserieslabels results (Label Studio: Export > JSON)")


def _results(doc: Any, path: Path) -> list[tuple[str, dict[str, Any], bool]]:
    """(where, result, is_prediction) from a task list, one task, or a bare result list.

    Raises ``ValueError`` ("not a Label Studio export: …") when nothing in ``doc`` looks like
    a task or a result, so a wrong JSON file is not silently read as "0 segments".
    """
    if not isinstance(doc, (list, dict)):
        raise ValueError(f"{path}: " + NOT_LS.format(why=f"the file holds a JSON {type(doc).__name__}"))
    tasks = doc if isinstance(doc, list) else [doc]
    out: list[tuple[str, dict[str, Any], bool]] = []
    recognised = isinstance(doc, list) and not doc  # an empty project exports []
    for i, task in enumerate(tasks, 1):
        if not isinstance(task, dict):
            raise ValueError(f"{path}: " + NOT_LS.format(why=f"item {i} is a {type(task).__name__}, not a task object"))
        if "value" in task and "type" in task:  # a bare result
            out.append((f"result {i}", task, False))
            recognised = True
            continue
        for key, is_pred in (("annotations", False), ("completions", False), ("predictions", True)):
            if key not in task:
                continue
            recognised = True
            anns = task[key] or []
            if not isinstance(anns, list):
                raise ValueError(f"{path}: task {i}: \"{key}\" must be a list; " + NOT_LS.format(why="wrong layout"))
            for j, ann in enumerate(anns, 1):
                results = ann.get("result", []) if isinstance(ann, dict) else None
                if not isinstance(results, list):
                    raise ValueError(f"{path}: task {i}, {key} {j}: \"result\" must be a list; " + NOT_LS.format(why="wrong layout"))
                out.extend((f"task {i}, {key} {j}, result {k}", r, is_pred) for k, r in enumerate(results, 1))
    if not recognised:
        keys = sorted({k for t in tasks if isinstance(t, dict) for k in t})[:6]
        why = f"no task has annotations or predictions (keys found: {', '.join(keys)})" if keys else "the file holds no tasks"
        raise ValueError(f"{path}: " + NOT_LS.format(why=why))
    return out


def import_labelstudio(path: str | Path, *, tier: str = DEFAULT_TIER, origin: float | None = None) -> AnnotationSet:
    """Read ``timeserieslabels`` results; ``from_name`` becomes the tier.

    ``origin`` is added to every time; default: the one stored in the task's
    ``meta.sensorlab.time_origin`` by `export_labelstudio`, else 0.

    Raises ``ValueError`` naming the file and the task/result for a file that is not JSON,
    not in Label Studio's layout, holds results of other types only, or a time that is not
    a number.
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}:{e.lineno}: not valid JSON ({e.msg} at column {e.colno}); "
                         "export the project again from Label Studio (Export > JSON)") from None
    results = _results(doc, path)
    if origin is None:
        first = doc[0] if isinstance(doc, list) and doc else doc
        meta = first.get("meta") if isinstance(first, dict) else None
        stored = ((meta or {}).get("sensorlab") or {}).get("time_origin", 0.0) if isinstance(meta, dict) else 0.0
        origin = parse_time(stored, f"{path}: meta.sensorlab", "time_origin")
    out = AnnotationSet()
    other_types: set[str] = set()
    for where, r, is_pred in results:
        if not isinstance(r, dict) or r.get("type") != "timeserieslabels":
            other_types.add(str(r.get("type")) if isinstance(r, dict) else type(r).__name__)
            continue
        v = r.get("value")
        if not isinstance(v, dict) or "start" not in v:
            raise ValueError(f"{path}: {where}: a timeserieslabels result needs \"value\": {{\"start\": …, \"end\": …}}")
        start = parse_time(v["start"], f"{path}: {where}", "start")
        end = start if v.get("instant") or "end" not in v else parse_time(v["end"], f"{path}: {where}", "end")
        check_order(start, end, f"{path}: {where}")
        labels = v.get("timeserieslabels") or [""]
        if not isinstance(labels, list):
            labels = [labels]
        name = check_text(r.get("from_name") or tier, f"{path}: {where}", "from_name (tier)")
        for label in labels:
            out.add(Segment(new_segment_id(), name, check_text(label, f"{path}: {where}"), start + origin, end + origin,
                            suggested=is_pred, source="import:labelstudio"))
    if not len(out) and other_types:
        raise ValueError(f"{path}: no timeserieslabels results (found {', '.join(sorted(other_types))}); "
                         "sensorlab reads Label Studio time-series labeling (<TimeSeriesLabels>) only")
    return out


__all__ = ["export_labelstudio", "import_labelstudio"]
