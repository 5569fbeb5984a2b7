"""The labeling window's side column (frames at the cursor, History) has its normal width from
the first paint: while the overview cache was being built it took half the window, then jumped
to a quarter when the tracks came."""

from __future__ import annotations

from sensorlab.session.pyramid import Pyramid


def test_the_history_column_keeps_its_width_while_the_overview_cache_is_built(qtbot, synthetic_session, tmp_path):
    from PySide6.QtCore import QSettings

    from sensorlab.app.labeling.view import LabelingView

    path = tmp_path / "run.h5"
    path.write_bytes(synthetic_session.read_bytes())
    view = LabelingView(path, play_audio=False, settings=QSettings(str(tmp_path / "l.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(view)
    assert view.timeline is None and not Pyramid(view.session).is_valid()  # the cache is being built
    view.resize(1400, 900)
    with qtbot.waitSignal(view.session_ready, timeout=30_000):
        view.show()  # laid out here, before the worker's result can arrive (no events yet)
        while_building = view.side.width()
        assert view.placeholder.isVisible()
    ready = view.side.width()
    assert while_building <= 0.3 * view.width(), (while_building, view.width())
    assert abs(while_building - ready) <= 20, (while_building, ready)
    # Opened again, from the cache (the tracks come before the first paint): the same width.
    again = LabelingView(path, play_audio=False, settings=QSettings(str(tmp_path / "l.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.timeline is not None
    again.resize(1400, 900)
    again.show()
    qtbot.waitExposed(again)
    assert abs(again.side.width() - ready) <= 20, (again.side.width(), ready)
