"""From the studio to a labeling window and back, from the keyboard.

Seen under Xvfb: Label… after a restart (nothing recorded yet, nothing selected in the Sessions
list) opened with no file chosen and Open disabled, so Enter did nothing; and once the labeling
window was closed, the studio's keys reached no window until a click."""

from __future__ import annotations

import os

from sensorlab.session.synthetic import write_synthetic_session


def test_label_after_a_restart_preselects_the_newest_session(qtbot, make_window, tmp_path):
    folder = tmp_path / "sessions"
    folder.mkdir()
    older, newer = folder / "morning.h5", folder / "afternoon.h5"
    for path in (older, newer):
        write_synthetic_session(path, 2.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0, frame_shape=(8, 8), predictions=False)
    os.utime(older, (1_700_000_000, 1_700_000_000))
    w = make_window()
    w.session_form.folder.setText(str(folder))
    qtbot.waitUntil(lambda: w.sessions_view.topLevelItemCount() == 2, timeout=5_000)
    assert w.last_session is None and w.sessions_view.selected_path() is None
    w.label_action.trigger()
    qtbot.waitUntil(lambda: w.label_dialog is not None and w.label_dialog.isVisible(), timeout=5_000)
    assert [os.path.basename(f) for f in w.label_dialog.selectedFiles()] == ["afternoon.h5"]
    w.label_dialog.reject()


def test_closing_a_labeling_window_gives_the_keyboard_back_to_the_studio(qtbot, make_window, tmp_path):
    # Seen under Xvfb: after Ctrl+W in a labeling window opened from the studio, Ctrl+R and the
    # label digits reached no window until the user clicked the studio.
    from PySide6.QtWidgets import QApplication

    session = write_synthetic_session(tmp_path / "run.h5", 2.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0,
                                      frame_shape=(8, 8), predictions=False)  # fmt: skip
    w = make_window()
    w.open_labeling(session)
    labeling = w._labeling_windows[-1]
    qtbot.waitUntil(lambda: QApplication.activeWindow() is labeling, timeout=10_000)
    labeling.close()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=10_000)
