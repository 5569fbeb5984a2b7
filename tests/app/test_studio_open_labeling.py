"""Opening a session on the labeling timeline from the studio (Sessions tab, Label…): which labels its bar offers."""

from __future__ import annotations

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.store import save_annotations, sidecar_path
from sensorlab.session.synthetic import T0, write_synthetic_session


def _session(path, labels):
    write_synthetic_session(path, 6.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0, frame_shape=(8, 8), predictions=False)
    ann = AnnotationSet([Segment(f"s{i}", "label", lab, T0 + i, T0 + i + 0.5) for i, lab in enumerate(labels)])
    save_annotations(ann, sidecar_path(path), session=path.name)
    return path


def _opened(qtbot, w, path):
    w.open_labeling(path)
    qtbot.waitUntil(lambda: any(x.isVisible() and x.view is not None for x in w._labeling_windows), timeout=30_000)
    return [x for x in w._labeling_windows if x.isVisible()][-1]


def test_an_imported_session_opens_with_its_own_labels_not_the_studios(qtbot, make_window, tmp_path):
    # Spoken digits imported with `sensorlab import wav`: labels 0 … 9; the studio's are clap, speech, …
    path = _session(tmp_path / "subject-george.h5", [str(d) for d in range(10)])
    w = make_window()
    assert "0" not in w.label_bar.labels.names
    lw = _opened(qtbot, w, path)
    assert sorted(lw.view.labels.names) == [str(d) for d in range(10)]  # all ten, "9" too
    # Key 3 labels "3" (not the third label, "2"); "0" has no key (0 shows the whole session).
    assert [lw.view.labels.by_hotkey(k).name for k in range(1, 10)] == [str(k) for k in range(1, 10)]
    lw.close()


def test_a_session_labeled_live_opens_with_the_studios_labels(qtbot, make_window, tmp_path):
    w = make_window()
    studio = w.label_bar.labels.names
    path = _session(tmp_path / "take1.h5", studio[:2])
    lw = _opened(qtbot, w, path)
    assert lw.view.labels is w.label_bar.labels  # the same set, hotkeys and colours as when recording
    lw.close()


def test_a_damaged_session_is_named_once_in_the_banner(qtbot, make_window, tmp_path):
    # The reader's message already names the file: the banner said it twice, which pushed the
    # reason (and the fix) past the window's edge for a session in a deep folder.
    path = tmp_path / "deep" / "folder" / "take-damaged.h5"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a session")
    w = make_window()
    w.open_labeling(path)
    qtbot.waitUntil(w.banner.isVisible, timeout=5000)
    text = w.banner.text()
    assert text.count("take-damaged.h5") == 1, text
    assert "not an HDF5 session file" in text and "labeling" in text
    assert not [x for x in w._labeling_windows if x.isVisible()]


def test_a_models_suggestion_labels_do_not_move_the_users_hotkeys(qtbot, make_window, tmp_path):
    """A foreign model suggested ``class2``: the session still opens with the studio's labels, and
    alone (no studio) its own labels keep keys 1, 2 with the suggestion's label after them."""
    from sensorlab.labeling.store import load_sidecar
    from sensorlab.labeling.suggest import SUGGESTION_TIER

    w = make_window()
    studio = w.label_bar.labels.names
    path = _session(tmp_path / "take1.h5", [studio[0], studio[1]])
    ann = AnnotationSet(load_sidecar(path))
    ann.add(Segment.create(SUGGESTION_TIER, "class2", T0 + 3, T0 + 4, suggested=True, source="model:foreign.onnx"))
    save_annotations(ann, sidecar_path(path), session=path.name)
    lw = _opened(qtbot, w, path)
    assert lw.view.labels is w.label_bar.labels
    lw.close()

    from PySide6.QtCore import QSettings

    from sensorlab.app.labeling.view import LabelingView

    v = LabelingView(path, None, play_audio=False, settings=QSettings(str(tmp_path / "l.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(v)
    assert [v.labels.by_hotkey(k).name for k in (1, 2, 3)] == [*sorted(studio[:2]), "class2"]
    v.close()
