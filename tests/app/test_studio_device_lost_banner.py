"""A serial board lost while the studio runs raises the red banner, recording or not, and the
banner leaves by itself when the board is back.

A board unplugged is not a failed stream (its source reopens the port), so only its Stream
health row said so: the banner stayed empty and a user on the plots or another tab saw flat
lines with no reason. The banner must name the streams, the port's reason and what to do; when
the board is back it goes and the Messages tab says the device is back.
"""

from __future__ import annotations

import pytest

from sensorlab.acquisition.emulated.mcu import BinaryIMU
from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.serial.port import SerialSource


def _messages(w) -> list[str]:
    return [w.messages.item(i).text() for i in range(w.messages.count())]


@pytest.mark.parametrize("recording", [False, True])
def test_a_lost_board_shows_a_banner_until_it_is_back(qtbot, make_window, tmp_path, recording):
    link = str(tmp_path / "ttyBOARD")
    board = BinaryIMU(rate=500.0, link_path=link).start()
    try:
        w = make_window([SerialSource(link, board.baudrate, "binary"),
                         SignalSource("markers", "events", rate=2, chunk_size=1)])
        qtbot.waitUntil(lambda: w.acquisition.stats["imu"].samples > 0, timeout=15_000)
        if recording:
            with qtbot.waitSignal(w.recording_started, timeout=15_000):
                w.record_button.click()
        assert w.banner.isHidden()
        board.vanish()
        qtbot.waitUntil(lambda: w.banner.isVisible() and "device lost" in w.banner.text(), timeout=15_000)
        shown = w.banner.text()
        assert "imu" in shown and str(link) in shown, shown  # which streams, which port
        assert "plug it back in" in shown, shown  # what to do
        assert ("gap" in shown) == recording, shown
        assert any("device lost" in m for m in _messages(w))
        board.replug()
        qtbot.waitUntil(lambda: not w.banner.isVisible(), timeout=20_000)
        qtbot.waitUntil(lambda: any("imu" in m and "device back" in m for m in _messages(w)), timeout=5000)
        if recording:
            before = w.acquisition.stats["imu"].samples
            qtbot.waitUntil(lambda: w.acquisition.stats["imu"].samples > before, timeout=15_000)
            with qtbot.waitSignal(w.recording_stopped, timeout=30_000):
                w.record_button.click()
    finally:
        board.close()
