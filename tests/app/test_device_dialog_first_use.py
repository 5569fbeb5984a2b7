"""The Devices dialog as a new user first sees it: hardware listed at once, problems readable,
every device's stream name shown."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit

from sensorlab.acquisition.devices import list_devices
from sensorlab.acquisition.emulated.rig import demo_rig
from sensorlab.app.studio.device_dialog import DeviceDialog


def _group(dialog, title: str) -> list[str]:
    tree = dialog.available
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(0) == title)
    return [item.child(i).text(0) for i in range(item.childCount())]


def test_hardware_is_listed_on_open_and_problems_are_shown_in_full(qtbot, settings):
    found = list_devices()
    dialog = DeviceDialog(settings)
    qtbot.addWidget(dialog)
    dialog.resize(700, 500)
    dialog.show()
    # No Rescan pressed: the scan runs as the dialog opens.
    qtbot.waitUntil(lambda: "(scanning…)" not in _group(dialog, "Serial ports"), timeout=30_000)
    ports = _group(dialog, "Serial ports")
    assert ports == ([f"{p.port} — {p.description}" for p in found.serial] or ["(none found)"])
    assert len([x for x in _group(dialog, "Audio inputs") if x != "(none found)"]) == len(found.audio)
    if found.problems:
        qtbot.waitUntil(dialog.problems.isVisible, timeout=5000)
        for line in found.problems:
            assert line in dialog.problems.text()
        # Wrapped inside the dialog, tall enough for every line: nothing cut off.
        label = dialog.problems
        assert label.wordWrap() and label.width() <= dialog.width()
        qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()), timeout=5000)


def test_demo_devices_show_the_stream_names_they_record(qtbot, settings):
    dialog = DeviceDialog(settings, rig_text=demo_rig().to_toml())
    qtbot.addWidget(dialog)
    names = {}
    for row in range(dialog.rig_list.count()):
        dialog.rig_list.setCurrentRow(row)
        field = dialog.editor.itemAt(0, dialog.editor.ItemRole.FieldRole).widget()
        assert isinstance(field, QLineEdit)
        names[dialog._devices[row].device] = field.text() or field.placeholderText()
        assert names[dialog._devices[row].device], dialog.rig_list.item(row).text()
    assert names["imu-text"] == "wrist" and names["microphone"] == "mic"
    assert "imu and radar" in names["imu-radar"]
    assert "emulated · wrist · imu-text" in [dialog.rig_list.item(r).text() for r in range(dialog.rig_list.count())]
    # A rig file without names gets the same names spelled out.
    bare = DeviceDialog(settings, rig_text='[[emulated]]\ndevice = "imu-text"\n')
    qtbot.addWidget(bare)
    assert bare.rig().emulated[0].name == "wrist"


def test_a_rig_filming_a_stream_url_gets_no_camera_index_problem(qtbot, settings):
    """The rig's camera is an ESP32-CAM URL: "no camera found at index 0-3" is no problem of it,
    while the scan's other problems are still shown."""
    rig = '[[camera]]\nname = "cam"\ndevice = "http://192.168.4.1:81/stream"\n'
    dialog = DeviceDialog(settings, rig_text=rig)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "(scanning…)" not in _group(dialog, "Serial ports"), timeout=30_000)
    assert "index 0-3" not in dialog.problems.text()
    if not list_devices().cameras:  # a machine without a camera: a rig asking for index 0 still hears it
        dialog2 = DeviceDialog(settings, rig_text='[[camera]]\nname = "cam"\ndevice = 0\n')
        qtbot.addWidget(dialog2)
        dialog2.show()
        qtbot.waitUntil(lambda: "index 0-3" in dialog2.problems.text(), timeout=30_000)
