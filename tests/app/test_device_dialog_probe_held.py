"""Probe in the Devices dialog on a device the studio itself has open: the port is busy
because the studio's rig reads it, and the dialog says so (it said "is another program
holding it?"), with how to probe it anyway."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sensorlab.acquisition.emulated.mcu import BinaryIMU
from sensorlab.acquisition.rig import parse_rig
from sensorlab.app.studio.main_window import MainWindow


def test_probing_the_studios_own_open_port_says_the_studio_has_it(qtbot, settings, tmp_path):
    link = str(tmp_path / "ttyBOARD")
    board = BinaryIMU(rate=200.0, link_path=link).start()
    rig_text = f'name = "bench"\n[[serial]]\nport = "{link}"\nbaud = {board.baudrate}\nprotocol = "binary"\n'
    window = MainWindow(parse_rig(rig_text).build_sources(), rig_text=rig_text, rig_name="bench", settings=settings)
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.acquisition_ready, timeout=15_000):
            window.show()
        dialog = window.device_dialog()
        qtbot.addWidget(dialog)
        dialog.rig_list.setCurrentRow(0)
        dialog.probe_selected()
        qtbot.waitUntil(lambda: "failed" in dialog.report.toPlainText(), timeout=15_000)
        report = dialog.report.toPlainText()
        assert f"{link} @ {board.baudrate} (binary) is open in the studio" in report, report
        assert "another program" not in report
        assert 'press "Close studio rig" here' in report
        # The dialog's own button closes the studio's rig; then the same Probe reads the board.
        assert dialog.close_rig_button.isEnabled()
        with qtbot.waitSignal(window.rig_closed, timeout=30_000):
            qtbot.mouseClick(dialog.close_rig_button, Qt.MouseButton.LeftButton)
        assert window.acquisition is None and dialog.held == [] and not dialog.close_rig_button.isEnabled()
        dialog.report.clear()
        dialog.probe_selected()
        qtbot.waitUntil(lambda: dialog.report.toPlainText() not in ("", "probing…"), timeout=15_000)
        assert "failed" not in dialog.report.toPlainText() and "Hz" in dialog.report.toPlainText(), dialog.report.toPlainText()
    finally:
        window.close()
        board.close()
