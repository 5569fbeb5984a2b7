"""Label… right after the studio starts offers the folder's newest session, so Enter opens it.

Seen under Xvfb: after a restart (nothing recorded yet, nothing selected in the Sessions list)
the dialog opened with no file chosen and Open disabled, and Enter did nothing."""

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
