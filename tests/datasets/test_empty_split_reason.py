"""An empty split names why: the lines about its sessions when there are some, else a guess.

A spec naming a label no session has (`include = ["wave"]` on claps) printed, under the right
"none of labels.include" lines, "split 'train' gets 0 windows … (labels outside the streams'
time, or every window on a gap)", which sent the user looking at gaps."""

from __future__ import annotations

from sensorlab.datasets.build import empty_split_notes
from sensorlab.datasets.split import SplitPlan

PLAN = SplitPlan("holdout", "subject", 0, ["train", "val"], {"s01": "train", "s02": "val"}, True)
GROUPS = {"a.h5": "s01", "b.h5": "s02"}


def test_sessions_already_explained_are_pointed_at_not_guessed_about():
    notes = ["a.h5: none of labels.include ['wave'] on tier 'default' (its labels: clap)"]
    [line] = empty_split_notes(PLAN, GROUPS, {"a.h5": 0, "b.h5": 12}, notes)
    assert line.startswith("split 'train' gets 0 windows: its session(s) a.h5 give none")
    assert "see the line about each above" in line and "on a gap" not in line


def test_an_unexplained_empty_split_keeps_the_guess():
    [line] = empty_split_notes(PLAN, GROUPS, {"a.h5": 0, "b.h5": 12}, ["b.h5: something else"])
    assert "labels outside the streams' time, or every window on a gap" in line
