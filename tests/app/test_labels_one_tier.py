"""Live hotkey labels and labels made in the labeling view land in one tier.

Live labels used to become tier ``live`` while keys in the labeling view labelled ``default``:
one user's labels of one session were split over two tiers (and a dataset built from one of them
missed the rest). Both now land in ``default``; ``source == "live"`` says which were live. A
sidecar saved with the old ``live`` tier still opens with it.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from sensorlab.labeling.annotations import LIVE_TIER, AnnotationSet, Segment
from sensorlab.labeling.store import load_annotations, save_annotations, sidecar_path
from sensorlab.session.synthetic import T0, write_synthetic_session


def test_live_hotkeys_and_labeling_keys_label_one_tier(qtbot, make_window, open_view):
    w = make_window()
    with qtbot.waitSignal(w.recording_started, timeout=10_000):
        w.record_button.click()
    qtbot.keyClick(w.live_view, Qt.Key.Key_1)  # a live point (clap)
    w.label_bar.buttons["walk"].click()  # a live span: start …
    qtbot.wait(200)
    w.label_bar.buttons["walk"].click()  # … stop
    with qtbot.waitSignal(w.recording_stopped, timeout=30_000) as stopped:
        w.record_button.click()
    path = stopped.args[0]

    v = open_view(path)
    live = sorted((s.label, s.tier, s.source) for s in v.annotations)
    assert live == [("clap", "default", "live"), ("walk", "default", "live")]
    assert v.tier == "default"
    v.timeline.set_cursor(v.timeline.t_begin + 0.2)
    v.annotation_view.select("")
    qtbot.keyClick(v, Qt.Key.Key_3)  # a point made in the labeling view
    made = v.annotations[v.annotation_view.selected]
    assert made.source != "live"
    # One tier holds them all, on screen and in the sidecar a dataset reads.
    assert {s.tier for s in v.annotations} == {"default"} and list(v.annotation_view.lanes) == ["default"]
    qtbot.waitUntil(lambda: len(load_annotations(sidecar_path(path))) == 3, timeout=10_000)
    assert {s.tier for s in load_annotations(sidecar_path(path))} == {"default"}


def test_a_sidecar_with_the_old_live_tier_still_opens_with_it(tmp_path, open_view):
    path = write_synthetic_session(tmp_path / "old.h5", 10.0, audio_rate=4000, imu_rate=100, fps=5, frame_shape=(12, 16), predictions=False)
    old = AnnotationSet([Segment("a1", LIVE_TIER, "walk", T0 + 1.0, T0 + 2.0, source="live")])
    save_annotations(old, sidecar_path(path), session=path.name)
    assert json.loads(sidecar_path(path).read_text())["segments"][0]["tier"] == "live"
    v = open_view(path)
    assert [(s.tier, s.label) for s in v.annotations] == [("live", "walk")]
    assert "live" in v.annotation_view.lanes
