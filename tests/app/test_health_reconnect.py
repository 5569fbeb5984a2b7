"""The health view says when a serial device is lost and that it came back."""

from __future__ import annotations

from sensorlab.acquisition.emulated.mcu import BinaryIMU
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.serial.port import SerialSource
from sensorlab.app.live.health_view import HealthView


def test_health_shows_a_lost_device_reconnecting_then_back(qtbot, tmp_path):
    link = str(tmp_path / "ttyBOARD")
    board = BinaryIMU(rate=500.0, link_path=link).start()
    acq = Acquisition([SerialSource(link, board.baudrate, "binary")])
    try:
        acq.open()
        acq.start()
        view = HealthView(acq, tmp_path)
        qtbot.addWidget(view)
        qtbot.waitUntil(lambda: view.status_text("imu") == "ok", timeout=10000)
        board.vanish()
        qtbot.waitUntil(lambda: view.is_red("imu"), timeout=10000)
        assert "device lost" in view.status_text("imu") and "reconnecting" in view.status_text("imu")
        seen = []

        def back_and_sending() -> bool:
            seen.append(view.status_text("imu"))
            return seen[-1].startswith("ok") and "reconnected 1×" in seen[-1]

        qtbot.wait(2000)  # unplugged for a while
        board.replug()
        qtbot.waitUntil(back_and_sending, timeout=15000)
        # While the source holds the reopened device's first second, the row said "stalled: no
        # data for 1.6 s" (silence counted from before the outage).
        assert not any("stalled" in s for s in seen), seen
    finally:
        acq.close()
        board.close()
