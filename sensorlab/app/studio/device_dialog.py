"""`DeviceDialog`: pick the rig's devices, see what each reports, save and load the rig file.

Everything kind-specific comes from the device kinds' registry (`sensorlab.acquisition.kinds`),
so a kind added by another package shows up here with no change to this file.

Left: what this machine has, one group per kind (cameras, audio inputs, serial ports, …
scanned on a worker thread with `sensorlab.acquisition.devices.list_devices` as the dialog
opens, and again on Rescan; what could not be listed is explained, word-wrapped, under the
list; kinds that need no scan, like the emulated demo devices, are listed at once), and
free-text entries ("Add as serial", "Add as camera": every kind with a `TextEntry`) for a
device that is not listed (ptys, ``socket://`` URLs, a video file). Right: the rig being
edited, one device per row, an editor for the selected device (the kind's `EditorField`s),
and *Probe*, which opens the device on a worker thread and shows the streams it reports
(rate, channels, units) or the error it gives (for a device the studio's open rig is reading,
that the studio has it, and how to probe it anyway). The rig is the same TOML file the CLI reads.
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

from sensorlab.acquisition.kinds import DeviceConfig, device_kinds, kind_of
from sensorlab.acquisition.rig import RigBase, RigError, load_rig, parse_rig, rig_model
from sensorlab.acquisition.source import SourceError
from sensorlab.app.common.workers import TaskRunner


def describe(config: DeviceConfig) -> str:
    """One line for a device config in the rig list."""
    return kind_of(config).describe(config)


def probe(config: DeviceConfig, held_by_studio: bool = False):
    """Open one device, report its streams, close it (worker thread).

    ``held_by_studio``: the studio's open rig reads this device, so a failure to open it is
    the studio's doing: said so, with how to probe it anyway, instead of the driver's guess
    ("is another program holding it?")."""
    yield f"opening {describe(config)}"
    try:
        return kind_of(config).probe(config)
    except Exception:
        if not held_by_studio:
            raise
        raise SourceError(held_message(config)) from None


def held_message(config: DeviceConfig) -> str:
    """Why a device the studio's rig has open cannot be probed, and how to probe it anyway."""
    return (f"{describe(config)} is open in the studio: its rig is reading this device now, so a probe cannot "
            "open it a second time. Its streams are in the studio's Stream health tab. To probe it anyway, "
            'press "Close studio rig" here (or Close rig on the toolbar), then Probe.')  # fmt: skip


def same_device(a: DeviceConfig, b: DeviceConfig) -> bool:
    """The same hardware: same kind and same port, camera, input… (a kind's first setting),
    whatever the name, baud or rate."""
    if type(a) is not type(b):
        return False
    fields = kind_of(a).editor
    if not fields:
        return a.model_dump(exclude={"name"}) == b.model_dump(exclude={"name"})
    return getattr(a, fields[0].key) == getattr(b, fields[0].key)


def scan(rig_devices: list[DeviceConfig] | None = None):
    """List this machine's devices (worker thread); hints fit ``rig_devices``, the rig being edited."""
    from sensorlab.acquisition.devices import list_devices

    titles = [k.title.lower() for k in device_kinds() if k.scanned]
    yield "scanning " + (", ".join(titles[:-1]) + " and " + titles[-1] if len(titles) > 1 else "".join(titles) or "devices")
    return list_devices(rig=rig_devices)


class DeviceDialog(QDialog):
    """Edit a rig. ``rig()`` returns the validated rig (a `RigConfig`) after ``exec()`` accepted."""

    def __init__(self, settings: QSettings, rig_text: str = "", parent=None, held: list[DeviceConfig] = (), close_rig=None):
        """``held``: the devices the studio's rig reads (a probe cannot open them); ``close_rig(on_closed)``: closes it."""
        super().__init__(parent)
        self.held, self._close_studio_rig = list(held), close_rig
        self.setWindowTitle("Devices")
        self.resize(980, 560)
        self.settings = settings
        self.tasks = TaskRunner(self)
        self.kinds = device_kinds()
        try:
            self._rig = parse_rig(rig_text) if rig_text else rig_model()(name="my-rig")
        except RigError:
            self._rig = rig_model()(name="my-rig")
        self._devices: list[DeviceConfig] = [_named(d) for d in self._rig.devices()]

        # -- left: available devices
        self.available = QTreeWidget()
        self.available.setHeaderLabels(["Available devices"])
        self.available.itemDoubleClicked.connect(lambda item, _col: self._add_item(item))
        self.rescan_button = QPushButton("Rescan", clicked=self.rescan)
        typed = sorted((k for k in self.kinds if k.text_entry), key=lambda k: k.text_entry.rank)
        self.extra = QLineEdit(placeholderText=", ".join(k.text_entry.example for k in typed))
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
        for kind in typed:
            row.addWidget(QPushButton(f"Add as {kind.table}", clicked=lambda _=False, k=kind.config: self._add_text(k)))
        left.addLayout(row)

        # -- right: the rig
        self.rig_name = QLineEdit(self._rig.name)
        self.rig_list = QListWidget()
        self.rig_list.currentRowChanged.connect(self._show_editor)
        self.editor_box = QWidget()
        self.editor = QFormLayout(self.editor_box)
        self.error = QLabel(styleSheet="color:#ef5350")
        self.error.setWordWrap(True)
        # Settings that are valid but probably not meant (a text stream kept in float32), with the fix.
        self.notes = QLabel(wordWrap=True, styleSheet="color:#ffb74d")
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report = QPlainTextEdit(readOnly=True, placeholderText="Probe a device to see the streams it reports (rate, channels, units).")
        self.report.setMaximumHeight(120)
        buttons = QHBoxLayout()
        for text, slot in (("Probe", self.probe_selected), ("Remove", self._remove), ("Load rig…", self._load), ("Save rig…", self._save)):
            buttons.addWidget(QPushButton(text, clicked=slot))
        self.close_rig_button = QPushButton("Close studio rig", clicked=self.close_studio_rig, enabled=bool(self.held and close_rig),
                                            toolTip="Stop the studio's running rig and free its devices, e.g. to probe one it holds")  # fmt: skip
        buttons.addWidget(self.close_rig_button)
        right = QVBoxLayout()
        name_row = QHBoxLayout()
        name_row.addWidget(QLabel("Rig name"))
        name_row.addWidget(self.rig_name, 1)
        right.addLayout(name_row)
        right.addWidget(self.rig_list, 1)
        right.addWidget(self.editor_box)
        right.addWidget(self.error)
        right.addWidget(self.notes)
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
        self._show_notes(self._rig)
        self.rescan()  # list the hardware now, without waiting for the user to ask

    # -- public ----------------------------------------------------------------------------
    def rig(self) -> RigBase:
        """The rig as edited (validated)."""
        lists: dict[str, list] = {k.table: [] for k in self.kinds}
        for d in self._devices:
            lists[kind_of(d).table].append(d)
        return rig_model()(name=self.rig_name.text().strip() or "rig", **lists)

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
        self.tasks.run("Scanning devices", scan, list(self._devices), on_done=self._fill_available, on_error=lambda _m: self.rescan_button.setEnabled(True))

    def probe_selected(self) -> None:
        row = self.rig_list.currentRow()
        if row < 0:
            return
        config = self._devices[row]
        held = any(same_device(config, h) for h in self.held)
        self.report.setPlainText("probing…")
        self.tasks.run(f"Probing {config.name}", probe, config, held, on_done=self.report.setPlainText)

    # -- internals ---------------------------------------------------------------------------
    def close_studio_rig(self) -> None:
        def closed() -> None:  # the window's close_rig finished: a probe can open its devices now
            self.held = []
            self.status.setText("the studio's rig is closed: its devices can be probed")

        if self._close_studio_rig(on_closed=closed):
            self.close_rig_button.setEnabled(False)

    def _fill_available(self, devices) -> None:
        """One group per kind: its devices, "(scanning…)" until a scan ends, or "(none found)"."""
        self.rescan_button.setEnabled(True)
        self.available.clear()
        for kind in self.kinds:
            group = QTreeWidgetItem(self.available, [kind.title])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            if devices is None and kind.scanned:
                QTreeWidgetItem(group, ["(scanning…)"]).setFlags(Qt.ItemFlag.NoItemFlags)
                continue
            for found in devices.of(kind.table) if devices is not None else kind.list_devices():
                item = QTreeWidgetItem(group, [found.label])
                item.setData(0, Qt.ItemDataRole.UserRole, found.config)
            if not group.childCount():
                QTreeWidgetItem(group, ["(none found)"]).setFlags(Qt.ItemFlag.NoItemFlags)
        if devices is None:
            self.problems.hide()
        else:
            self.problems.setText("Problems:\n" + "\n".join(f"• {line}" for line in devices.problems))
            self.problems.setVisible(bool(devices.problems))
        self.available.expandAll()

    def _add_item(self, item) -> None:
        config = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        if config is not None:
            self.add_device(config)

    def _add_text(self, config_class: type[DeviceConfig]) -> None:
        """Add the typed-in port, URL or file as a device of the kind whose config is ``config_class``."""
        text = self.extra.text().strip()
        if not text:
            self.error.setText("enter a port, URL or file first")
            return
        kind = next(k for k in self.kinds if k.config is config_class)
        try:
            config = kind.from_text(text)
        except (ValueError, ValidationError) as e:
            self.error.setText(_first_error(e))
            return
        self.add_device(config)

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
        kind = kind_of(config)
        fixed = kind.fixed_name(config)
        if fixed:
            # A device that names its streams itself; a name here would be ignored.
            name = QLineEdit(enabled=False, placeholderText=fixed)
            name.setToolTip(f"This device names its streams itself: {fixed}")
            self.editor.addRow("Name", name)
        else:
            self._field(row, "name", QLineEdit(config.name))
        for f in kind.editor:
            shown = f.show(getattr(config, f.key))
            widget = _combo(list(f.choices), shown, editable=f.editable) if f.choices else QLineEdit(shown)
            self._field(row, f.key, widget, f.parse)

    def _field(self, row: int, key: str, widget, convert=str) -> None:
        def commit(*_args) -> None:
            text = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
            try:
                value = convert(text.strip())
                config = self._devices[row]
                self._devices[row] = type(config).model_validate({**config.model_dump(), key: value})
            except (ValueError, ValidationError) as e:
                self.error.setText(f"{key}: {_first_error(e)}")
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
        if path:
            self.load_from(path)

    def load_from(self, path: str | Path) -> None:
        """Show the rig file at ``path``; its error, or notes on settings probably not meant."""
        try:
            rig = load_rig(path)
        except RigError as e:
            self.error.setText(str(e))
            return
        self.settings.setValue("rig/folder", str(Path(path).parent))
        self._rig = rig
        self.rig_name.setText(rig.name)
        self._devices = [_named(d) for d in rig.devices()]
        self._refresh_list()
        self._show_notes(rig)

    def _show_notes(self, rig: RigBase) -> None:
        notes = rig.notes()
        self.notes.setText("\n".join(f"note: {n}" for n in notes))
        self.notes.setVisible(bool(notes))

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
        if not rig.devices():
            self.error.setText("add at least one device")
            return
        self.accept()


def _named(config: DeviceConfig) -> DeviceConfig:
    """``config`` with the stream name it will get spelled out (an emulated device's default,
    e.g. imu-text → wrist), so the dialog never shows an empty Name for a named stream."""
    return kind_of(config).named(config)


def _first_error(e: Exception) -> str:
    return str(e.errors()[0]["msg"]) if isinstance(e, ValidationError) else str(e)


def _combo(items: list[str], current: str, editable: bool = False) -> QComboBox:
    box = QComboBox(editable=editable)
    box.addItems(items)
    box.setCurrentText(current)
    return box
