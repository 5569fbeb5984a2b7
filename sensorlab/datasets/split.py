"""Split groups of sessions (by session, subject or any metadata key) into train/val/test or folds.

Leakage is ruled out by construction: the unit of assignment is a *group* (all sessions with
the same value of the split key), so a subject or session is never on two sides. Within that
constraint the split is stratified where possible: groups are placed one at a time, largest
first, into the split whose per-class need (its fraction of each class's labeled time, minus
what it already holds) the group fills best. Everything is a pure function of the groups,
their class durations and the seed: the input order does not matter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from sensorlab.datasets.spec import SplitSpec


class SplitError(ValueError):
    """The groups cannot be split as asked (e.g. fewer subjects than folds)."""


@dataclass(frozen=True)
class SplitPlan:
    """Which split each group went to. ``names`` is what the dataset's ``split`` column indexes."""

    method: str
    by: str
    seed: int
    names: list[str]
    assignment: dict[str, str]
    stratified: bool
    notes: list[str] = field(default_factory=list)

    def index_of(self, group: str) -> int:
        return self.names.index(self.assignment[group])

    def to_dict(self) -> dict:
        return {"method": self.method, "by": self.by, "seed": self.seed, "assignment": dict(sorted(self.assignment.items())),
                "stratified": self.stratified}  # fmt: skip


def assign_splits(groups: Mapping[str, Mapping[str, float]], spec: SplitSpec) -> SplitPlan:
    """Assign every group to one split.

    Parameters
    ----------
    groups
        Group value (a subject, a session name, …) → seconds of labeled time per class.
    spec
        Method (holdout fractions, k-fold, leave-one-out), seed, whether to stratify.

    Examples
    --------
    >>> plan = assign_splits({"s1": {"a": 5}, "s2": {"a": 5}, "s3": {"b": 5}}, SplitSpec(fractions={"train": 0.67, "test": 0.33}))
    >>> sorted(plan.assignment.values()).count("test")
    1
    """
    names_sorted = sorted(groups)
    if spec.method == "leave_one_out":
        if len(names_sorted) < 2:
            raise SplitError(f"leave-one-out by {spec.by!r} needs at least 2 groups (found {len(names_sorted)})")
        return SplitPlan(spec.method, spec.by, spec.seed, names_sorted, {g: g for g in names_sorted}, False)
    if spec.method == "kfold":
        if len(names_sorted) < spec.k:
            raise SplitError(f"{spec.k}-fold by {spec.by!r} needs at least {spec.k} groups (found {len(names_sorted)}); lower split.k or split by another key")
        fractions = {f"fold{i}": 1.0 / spec.k for i in range(spec.k)}
    else:
        fractions = dict(spec.fractions)
    split_names = list(fractions)
    classes = sorted({c for w in groups.values() for c, v in w.items() if v > 0})
    stratified = spec.stratify and len(classes) > 1
    cols = classes if stratified else ["all"]

    def vec(w: Mapping[str, float]) -> np.ndarray:
        if stratified:
            return np.array([max(0.0, float(w.get(c, 0.0))) for c in classes])
        return np.array([sum(max(0.0, float(v)) for v in w.values())])

    weights = {g: vec(groups[g]) for g in names_sorted}
    total = sum(weights.values(), np.zeros(len(cols)))
    frac = np.array([fractions[s] for s in split_names])
    target = frac[:, None] * total[None, :]
    held = np.zeros_like(target)
    counts = np.zeros(len(split_names), np.int64)
    # Seeded shuffle, then largest first (a stable sort keeps the shuffled order among equals).
    rng = np.random.default_rng(spec.seed)
    order = [names_sorted[i] for i in rng.permutation(len(names_sorted))]
    order.sort(key=lambda g: -float(weights[g].sum()))
    assignment: dict[str, str] = {}
    for i, g in enumerate(order):
        w = weights[g]
        need = target - held
        empty = [j for j in range(len(split_names)) if frac[j] > 0 and counts[j] == 0]
        if empty and len(order) - i <= len(empty):
            # Just enough groups left to give every split one: fill the largest empty split.
            j = max(empty, key=lambda k: (frac[k], -k))
        else:
            gain = np.minimum(w[None, :], np.maximum(need, 0.0)).sum(axis=1)
            rel = need.sum(axis=1) / np.maximum(target.sum(axis=1), 1e-12)  # fill level, for ties
            score = np.where(frac > 0, gain + 1e-6 * rel * max(1.0, float(w.sum())), -np.inf)
            j = int(np.argmax(score))
        assignment[g] = split_names[j]
        held[j] += w
        counts[j] += 1
    empty = [s for s, c, f in zip(split_names, counts, frac) if c == 0 and f > 0]
    notes = [too_few_groups_note(empty, len(names_sorted), int((frac > 0).sum()), spec.by)] if empty else []
    return SplitPlan(spec.method, spec.by, spec.seed, split_names, assignment, stratified, notes)


def too_few_groups_note(empty: list[str], groups: int, sides: int, by: str) -> str:
    """The line for splits left without a group: fewer groups than sides to fill.

    A group is never on two sides (no leak), so one session split by session fills train only:
    its val and test came out empty, said only as "split 'val' has no groups" among the other
    warnings, and training then ran with no test metrics. Says why and what to do.
    """
    names = " and ".join(repr(s) for s in empty)
    head = f"split {names} gets" if len(empty) == 1 else f"splits {names} get"
    if by == "session":
        count, fix = f"{groups} session{'' if groups == 1 else 's'}", "Record another session"
    else:
        count, fix = f"{groups} value{'' if groups == 1 else 's'} of {by!r}", f"Record a session with another {by!r}"
    so = (["no test metrics"] if "test" in empty else []) + (["validation on part of train"] if "val" in empty else [])
    return (f"{head} no windows: {count} for {sides} splits (one never goes to two: its windows would leak)"
            + (f", so {' and '.join(so)}" if so else "")
            + f". {fix} for each, or set {'its fraction' if len(empty) == 1 else 'their fractions'} to 0")


__all__ = ["SplitError", "SplitPlan", "assign_splits", "too_few_groups_note"]
