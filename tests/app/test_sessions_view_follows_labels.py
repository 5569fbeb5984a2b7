"""The Sessions list follows the folder, and Label… opens the session selected in it.

Found walking the quick start: a label added on the labeling timeline left the Sessions tab
saying 4 labels where the sidecar held 5 (it was listed again only after the next recording);
and with a session selected in the list, Label… offered the one recorded last instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.store import save_annotations, sidecar_path
from sensorlab.session.synthetic import T0, write_synthetic_session


def _session(path, n_labels):
    write_synthetic_session(path, 3.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0, frame_shape=(8, 8), predictions=False)
    _label(path, n_labels)
    return path


def _label(path, n, suggested=0):
    ann = AnnotationSet([Segment(f"s{i}", "default", "clap", T0 + 0.1 * i, T0 + 0.1 * i) for i in range(n)]
                        + [Segment(f"m{i}", "suggestions", "clap", T0 + 0.1 * i, T0 + 0.1 * i, suggested=True) for i in range(suggested)])
    save_annotations(ann, sidecar_path(path), session=path.name)  # as the labeling window saves an edit


def _counts(view) -> dict[str, str]:
    return {view.topLevelItem(i).text(0): view.topLevelItem(i).text(3) for i in range(view.topLevelItemCount())}


def test_the_label_count_follows_edits_saved_while_the_list_is_shown(qtbot, tmp_path):
    from sensorlab.app.studio.sessions_view import SessionsView

    folder = tmp_path / "sessions"
    folder.mkdir()
    run = _session(folder / "run1.h5", 4)
    view = SessionsView(folder)
    qtbot.addWidget(view)
    view.show()
    assert _counts(view) == {"run1": "4"}
    view.setCurrentItem(view.topLevelItem(0))
    _label(run, 5)
    qtbot.waitUntil(lambda: _counts(view) == {"run1": "5"}, timeout=10_000)
    assert view.selected_path() == run  # listed again, still selected
    _session(folder / "run2.h5", 1)  # a new recording appears too
    qtbot.waitUntil(lambda: _counts(view) == {"run1": "5", "run2": "1"}, timeout=10_000)


def test_label_offers_the_session_selected_in_the_list(qtbot, make_window, tmp_path):
    folder = tmp_path / "picked"
    folder.mkdir()
    older = _session(folder / "older.h5", 1)
    os.utime(older, (1_700_000_000, 1_700_000_000))  # listed second (newest first)
    newer = _session(folder / "newer.h5", 1)
    w = make_window()
    w.session_form.folder.setText(str(folder))
    w.studio.last_session = newer  # as after recording it
    view = w.sessions_view
    qtbot.waitUntil(lambda: view.topLevelItemCount() == 2, timeout=10_000)
    view.setCurrentItem(view.topLevelItem(1))
    assert view.selected_path() == older
    w.label_action.trigger()
    qtbot.waitUntil(lambda: getattr(w, "label_dialog", None) is not None and w.label_dialog.isVisible(), timeout=5_000)
    assert [Path(p) for p in w.label_dialog.selectedFiles()] == [older]
    w.label_dialog.reject()


def test_unreviewed_suggestions_are_not_counted_as_labels(qtbot, tmp_path):
    from sensorlab.app.studio.sessions_view import SessionsView

    folder = tmp_path / "suggested"
    folder.mkdir()
    run = _session(folder / "run.h5", 0)
    _label(run, 0, suggested=3)
    view = SessionsView(folder)
    qtbot.addWidget(view)
    view.show()
    assert _counts(view) == {"run": "0 + 3 suggested"}
    _label(run, 2, suggested=1)  # two accepted or drawn, one left to review
    qtbot.waitUntil(lambda: _counts(view) == {"run": "2 + 1 suggested"}, timeout=10_000)
