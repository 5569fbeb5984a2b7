"""The build preview: windows per split and class a spec would give, without writing anything.

Qt-free so the studio's Datasets tab (on a worker thread) and tests without Qt share it with the
build: both go through `plan_build`, so the preview puts every session in the split the build does.
"""

from __future__ import annotations

import numpy as np

from sensorlab.datasets.spec import DatasetSpec


def count_preview(spec: DatasetSpec) -> dict:
    """Windows per (split, class) the spec would give, from the core's `preview_counts` (worker thread)."""
    from sensorlab.datasets.build_plan import empty_split_notes, plan_build, preview_counts

    plan = plan_build(spec)
    per_session = preview_counts(spec)
    counts = np.zeros((len(plan.split.names), len(plan.classes)), np.int64)
    for name, by_class in per_session.items():
        i = plan.split.index_of(plan.groups[name])
        for c, n in by_class.items():
            counts[i, plan.classes.index(c)] += n
    windows = {name: sum(by_class.values()) for name, by_class in per_session.items()}
    return {"classes": plan.classes, "splits": plan.split.names, "counts": counts, "per_session": per_session,
            "assignment": {name: plan.split.assignment[g] for name, g in plan.groups.items()},
            "skipped": plan.skipped, "notes": plan.notes + plan.split.notes + empty_split_notes(plan.split, plan.groups, windows, plan.notes)}  # fmt: skip


__all__ = ["count_preview"]
