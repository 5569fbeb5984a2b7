"""File → Open session… in a labeling window: a file that is not a session keeps the open one."""

from __future__ import annotations

from sensorlab.app.labeling.main import LabelingWindow
from sensorlab.session.synthetic import write_synthetic_session


def test_opening_a_damaged_file_keeps_the_open_session_and_says_why(qtbot, tmp_path):
    good = tmp_path / "take1.h5"
    write_synthetic_session(good, 4.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0, frame_shape=(8, 8), predictions=False)
    bad = tmp_path / "take2.h5"
    bad.write_bytes(b"not a session")
    w = LabelingWindow(good, play_audio=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.view.timeline is not None, timeout=30_000)
    view = w.view
    w.open(bad)  # what the File menu's dialog calls with the chosen file
    assert w.view is view and view.session is not None  # still open, still editable
    assert w.centralWidget() is view
    qtbot.waitUntil(lambda: "take2.h5" in view.status.text(), timeout=5000)
    assert "not an HDF5 session file" in view.status.text()
    assert view.status.text().count("take2.h5") == 1
    w.close()


def test_ctrl_w_closes_a_labeling_window(qtbot, tmp_path):
    """Found walking the loop: a labeling window opened from the studio's Sessions list had no
    Close in its File menu and Ctrl+W did nothing."""
    from PySide6.QtCore import Qt

    path = tmp_path / "take1.h5"
    write_synthetic_session(path, 4.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0, frame_shape=(8, 8), predictions=False)
    w = LabelingWindow(path, play_audio=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.view.timeline is not None, timeout=30_000)
    file_menu = w.menuBar().actions()[0].menu()
    assert "&Close" in [a.text() for a in file_menu.actions()]
    w.activateWindow()
    qtbot.waitUntil(lambda: w.isActiveWindow(), timeout=5_000)
    qtbot.keyClick(w.view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5_000)
    assert w.view.session is None  # closed as Quit closes it: the session file let go
