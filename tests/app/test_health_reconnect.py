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
        board.replug()
        qtbot.waitUntil(lambda: not view.is_red("imu"), timeout=15000)
        assert view.status_text("imu").startswith("ok") and "reconnected 1×" in view.status_text("imu")
    finally:
        acq.close()
        board.close()
