"""Pre-roll is on by default: a recording starts with the seconds before Record was pressed."""

from __future__ import annotations

from sensorlab.acquisition.clock import now
from sensorlab.app.studio.main_window import DEFAULT_PREROLL_S
from sensorlab.session.reader import Session

from .test_main_window import _record


def test_a_fresh_studio_keeps_the_seconds_before_record(qtbot, make_window):
    w = make_window()  # fresh settings: nothing chosen yet
    assert w.preroll.value() == DEFAULT_PREROLL_S == 5
    opened = now()
    qtbot.waitUntil(lambda: now() - opened > DEFAULT_PREROLL_S + 0.5, timeout=20_000)
    pressed = now()
    path = _record(qtbot, w, seconds=0.3)
    with Session.open(path) as s:
        first = s.streams["imu"].first_time
    assert pressed - first > DEFAULT_PREROLL_S - 1.0
