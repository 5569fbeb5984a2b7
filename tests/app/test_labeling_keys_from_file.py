"""`sensorlab label FILE` gives the keys the session was recorded (or last labeled) with.

Found using the studio: a recording labeled live with 2 = speech and 3 = walk opened in
`sensorlab label` with speech on 1 and walk on 2 (a set built from the labels in use), so the
user's 2 labelled walk. The set is now kept in the session's sidecar: the studio saves its live
labels' set there, the labeling window saves its own, and both paths open with it."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from sensorlab.app.labeling.main import LabelingWindow
from sensorlab.labeling.store import load_annotations, sidecar_path


@pytest.fixture
def recorded_with_live_labels(qtbot, make_window):
    """A studio and the session it just recorded, labeled live with 2 = speech and 3 = walk."""
    studio = make_window()
    with qtbot.waitSignal(studio.recording_started, timeout=10_000):
        studio.record_button.click()
    qtbot.keyClick(studio.live_view, Qt.Key.Key_2)  # speech
    qtbot.keyClick(studio.live_view, Qt.Key.Key_3)  # walk
    with qtbot.waitSignal(studio.recording_stopped, timeout=30_000) as stopped:
        studio.record_button.click()
    return studio, stopped.args[0]


def _open(qtbot, path):
    """What `sensorlab label FILE` opens (no --labels, no project labels.toml)."""
    w = LabelingWindow(path, None, play_audio=False)
    qtbot.addWidget(w)
    if w.view.timeline is None:
        with qtbot.waitSignal(w.view.session_ready, timeout=30_000):
            w.show()
    else:
        w.show()
    qtbot.waitExposed(w)
    return w


def test_reopened_session_labels_with_the_keys_it_was_recorded_with(qtbot, recorded_with_live_labels):
    studio, path = recorded_with_live_labels
    studio.close()

    w = _open(qtbot, path)
    v = w.view
    assert (v.labels.by_hotkey(2).name, v.labels.by_hotkey(3).name) == ("speech", "walk")
    assert "&nbsp;2&nbsp;</span>&nbsp;speech" in v.legend.text()  # what the top bar shows
    # Key 2 labels speech, as it did while recording.
    v.timeline.set_cursor(v.timeline.t_begin + 0.1)
    v.annotation_view.select("")
    qtbot.keyClick(v, Qt.Key.Key_2)
    assert v.annotations[v.annotation_view.selected].label == "speech"
    qtbot.waitUntil(lambda: len(load_annotations(sidecar_path(path))) == 3, timeout=10_000)
    # A label added in File → Label set… is kept with the session too, on its key.
    v.labels.add(type(v.labels.by_hotkey(2))("cough", "#cc79a7", 6))
    v.timeline.set_cursor(v.timeline.t_begin + 0.2)
    v.annotation_view.select("")
    qtbot.keyClick(v, Qt.Key.Key_6)
    qtbot.waitUntil(lambda: len(load_annotations(sidecar_path(path))) == 4, timeout=10_000)
    saved = json.loads(sidecar_path(path).read_text())["labels"]
    assert {d["name"]: d.get("hotkey") for d in saved}["cough"] == 6
    w.close()

    again = _open(qtbot, path).view
    assert {lab.name: lab.hotkey for lab in again.labels} == {lab.name: lab.hotkey for lab in v.labels}


def test_the_studio_opens_a_session_with_its_own_keys_after_the_live_labels_changed(qtbot, recorded_with_live_labels):
    """Label… in the studio: the keys the session was recorded with, even after the studio's
    live labels were edited (walk removed, so speech's key 2 went to another label)."""
    studio, path = recorded_with_live_labels
    studio.label_bar.labels.remove("walk")
    studio.open_labeling(path)
    qtbot.waitUntil(lambda: any(x.isVisible() and x.view is not None for x in studio._labeling_windows), timeout=30_000)
    v = [x for x in studio._labeling_windows if x.isVisible()][-1].view
    assert (v.labels.by_hotkey(2).name, v.labels.by_hotkey(3).name) == ("speech", "walk")
