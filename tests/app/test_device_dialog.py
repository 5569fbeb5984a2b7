"""DeviceDialog: build a rig from available and typed-in devices, edit settings, save/load."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from sensorlab.acquisition.rig import EmulatedConfig, SerialConfig, load_rig
from sensorlab.app.studio.device_dialog import DeviceDialog


def test_add_edit_save_and_reload_a_rig(qtbot, settings, tmp_path):
    dialog = DeviceDialog(settings)
    qtbot.addWidget(dialog)
    dialog.rig_name.setText("bench")
    dialog.add_device(EmulatedConfig(name="radar", device="radar"))
    dialog.extra.setText("socket://127.0.0.1:7000")
    dialog._add_text(SerialConfig)
    # edit the serial port's protocol and baud in the editor
    combos = [dialog.editor.itemAt(i).widget() for i in range(dialog.editor.count())]
    protocol, baud = [w for w in combos if isinstance(w, QComboBox)][:2]
    protocol.setCurrentText("binary")
    baud.setCurrentText("921600")
    rig = dialog.rig()
    assert rig.name == "bench"
    assert rig.serial[0].port == "socket://127.0.0.1:7000"
    assert (rig.serial[0].protocol, rig.serial[0].baud) == ("binary", 921600)
    path = tmp_path / "bench.toml"
    dialog.save_to(path)
    again = load_rig(path)
    assert again == rig
    assert settings.value("rig/folder") == str(tmp_path)
    # re-open the saved rig in a new dialog
    dialog2 = DeviceDialog(settings, rig_text=path.read_text())
    qtbot.addWidget(dialog2)
    assert dialog2.rig() == rig


def test_names_stay_unique_and_bad_values_are_explained(qtbot, settings):
    dialog = DeviceDialog(settings)
    qtbot.addWidget(dialog)
    dialog.add_device(EmulatedConfig(name="imu", device="imu-text"))
    dialog.add_device(EmulatedConfig(name="imu", device="imu-binary"))
    assert [d.name for d in dialog.rig().emulated] == ["imu", "imu2"]
    dialog.extra.setText("/dev/ttyUSB0")
    dialog._add_text(SerialConfig)
    rate = [dialog.editor.itemAt(i).widget() for i in range(dialog.editor.count())][-1]
    rate.setText("-5")
    rate.editingFinished.emit()
    assert "rate" in dialog.error.text()
    assert dialog.rig().serial[0].rate is None  # the bad value was not taken


def test_probe_reports_what_a_device_streams(qtbot, settings):
    dialog = DeviceDialog(settings)
    qtbot.addWidget(dialog)
    dialog.add_device(EmulatedConfig(name="radar", device="radar"))
    dialog.probe_selected()
    qtbot.waitUntil(lambda: "frames" in dialog.report.toPlainText() or "failed" in dialog.report.toPlainText(), timeout=10_000)
    assert "frames" in dialog.report.toPlainText()


def test_closing_the_dialog_while_it_scans_leaves_no_errors_behind(qtbot, settings):
    """The dialog lists hardware on a worker as it opens; deleting it before the scan's results
    arrive must not run their callbacks on deleted widgets (pytest-qt fails the test on any
    exception raised in the event loop)."""
    from PySide6.QtCore import QThreadPool
    from shiboken6 import delete

    dialog = DeviceDialog(settings)
    assert dialog.tasks.busy  # the scan started by opening
    delete(dialog)  # closed and gone before the event loop delivered anything from the scan
    assert QThreadPool.globalInstance().waitForDone(30_000)
    qtbot.wait(200)  # the scan's queued results and "finished" arrive here


def test_probing_a_port_that_cannot_be_opened_says_why(qtbot, settings):
    """A probe failing with a `SourceError` (a RuntimeError, which superqt's generator worker
    swallows) showed "probing…" forever; the dialog must show the reason and the fix."""
    from sensorlab.acquisition.emulated.mcu_text import TextIMU
    from sensorlab.acquisition.serial.port import SerialSource

    with TextIMU(rate=100.0, baudrate=115200) as mcu:
        held = SerialSource(mcu.port, 115200, name="esp", nominal_rate=100)  # the live view holds the port
        held.open()
        try:
            dialog = DeviceDialog(settings)
            qtbot.addWidget(dialog)
            dialog.add_device(SerialConfig(name="esp", port=mcu.port, rate=100))
            dialog.probe_selected()
            qtbot.waitUntil(lambda: "failed" in dialog.report.toPlainText(), timeout=10_000)
        finally:
            held.close()
    assert "is busy" in dialog.report.toPlainText() and "Close it and try again" in dialog.report.toPlainText()
    qtbot.waitUntil(lambda: not dialog.tasks.busy, timeout=5_000)  # the task ended: nothing left "in progress"


def test_a_loaded_rig_with_a_float32_text_stream_gets_a_note_and_saves_without_defaults(qtbot, settings, tmp_path):
    """A rig saved before 2026-12-01 carries dtype = "float32" on every serial entry: loading it
    says what that costs and how to change it; saved again, only what was chosen is written."""
    old = tmp_path / "old.toml"
    old.write_text('[[serial]]\nname = "gps"\nport = "/dev/ttyUSB0"\nprotocol = "text"\nrate = 10.0\ndtype = "float32"\n')
    dialog = DeviceDialog(settings)
    qtbot.addWidget(dialog)
    dialog.load_from(old)
    assert 'dtype = "float32" keeps ~7 significant digits' in dialog.notes.text(), dialog.notes.text()
    assert not dialog.notes.isHidden()
    assert not dialog.error.text()
    dialog.add_device(SerialConfig(name="imu", port="/dev/ttyACM0"))
    path = tmp_path / "new.toml"
    dialog.save_to(path)
    text = path.read_text()
    again = DeviceDialog(settings, rig_text=text)  # the studio's open rig, shown again
    qtbot.addWidget(again)
    assert "float32" in again.notes.text() and not again.notes.isHidden()
    assert text.count("dtype") == 1, text  # the one chosen (kept), none for the new entry
    assert "protocol" not in text and "uart" not in text, text
