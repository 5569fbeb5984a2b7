"""`DeviceDialog`: pick the rig's devices, see what each reports, save and load the rig file.

Left: what this machine has (cameras, audio inputs, serial ports — scanned on a worker
thread with `sensorlab.acquisition.devices.list_devices` as the dialog opens, and again on
Rescan; what could not be listed is explained, word-wrapped, under the list) plus the emulated demo devices, and
free-text entries for a camera URL / video file or a serial port that is not listed (ptys,
``socket://`` URLs). Right: the rig being edited, one device per row, an editor for the
selected device (serial protocol and baud, audio rate and channels, camera size and fps), and
*Probe*, which opens the device on a worker thread and shows the streams it reports (rate,
channels, units) or the error it gives. The rig is the same TOML file the CLI reads.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sensorlab.acquisition.builders import EMULATED_NAMES
from sensorlab.acquisition.rig import BAUD_RATES, AudioConfig, CameraConfig, EmulatedConfig, RigConfig, RigError, SerialConfig, load_rig, parse_rig
from sensorlab.app.workers import TaskRunner

EMULATED = ("camera", "microphone", "imu-text", "imu-binary", "radar", "imu-radar", "eeg")
_LISTS = {CameraConfig: "camera", AudioConfig: "audio", SerialConfig: "serial", EmulatedConfig: "emulated"}


def describe(config) -> str:
    """One line for a device config in the rig list."""
    kind = _LISTS[type(config)]
    if isinstance(config, SerialConfig):
        return f"serial · {config.name} · {config.port} @ {config.baud} ({config.protocol})"
    if isinstance(config, AudioConfig):
        return f"audio · {config.name} · {config.device if config.device is not None else 'default input'} · {config.rate} Hz × {config.channels}"
    if isinstance(config, CameraConfig):
        size = f" · {config.width}×{config.height}" if config.width else ""
        return f"camera · {config.name} · {config.device}{size}"
    if not EMULATED_NAMES[config.device]:
        return f"emulated · {config.device} · streams imu, radar"
    return f"emulated · {config.name or EMULATED_NAMES[config.device]} · {config.device}"


def probe(config):
    """Open one device, report its streams, close it (worker thread)."""
    yield f"opening {describe(config)}"
    source = RigConfig(**{_LISTS[type(config)]: [config]}).build_sources()[0]
    source.open()
    try:
        lines = []
        for s in source.streams:
            rate = f"{s.nominal_rate:g} Hz" if s.regular else "irregular rate"
            chans = ", ".join(f"{n}" + (f" [{u}]" if u else "") for n, u in zip(s.channel_names, s.units or ("",) * len(s.channel_names)))
            lines.append(f"{s.name}: {s.kind.value}, {rate}, shape {s.sample_shape}, {s.dtype}" + (f"\n    channels: {chans}" if chans else ""))
        return "\n".join(lines) or "no streams"
    finally:
        source.close()


def scan():
    """List this machine's devices (worker thread)."""
    from sensorlab.acquisition.devices import list_devices

    yield "scanning cameras, audio inputs and serial ports"
    return list_devices()


class DeviceDialog(QDialog):
    """Edit a rig. ``rig()`` returns the validated `RigConfig` after ``exec()`` accepted."""

    def __init__(self, settings: QSettings, rig_text: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle("Devices")
        self.resize(980, 560)
        self.settings = settings
        self.tasks = TaskRunner(self)
        try:
            self._rig = parse_rig(rig_text) if rig_text else RigConfig(name="my-rig")
        except RigError:
            self._rig = RigConfig(name="my-rig")
        self._devices: list = [_named(d) for d in (*self._rig.camera, *self._rig.audio, *self._rig.serial, *self._rig.emulated)]

        # -- left: available devices
        self.available = QTreeWidget()
        self.available.setHeaderLabels(["Available devices"])
        self.available.itemDoubleClicked.connect(lambda item, _col: self._add_item(item))
        self.rescan_button = QPushButton("Rescan", clicked=self.rescan)
        self.extra = QLineEdit(placeholderText="/dev/ttyACM0, socket://host:port, rtsp://…, clip.mp4")
        add_serial = QPushButton("Add as serial", clicked=lambda: self._add_text(SerialConfig))
        add_camera = QPushButton("Add as camera", clicked=lambda: self._add_text(CameraConfig))
        add_button = QPushButton("Add selected →", clicked=lambda: self._add_item(self.available.currentItem()))
        # Problems as wrapped text, not tree rows: their fixes are sentences, cut off in a column.
        self.problems = QLabel(wordWrap=True, styleSheet="color:#ffb74d")
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.hide()
        left = QVBoxLayout()
        left.addWidget(self.available, 1)
        left.addWidget(self.problems)
        row = QHBoxLayout()
        row.addWidget(self.rescan_button)
        row.addWidget(add_button)
        left.addLayout(row)
        left.addWidget(QLabel("Not listed? Enter a port, URL or file:"))
        left.addWidget(self.extra)
        row = QHBoxLayout()
        row.addWidget(add_serial)
        row.addWidget(add_camera)
        left.addLayout(row)

        # -- right: the rig
        self.rig_name = QLineEdit(self._rig.name)
        self.rig_list = QListWidget()
        self.rig_list.currentRowChanged.connect(self._show_editor)
        self.editor_box = QWidget()
        self.editor = QFormLayout(self.editor_box)
        self.error = QLabel(styleSheet="color:#ef5350")
        self.error.setWordWrap(True)
        self.report = QPlainTextEdit(readOnly=True, placeholderText="Probe a device to see the streams it reports (rate, channels, units).")
        self.report.setMaximumHeight(120)
        buttons = QHBoxLayout()
        for text, slot in (("Probe", self.probe_selected), ("Remove", self._remove), ("Load rig…", self._load), ("Save rig…", self._save)):
            buttons.addWidget(QPushButton(text, clicked=slot))
        right = QVBoxLayout()
        name_row = QHBoxLayout()
        name_row.addWidget(QLabel("Rig name"))
        name_row.addWidget(self.rig_name, 1)
        right.addLayout(name_row)
        right.addWidget(self.rig_list, 1)
        right.addWidget(self.editor_box)
        right.addWidget(self.error)
        right.addLayout(buttons)
        right.addWidget(self.report)

        split = QSplitter()
        for layout in (left, right):
            w = QWidget()
            w.setLayout(layout)
            split.addWidget(w)
        split.setSizes([380, 600])
        self.status = QLabel()
        self.tasks.progress.connect(self.status.setText)
        self.tasks.failed.connect(lambda title, msg: self.report.setPlainText(f"{title} failed:\n{msg}"))
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.button(QDialogButtonBox.StandardButton.Ok).setText("Use this rig")
        box.accepted.connect(self._accept)
        box.rejected.connect(self.reject)
        outer = QVBoxLayout(self)
        outer.addWidget(split, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(box)
        outer.addLayout(bottom)
        self._fill_available(None)
        self._refresh_list()
        self.rescan()  # list the hardware now, without waiting for the user to ask

    # -- public ----------------------------------------------------------------------------
    def rig(self) -> RigConfig:
        """The rig as edited (validated)."""
        lists: dict[str, list] = {"camera": [], "audio": [], "serial": [], "emulated": []}
        for d in self._devices:
            lists[_LISTS[type(d)]].append(d)
        return RigConfig(name=self.rig_name.text().strip() or "rig", **lists)

    def add_device(self, config) -> None:
        names = {d.name for d in self._devices}
        base = config.name or getattr(config, "device", "device")
        name, k = base, 1
        while name in names:
            k += 1
            name = f"{base}{k}"
        self._devices.append(_named(config.model_copy(update={"name": name})))
        self._refresh_list()
        self.rig_list.setCurrentRow(len(self._devices) - 1)

    def rescan(self) -> None:
        self.rescan_button.setEnabled(False)
        self.tasks.run("Scanning devices", scan, on_done=self._fill_available, on_error=lambda _m: self.rescan_button.setEnabled(True))

    def probe_selected(self) -> None:
        row = self.rig_list.currentRow()
        if row < 0:
            return
        self.report.setPlainText("probing…")
        self.tasks.run(f"Probing {self._devices[row].name}", probe, self._devices[row], on_done=self.report.setPlainText)

    # -- internals ---------------------------------------------------------------------------
    def _fill_available(self, devices) -> None:
        self.rescan_button.setEnabled(True)
        self.available.clear()
        groups = {}
        for title in ("Cameras", "Audio inputs", "Serial ports", "Emulated demo devices"):
            groups[title] = QTreeWidgetItem(self.available, [title])
            groups[title].setFlags(Qt.ItemFlag.ItemIsEnabled)
        for dev in EMULATED:
            item = QTreeWidgetItem(groups["Emulated demo devices"], [dev])
            item.setData(0, Qt.ItemDataRole.UserRole, EmulatedConfig(name=dev.replace("-", "_"), device=dev))
        if devices is None:
            for title in ("Cameras", "Audio inputs", "Serial ports"):
                QTreeWidgetItem(groups[title], ["(scanning…)"]).setFlags(Qt.ItemFlag.NoItemFlags)
            self.problems.hide()
        else:
            for cam in devices.cameras:
                item = QTreeWidgetItem(groups["Cameras"], [f"camera {cam.index}: {cam.width}×{cam.height} @ {cam.fps:g} fps"])
                item.setData(0, Qt.ItemDataRole.UserRole, CameraConfig(name=f"camera{cam.index}", device=cam.index))
            for a in devices.audio:
                item = QTreeWidgetItem(groups["Audio inputs"], [f"{a.name} ({a.hostapi}, {a.max_input_channels} ch, {a.default_samplerate:g} Hz)"])
                item.setData(0, Qt.ItemDataRole.UserRole, AudioConfig(name="mic", device=a.name, rate=int(a.default_samplerate), channels=min(2, a.max_input_channels)))
            for p in devices.serial:
                item = QTreeWidgetItem(groups["Serial ports"], [f"{p.port} — {p.description}"])
                item.setData(0, Qt.ItemDataRole.UserRole, SerialConfig(name="serial", port=p.port))
            for title in ("Cameras", "Audio inputs", "Serial ports"):
                if not groups[title].childCount():
                    QTreeWidgetItem(groups[title], ["(none found)"]).setFlags(Qt.ItemFlag.NoItemFlags)
            self.problems.setText("Problems:\n" + "\n".join(f"• {line}" for line in devices.problems))
            self.problems.setVisible(bool(devices.problems))
        self.available.expandAll()

    def _add_item(self, item) -> None:
        config = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        if config is not None:
            self.add_device(config)

    def _add_text(self, cls) -> None:
        text = self.extra.text().strip()
        if not text:
            self.error.setText("enter a port, URL or file first")
            return
        if cls is SerialConfig:
            self.add_device(SerialConfig(name="serial", port=text))
        else:
            self.add_device(CameraConfig(name="camera", device=int(text) if text.isdigit() else text))

    def _refresh_list(self) -> None:
        row = self.rig_list.currentRow()
        self.rig_list.blockSignals(True)
        self.rig_list.clear()
        self.rig_list.addItems([describe(d) for d in self._devices])
        self.rig_list.blockSignals(False)
        if self._devices:
            self.rig_list.setCurrentRow(min(max(row, 0), len(self._devices) - 1))
        self._show_editor(self.rig_list.currentRow())

    def _remove(self) -> None:
        row = self.rig_list.currentRow()
        if row >= 0:
            del self._devices[row]
            self._refresh_list()

    def _show_editor(self, row: int) -> None:
        while self.editor.rowCount():
            self.editor.removeRow(0)
        if row < 0 or row >= len(self._devices):
            return
        config = self._devices[row]
        if isinstance(config, EmulatedConfig) and not EMULATED_NAMES[config.device]:
            # A two-stream device names its streams itself; a name here would be ignored.
            fixed = QLineEdit(enabled=False, placeholderText="streams imu and radar (named by the device)")
            fixed.setToolTip("This device sends two streams, named imu and radar")
            self.editor.addRow("Name", fixed)
        else:
            self._field(row, "name", QLineEdit(config.name))
        if isinstance(config, SerialConfig):
            self._field(row, "port", QLineEdit(config.port))
            self._field(row, "protocol", _combo(["text", "binary"], config.protocol))
            self._field(row, "baud", _combo([str(b) for b in BAUD_RATES], str(config.baud)), int)
            self._field(row, "rate", QLineEdit("" if config.rate is None else f"{config.rate:g}"), _opt_float)
        elif isinstance(config, AudioConfig):
            self._field(row, "device", QLineEdit("" if config.device is None else str(config.device)), lambda s: s or None)
            self._field(row, "rate", _combo(["8000", "16000", "22050", "44100", "48000", "96000"], str(config.rate), editable=True), int)
            self._field(row, "channels", QLineEdit(str(config.channels)), int)
        elif isinstance(config, CameraConfig):
            self._field(row, "device", QLineEdit(str(config.device)), lambda s: int(s) if s.isdigit() else s)
            for key in ("width", "height"):
                self._field(row, key, QLineEdit("" if getattr(config, key) is None else str(getattr(config, key))), lambda s: int(s) if s else None)
            self._field(row, "fps", QLineEdit("" if config.fps is None else f"{config.fps:g}"), _opt_float)
        else:
            self._field(row, "device", _combo(list(EMULATED), config.device))
            self._field(row, "rate", QLineEdit("" if config.rate is None else f"{config.rate:g}"), _opt_float)

    def _field(self, row: int, key: str, widget, convert=str) -> None:
        def commit(*_args) -> None:
            text = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
            try:
                value = convert(text.strip())
                config = self._devices[row]
                self._devices[row] = type(config).model_validate({**config.model_dump(), key: value})
            except (ValueError, ValidationError) as e:
                first = e.errors()[0]["msg"] if isinstance(e, ValidationError) else str(e)
                self.error.setText(f"{key}: {first}")
                return
            self.error.setText("")
            self.rig_list.item(row).setText(describe(self._devices[row]))

        if isinstance(widget, QComboBox):
            widget.currentTextChanged.connect(commit)
        else:
            widget.editingFinished.connect(commit)
        self.editor.addRow(key.capitalize(), widget)

    def _load(self) -> None:
        start = str(self.settings.value("rig/folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Load rig", start, "Rig files (*.toml)")
        if not path:
            return
        try:
            rig = load_rig(path)
        except RigError as e:
            self.error.setText(str(e))
            return
        self.settings.setValue("rig/folder", str(Path(path).parent))
        self._rig = rig
        self.rig_name.setText(rig.name)
        self._devices = [_named(d) for d in (*rig.camera, *rig.audio, *rig.serial, *rig.emulated)]
        self._refresh_list()

    def _save(self) -> None:
        start = str(Path(str(self.settings.value("rig/folder", str(Path.home())))) / f"{self.rig_name.text() or 'rig'}.toml")
        path, _ = QFileDialog.getSaveFileName(self, "Save rig", start, "Rig files (*.toml)")
        if path:
            self.save_to(path)

    def save_to(self, path: str | Path) -> None:
        from sensorlab.acquisition.rig import save_rig

        try:
            save_rig(self.rig(), path)
        except (OSError, ValidationError) as e:
            self.error.setText(f"could not save the rig: {e}")
            return
        self.settings.setValue("rig/folder", str(Path(path).parent))
        self.status.setText(f"saved {path}")

    def _accept(self) -> None:
        try:
            rig = self.rig()
        except ValidationError as e:
            self.error.setText(str(e.errors()[0]["msg"]))
            return
        if not [*rig.camera, *rig.audio, *rig.serial, *rig.emulated]:
            self.error.setText("add at least one device")
            return
        self.accept()


def _named(config):
    """``config`` with the stream name it will get spelled out (an emulated device's default,
    e.g. imu-text → wrist), so the dialog never shows an empty Name for a named stream."""
    if isinstance(config, EmulatedConfig) and not config.name and EMULATED_NAMES[config.device]:
        return config.model_copy(update={"name": EMULATED_NAMES[config.device]})
    return config


def _combo(items: list[str], current: str, editable: bool = False) -> QComboBox:
    box = QComboBox(editable=editable)
    box.addItems(items)
    box.setCurrentText(current)
    return box


def _opt_float(text: str) -> float | None:
    return float(text) if text else None
