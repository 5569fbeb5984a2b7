"""The Sessions tab on a folder a hostile world has touched: a dangling link (a session on a
drive that is not mounted), a directory named like a session. The list must still show every
real session; it used to raise FileNotFoundError and list nothing."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")


def test_a_dangling_link_and_a_directory_do_not_hide_the_sessions(qtbot, tmp_path, make_session):
    from sensorlab.acquisition.emulated.signal import SignalSource
    from sensorlab.app.studio.sessions_view import SessionsView

    make_session(SignalSource("imu", rate=100, realtime=False, max_samples=100, t0=1.0), path=tmp_path / "walk_01.h5")
    (tmp_path / "old_drive.h5").symlink_to(tmp_path / "unmounted" / "run.h5")
    (tmp_path / "folder.h5").mkdir()
    view = SessionsView(tmp_path)
    qtbot.addWidget(view)
    names = [view.topLevelItem(i).text(0) for i in range(view.topLevelItemCount())]
    assert names == ["walk_01"]
    (tmp_path / "walk_01.h5").unlink()  # deleted while the studio runs, then the list refreshes
    view.refresh()
    assert view.topLevelItemCount() == 0
