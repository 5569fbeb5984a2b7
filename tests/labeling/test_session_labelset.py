"""A session keeps the label set it was labeled with: saved in its sidecar, it gives the same
hotkeys and colours when the session is opened again (`session_labelset`)."""

from __future__ import annotations

import json

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.labelset import LabelDef, LabelSet
from sensorlab.labeling.session_labelset import remember_labelset, session_labelset
from sensorlab.labeling.store import load_annotations, save_annotations, sidecar_path
from sensorlab.studio.live_labels import LiveLabels, live_event

STUDIO = LabelSet.from_names(["clap", "speech", "walk", "gesture", "noise"])


def _keys(labels: LabelSet) -> dict[str, int | None]:
    return {lab.name: lab.hotkey for lab in labels}


def test_the_sidecar_keeps_the_label_set_and_an_old_sidecar_opens_without_one(tmp_path):
    ann = AnnotationSet([Segment("a", "default", "walk", 1.0, 2.0)])
    remember_labelset(ann, STUDIO)
    path = save_annotations(ann, tmp_path / "run.labels.json")
    doc = json.loads(path.read_text())
    assert [d["name"] for d in doc["labels"]] == STUDIO.names and doc["schema_version"] == "1.1"
    assert _keys(session_labelset(load_annotations(path))) == _keys(STUDIO)
    # A sidecar written before the label set was stored: built from its labels, as before.
    del doc["labels"]
    doc["schema_version"] = "1.0"
    path.write_text(json.dumps(doc))
    assert _keys(session_labelset(load_annotations(path))) == {"walk": 1}


def test_labels_the_stored_set_lacks_are_added_on_free_keys():
    ann = AnnotationSet([Segment("a", "default", "speech", 1.0, 2.0), Segment("b", "default", "cough", 3.0, 4.0),
                         Segment("c", "suggestions", "class2", 5.0, 6.0, suggested=True)])  # fmt: skip
    ann.label_defs = LabelSet([LabelDef("speech", "#56B4E9", 2), LabelDef("walk", "#009E73", 1)]).to_dict()["labels"]
    # The stored keys stay; a label imported later (cough) takes the first free key, a
    # model's suggestion label the next.
    assert _keys(session_labelset(ann)) == {"speech": 2, "walk": 1, "cough": 3, "class2": 4}


def test_a_broken_stored_set_falls_back_to_the_labels_in_use():
    ann = AnnotationSet([Segment("a", "default", "walk", 1.0, 2.0)])
    ann.label_defs = [{"name": "walk", "hotkey": 1}, {"name": "run", "hotkey": 1}]  # a hand edit: one key twice
    assert _keys(session_labelset(ann)) == {"walk": 1}


def test_the_studio_saves_its_live_labels_set_with_the_recording(tmp_path):
    live = LiveLabels()
    live.label_defs = lambda: STUDIO.to_dict()["labels"]
    live.add(10.0, live_event("speech", "point"))
    live.add(11.0, live_event("walk", "point"))
    session = tmp_path / "run.h5"
    assert live.save(session, end_time=12.0) == 2
    labels = session_labelset(load_annotations(sidecar_path(session)))
    assert (labels.by_hotkey(2).name, labels.by_hotkey(3).name) == ("speech", "walk")  # built from use: speech 1, walk 2
