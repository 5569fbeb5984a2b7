"""`SessionForm`: name, notes and tags of the next session, and the sessions folder.

What the user typed last (folder, name, tags) is remembered in `QSettings` between runs; the
form turns it into a `SessionMetadata` and a fresh file path when Record is pressed.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QToolButton,
    QWidget,
)

from sensorlab.session.metadata import SessionMetadata

#: Tags offered as their own fields; anything else goes in "other tags" as key=value pairs.
TAG_FIELDS = ("subject", "location", "device")
DEFAULT_FOLDER = Path.home() / "sensorlab-sessions"


def parse_tags(text: str) -> dict[str, str]:
    """``"a=1, b = two"`` → ``{"a": "1", "b": "two"}``; a bare word becomes ``{word: ""}``."""
    tags: dict[str, str] = {}
    for part in re.split(r"[,;\n]", text):
        if not part.strip():
            continue
        key, _, value = part.partition("=")
        tags[key.strip()] = value.strip()
    return tags


def safe_filename(name: str) -> str:
    """A file-name-safe version of a session name (letters, digits, ``-_.``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-.") or "session"


class SessionForm(QWidget):
    """Form for the next session's metadata; remembers its fields in ``settings``."""

    def __init__(self, settings: QSettings, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.name = QLineEdit(str(settings.value("session/name", "session")))
        self.name.setPlaceholderText("e.g. s01-walking")
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("What is being recorded, anything unusual…")
        self.notes.setMaximumHeight(70)
        self.tag_edits = {key: QLineEdit(str(settings.value(f"session/tag_{key}", ""))) for key in TAG_FIELDS}
        self.other_tags = QLineEdit(str(settings.value("session/other_tags", "")))
        self.other_tags.setPlaceholderText("key=value, key=value")
        self.folder = QLineEdit(str(settings.value("session/folder", str(DEFAULT_FOLDER))))
        browse = QToolButton(text="…")
        browse.setToolTip("Choose the sessions folder")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.setContentsMargins(0, 0, 0, 0)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)

        form = QFormLayout(self)
        form.setContentsMargins(4, 4, 4, 4)
        form.addRow("Name", self.name)
        form.addRow("Notes", self.notes)
        for key, edit in self.tag_edits.items():
            form.addRow(key.capitalize(), edit)
        form.addRow("Other tags", self.other_tags)
        form.addRow("Folder", folder_row)

    def tags(self) -> dict[str, str]:
        tags = {k: e.text().strip() for k, e in self.tag_edits.items() if e.text().strip()}
        tags.update(parse_tags(self.other_tags.text()))
        return tags

    def metadata(self, rig_text: str = "") -> SessionMetadata:
        """The metadata of the next session (also remembers the fields)."""
        self.remember()
        return SessionMetadata(name=self.name.text().strip() or "session", notes=self.notes.toPlainText(), tags=self.tags(), rig=rig_text)

    def sessions_folder(self) -> Path:
        return Path(self.folder.text().strip() or DEFAULT_FOLDER).expanduser()

    def next_path(self) -> Path:
        """A new file in the sessions folder: ``<name>-<YYYYmmdd-HHMMSS>.h5`` (never overwrites)."""
        folder = self.sessions_folder()
        stem = f"{safe_filename(self.name.text())}-{datetime.now():%Y%m%d-%H%M%S}"
        path, k = folder / f"{stem}.h5", 1
        while path.exists():
            k += 1
            path = folder / f"{stem}-{k}.h5"
        return path

    def remember(self) -> None:
        s = self.settings
        s.setValue("session/name", self.name.text())
        s.setValue("session/folder", self.folder.text())
        s.setValue("session/other_tags", self.other_tags.text())
        for key, edit in self.tag_edits.items():
            s.setValue(f"session/tag_{key}", edit.text())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Sessions folder", str(self.sessions_folder()))
        if folder:
            self.folder.setText(folder)
            self.remember()
