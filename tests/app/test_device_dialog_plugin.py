"""A device kind from another installed package appears in the Devices dialog: listed,
added, edited with its own settings and range checks, probed, saved and loaded."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLineEdit

from sensorlab.acquisition.rig import load_rig
from sensorlab.app.studio.device_dialog import DeviceDialog


def _group(dialog, title: str):
    tree = dialog.available
    return next((tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(0) == title), None)


def _editor(dialog) -> dict[str, object]:
    form = dialog.editor
    return {form.itemAt(r, form.ItemRole.LabelRole).widget().text(): form.itemAt(r, form.ItemRole.FieldRole).widget() for r in range(form.rowCount())}


def test_a_plugin_kind_is_listed_added_edited_probed_and_saved(qtbot, settings, thermo_registered, tmp_path):
    dialog = DeviceDialog(settings)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: _group(dialog, "Thermometers") is not None and _group(dialog, "Thermometers").child(0).text(0) != "(scanning…)", timeout=30_000)
    group = _group(dialog, "Thermometers")
    assert [group.child(i).text(0) for i in range(group.childCount())] == ["bench thermometer t0", "bench thermometer t1"]
    titles = [dialog.available.topLevelItem(i).text(0) for i in range(dialog.available.topLevelItemCount())]
    assert titles == ["Cameras", "Audio inputs", "Serial ports", "Emulated demo devices", "LSL streams", "Thermometers"]

    dialog._add_item(group.child(1))
    assert dialog.rig_list.currentItem().text() == "thermo · thermo_t1 · t1 @ 10 Hz"
    fields = _editor(dialog)
    assert list(fields) == ["Name", "Sensor", "Rate"]
    assert isinstance(fields["Sensor"], QComboBox) and fields["Sensor"].currentText() == "t1"
    rate = fields["Rate"]
    assert isinstance(rate, QLineEdit) and rate.text() == "10"
    rate.setText("500")  # out of the kind's range: explained, not taken
    rate.editingFinished.emit()
    assert dialog.error.text() == "rate: Input should be less than or equal to 100"
    rate.setText("20")
    rate.editingFinished.emit()
    assert dialog.error.text() == ""
    assert dialog.rig_list.currentItem().text() == "thermo · thermo_t1 · t1 @ 20 Hz"

    dialog.probe_selected()
    qtbot.waitUntil(lambda: "thermo_t1:" in dialog.report.toPlainText() or "failed" in dialog.report.toPlainText(), timeout=10_000)
    assert dialog.report.toPlainText() == "thermo_t1: timeseries, 20 Hz, shape (1,), float32\n    channels: temperature [degC]"

    dialog.save_to(tmp_path / "bench.toml")
    rig = load_rig(tmp_path / "bench.toml")
    assert [(d.name, d.sensor, d.rate) for d in rig.thermo] == [("thermo_t1", "t1", 20.0)]
    again = DeviceDialog(settings, rig_text=(tmp_path / "bench.toml").read_text())
    qtbot.addWidget(again)
    assert [again.rig_list.item(r).text() for r in range(again.rig_list.count())] == ["thermo · thermo_t1 · t1 @ 20 Hz"]
    assert again.rig() == rig


def test_add_as_buttons_come_from_the_kinds_that_take_typed_entries(qtbot, settings):
    from PySide6.QtWidgets import QPushButton

    dialog = DeviceDialog(settings)
    qtbot.addWidget(dialog)
    buttons = {b.text(): b for b in dialog.findChildren(QPushButton) if b.text().startswith("Add as")}
    assert list(buttons) == ["Add as serial", "Add as camera"]
    assert dialog.extra.placeholderText() == "/dev/ttyACM0, socket://host:port, rtsp://…, clip.mp4"
    dialog.extra.setText("http://192.168.4.1:81/stream")
    buttons["Add as camera"].click()
    dialog.extra.setText("spy://loop://?file=/tmp/x")  # a port URL sensorlab refuses: explained, not added
    buttons["Add as serial"].click()
    assert [d.device for d in dialog.rig().camera] == ["http://192.168.4.1:81/stream"] and dialog.rig().serial == []
    assert "spy://" in dialog.error.text()
