"""The studio's Sessions list and the Datasets tab's session picker list recordings only (the
spec's globs too: tests/datasets/test_spec.py).

Model suggestions in the labeling window (and `sensorlab predict`) write ``run1.predictions.h5``
beside the session; it showed as a session of its own in both lists, and a dataset built from
the folder named it as skipped ("no stream 'imu'")."""

from __future__ import annotations

import shutil

from sensorlab.session.synthetic import write_synthetic_session


def _folder(tmp_path):
    folder = tmp_path / "sessions"
    folder.mkdir()
    run = folder / "run1.h5"
    write_synthetic_session(run, 3.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0, frame_shape=(8, 8), predictions=False)
    shutil.copy(run, folder / "run1.predictions.h5")  # session format, but the model's output
    shutil.copy(run, folder / "run1.pyramid.h5")
    return folder


def test_sessions_tab_lists_recordings_not_their_predictions(qtbot, tmp_path):
    from sensorlab.app.studio.sessions_view import SessionsView

    view = SessionsView(_folder(tmp_path))
    qtbot.addWidget(view)
    assert [view.topLevelItem(i).text(0) for i in range(view.topLevelItemCount())] == ["run1"]


def test_dataset_session_picker_lists_recordings_not_their_predictions(qtbot, tmp_path):
    from sensorlab.app.datasets.session_picker import SessionPicker

    picker = SessionPicker(_folder(tmp_path))
    qtbot.addWidget(picker)
    assert [i.path.name for i in picker.infos] == ["run1.h5"]

