"""Splits: no group on two sides over random layouts (hypothesis), seeded, order-independent, stratified."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorlab.datasets.spec import SplitSpec
from sensorlab.datasets.split import SplitError, assign_splits

CLASSES = ["a", "b", "c"]

layouts = st.lists(
    st.tuples(
        st.sampled_from([f"s{i:02d}" for i in range(12)]),  # subject of the session
        st.dictionaries(st.sampled_from(CLASSES), st.floats(0.0, 100.0), max_size=3),  # labeled seconds per class
        st.integers(1, 40),  # windows it produces
    ),
    min_size=1,
    max_size=30,
)
methods = st.sampled_from(["holdout", "kfold", "leave_one_out"])


@settings(max_examples=150, deadline=None)
@given(layouts, methods, st.integers(0, 2**31 - 1), st.booleans())
def test_no_subject_on_two_sides(sessions, method, seed, stratify):
    groups: dict[str, dict[str, float]] = {}
    for subject, durations, _ in sessions:
        g = groups.setdefault(subject, {})
        for c, v in durations.items():
            g[c] = g.get(c, 0.0) + v
    spec = SplitSpec(by="subject", method=method, k=3, seed=seed, stratify=stratify)
    try:
        plan = assign_splits(groups, spec)
    except SplitError:
        assert (method == "kfold" and len(groups) < 3) or (method == "leave_one_out" and len(groups) < 2)
        return
    # every window of every session inherits its subject's split: a subject's windows are on one side only
    sides: dict[str, set[str]] = {}
    for subject, _, n in sessions:
        for _ in range(n):
            sides.setdefault(subject, set()).add(plan.names[plan.index_of(subject)])
    assert all(len(s) == 1 for s in sides.values())
    assert set(plan.assignment) == set(groups)
    n_splits = sum(1 for s in plan.names)
    if len(groups) >= n_splits:  # enough groups: no split is left empty
        assert set(plan.assignment.values()) == set(plan.names)
    # seeded and independent of the order the sessions were found in
    again = assign_splits(dict(reversed(list(groups.items()))), spec)
    assert again.assignment == plan.assignment


def test_stratified_holdout_keeps_rare_classes_on_every_side():
    # 10 subjects; only 3 of them have class "rare"; a stratified split spreads those 3
    groups = {f"s{i}": {"common": 10.0, **({"rare": 5.0} if i < 3 else {})} for i in range(10)}
    plan = assign_splits(groups, SplitSpec(fractions={"train": 0.34, "val": 0.33, "test": 0.33}, seed=3))
    sides_with_rare = {plan.assignment[f"s{i}"] for i in range(3)}
    assert sides_with_rare == {"train", "val", "test"} and plan.stratified


def test_fractions_are_respected_roughly_and_seed_changes_the_split():
    groups = {f"s{i:02d}": {"a": 10.0} for i in range(20)}
    plan = assign_splits(groups, SplitSpec(seed=1))
    counts = {s: list(plan.assignment.values()).count(s) for s in plan.names}
    assert counts == {"train": 14, "val": 3, "test": 3}
    other = assign_splits(groups, SplitSpec(seed=2))
    assert other.assignment != plan.assignment


def test_kfold_and_leave_one_out():
    groups = {f"s{i}": {"a": 1.0 + i} for i in range(7)}
    plan = assign_splits(groups, SplitSpec(method="kfold", k=3))
    assert plan.names == ["fold0", "fold1", "fold2"]
    sizes = np.bincount([plan.index_of(g) for g in groups])
    assert sizes.min() >= 2
    loo = assign_splits(groups, SplitSpec(method="loso"))
    assert loo.names == sorted(groups) and all(loo.assignment[g] == g for g in groups)
    with pytest.raises(SplitError, match="needs at least 5 groups"):
        assign_splits({"a": {}, "b": {}}, SplitSpec(method="kfold", k=5))
