"""The annotation model without Qt: segments, tiers, queries, signals, label sets, live labels."""

from __future__ import annotations

import json
import math

import pytest

from sensorlab.labeling.annotations import (
    AnnotationSet,
    LabelDef,
    LabelSet,
    Segment,
    Tier,
    annotations_from_live_events,
)


def seg(id_, start, end, tier="activity", label="wave", **kw):
    return Segment(id_, tier, label, start, end, **kw)


def test_segment_validation_and_points():
    assert seg("p", 1.0, 1.0).is_point
    with pytest.raises(ValueError, match="ends"):
        seg("x", 2.0, 1.0)
    with pytest.raises(ValueError, match="non-finite"):
        seg("x", math.nan, 1.0)
    with pytest.raises(ValueError, match="tier"):
        seg("x", 0.0, 1.0, tier="")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 2), (1, 3), True),
        ((0, 1), (1, 2), False),  # touching edges
        ((0, 2), (1, 1), True),  # point inside
        ((0, 2), (2, 2), False),  # point on the edge
        ((1, 1), (1, 1), True),
        ((0, 1), (2, 3), False),
    ],
    ids=["overlap", "touch", "point-inside", "point-on-edge", "same-point", "apart"],
)
def test_overlaps(a, b, expected):
    assert seg("a", *a).overlaps(seg("b", *b)) is expected
    assert seg("b", *b).overlaps(seg("a", *a)) is expected


def test_tiers_queries_and_jumps():
    ann = AnnotationSet([
        seg("a", 1.0, 2.0),
        seg("b", 1.5, 3.0, tier="speaker", label="alice"),
        seg("c", 4.0, 4.0, label="clap"),
        seg("d", 5.0, 6.0),
    ])
    assert ann.tier_names == ["activity", "speaker"]
    assert [s.id for s in ann] == ["a", "b", "c", "d"]
    assert [s.id for s in ann.in_range(1.8, 4.0)] == ["a", "b", "c"]
    assert [s.id for s in ann.in_range(1.8, 4.0, tier="activity")] == ["a", "c"]
    assert [s.id for s in ann.at(4.0)] == ["c"]
    assert ann.next_segment(1.0).id == "b"
    assert ann.next_segment(1.0, tier="activity").id == "c"
    assert ann.next_segment(1.0, label="wave").id == "d"
    assert ann.previous_segment(5.0).id == "c"
    assert ann.previous_segment(1.0) is None
    assert ann.next_segment(5.0) is None
    assert ann.labels() == ["alice", "clap", "wave"]


def test_overlapping_is_per_tier():
    ann = AnnotationSet([seg("a", 0, 2), seg("b", 1, 3), seg("c", 1, 3, tier="speaker")])
    assert [s.id for s in ann.overlapping(ann["a"])] == ["b"]


def test_signals_fire_past_tense_events():
    ann = AnnotationSet()
    got = []
    ann.tier_added.connect(lambda t: got.append(("tier", t.name)))
    ann.segment_added.connect(lambda s: got.append(("added", s.id)))
    ann.segment_changed.connect(lambda old, new: got.append(("changed", old.end, new.end)))
    ann.segment_removed.connect(lambda s: got.append(("removed", s.id)))
    ann.add(seg("a", 0, 1))
    ann.replace(seg("a", 0, 2))
    ann.remove("a")
    assert got == [("tier", "activity"), ("added", "a"), ("changed", 1.0, 2.0), ("removed", "a")]
    with pytest.raises(KeyError):
        ann.add(seg("x", 0, 1)) or ann.add(seg("x", 0, 1))


def test_remove_tier_only_when_empty():
    ann = AnnotationSet([seg("a", 0, 1)], [Tier("empty", "nothing yet")])
    with pytest.raises(ValueError, match="still has segments"):
        ann.remove_tier("activity")
    ann.remove_tier("empty")
    assert ann.tier_names == ["activity"]


def test_dict_round_trip_is_exact():
    t = 12345.678901234567
    ann = AnnotationSet([seg("a", t, t + 1 / 48000, suggested=True, source="suggest:energy", score=-12.5)])
    back = AnnotationSet.from_dict(json.loads(json.dumps(ann.to_dict())))
    assert list(back) == list(ann)


# -- label sets ------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_label_set_round_trip(tmp_path, suffix):
    ls = LabelSet([
        LabelDef("wave", "#E69F00", 1, 'hand "wave", both arms'),
        LabelDef("idle", "#56B4E9", None, "ünïcode ok"),
        LabelDef("clap", "#009E73", 9),
    ])
    path = ls.save(tmp_path / f"labels{suffix}")
    back = LabelSet.load(path)
    assert list(back) == list(ls)


def test_label_set_project_folder_and_hotkeys(tmp_path):
    ls = LabelSet.from_names(["idle", "wave", "clap"])
    assert ls.save(tmp_path).name == "labels.toml"
    back = LabelSet.load(tmp_path)
    assert back.by_hotkey(3).name == "clap"
    with pytest.raises(ValueError, match="hotkey 1 is already used"):
        back.add(LabelDef("other", "#000000", 1))
    with pytest.raises(ValueError, match="1..9"):
        LabelDef("x", "#000000", 10)
    changed = []
    back.label_changed.connect(lambda old, new: changed.append((old.name, new.name)))
    back.update("wave", name="wave_hand")
    assert back.names == ["idle", "wave_hand", "clap"] and changed == [("wave", "wave_hand")]


# -- live labels -----------------------------------------------------------------------


def ev(t, label, kind, **kw):
    return (t, json.dumps({"label": label, "type": kind, **kw}))


def test_live_events_pairs_points_and_overlaps():
    events = [
        ev(1.0, "wave", "start"),
        ev(1.5, "clap", "point"),
        ev(2.0, "talk", "start"),
        ev(3.0, "wave", "stop"),
        ev(4.0, "talk", "stop"),
        ev(5.0, "sit", "point", tier="posture"),
    ]
    ann = annotations_from_live_events(events[::-1])  # order must not matter
    got = sorted((s.tier, s.label, s.start, s.end) for s in ann)
    assert got == [
        ("default", "clap", 1.5, 1.5),
        ("default", "talk", 2.0, 4.0),
        ("default", "wave", 1.0, 3.0),
        ("posture", "sit", 5.0, 5.0),
    ]
    assert all(s.source == "live" and not s.suggested for s in ann)


def test_live_events_edge_cases():
    ann = annotations_from_live_events(
        [
            ev(1.0, "wave", "start"),
            ev(2.0, "wave", "start"),  # restart closes the first
            ev(3.0, "clap", "stop"),  # stop without start: kept as a point
            (3.5, "not json"),  # foreign marker
            ev(4.0, "walk", "start"),  # never stopped
        ],
        end_time=10.0,
    )
    got = sorted((s.label, s.start, s.end) for s in ann)
    assert got == [
        ("clap", 3.0, 3.0),
        ("not json", 3.5, 3.5),
        ("walk", 4.0, 10.0),
        ("wave", 1.0, 2.0),
        ("wave", 2.0, 10.0),
    ]
    assert len(annotations_from_live_events([])) == 0


def test_live_events_of_a_long_session_parse_each_distinct_text_once(monkeypatch):
    """Ten hours of live labels (thousands of events repeating a few texts) spent a third of
    opening the labeling view in ``json.loads``; the segments are the same either way."""
    from sensorlab.labeling import live_events  # where the live labels are parsed

    texts = [json.dumps({"label": lab, "type": kind}) for lab in ("walk", "clap") for kind in ("start", "stop")]
    events = [(10.0 * i + (0.0 if k == 0 else 3.0), texts[2 * (i % 2) + k]) for i in range(1500) for k in (0, 1)]
    calls = []
    loads = json.loads
    monkeypatch.setattr(live_events.json, "loads", lambda s, *a, **kw: (calls.append(s), loads(s, *a, **kw))[1])
    ann = annotations_from_live_events(events)
    assert len(calls) == len(texts)
    segs = list(ann)
    assert len(segs) == 1500
    assert [(s.label, s.start, s.end) for s in segs[:2]] == [("walk", 0.0, 3.0), ("clap", 10.0, 13.0)]
    assert ann.tier_names == ["default"]


def test_spoken_digit_labels_get_their_own_digit_as_hotkey():
    # Imported spoken digits are labelled "0".."9": key 3 must give "3", not "2" (the 3rd label).
    ls = LabelSet.from_names([str(d) for d in range(10)])
    assert [ls.by_hotkey(k).name for k in range(1, 10)] == [str(k) for k in range(1, 10)]
    assert ls["0"].hotkey is None  # key 0 shows the whole session
    mixed = LabelSet.from_names(["0", "1", "noise"])
    assert [lab.hotkey for lab in mixed] == [1, 2, 3]
