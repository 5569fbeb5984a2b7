"""`SessionsView`: the sessions folder as a list; double-click one to label it.

Reading each file's metadata would open every HDF5 file on every refresh, so the list shows
what the file system knows (name, time, size) plus the label count from the small sidecar.
"""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, Qt, QTimer, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from sensorlab.labeling.store import sidecar_path
from sensorlab.session.format import DERIVED_SUFFIXES


class SessionsView(QTreeWidget):
    """Sessions (``*.h5``) in a folder, newest first. Emits ``open_requested(path)``."""

    open_requested = Signal(str)

    def __init__(self, folder: str | Path = "", parent=None):
        super().__init__(parent)
        self.setHeaderLabels(["Session", "Recorded", "Size", "Labels"])
        self.setRootIsDecorated(False)
        self.setSortingEnabled(False)
        self.setToolTip("Double-click a session to open it on the labeling timeline")
        self.itemActivated.connect(lambda item, _col: self.open_requested.emit(item.data(0, Qt.ItemDataRole.UserRole)))
        # Labels saved from a labeling window (each edit replaces the sidecar) or a recording
        # that appears change the folder: listed again shortly after, not only after the next
        # recording (the label counts went stale while a session was being labeled).
        self._watcher = QFileSystemWatcher(self)
        self._later = QTimer(self, singleShot=True, interval=500, timeout=self.refresh)
        self._watcher.directoryChanged.connect(lambda _path: self._later.start())
        self.folder = Path()
        self.set_folder(folder)

    def set_folder(self, folder: str | Path) -> None:
        if self._watcher.directories():
            self._watcher.removePaths(self._watcher.directories())
        self.folder = Path(folder)
        if self.folder.is_dir():
            self._watcher.addPath(str(self.folder))
        self.refresh()

    def selected_path(self) -> Path | None:
        """The session selected in the list, if any."""
        item = self.currentItem()
        return Path(item.data(0, Qt.ItemDataRole.UserRole)) if item is not None and item.isSelected() else None

    def newest_path(self) -> Path | None:
        """The newest session listed (the list is newest first), if any."""
        item = self.topLevelItem(0)
        return Path(item.data(0, Qt.ItemDataRole.UserRole)) if item is not None else None

    def refresh(self) -> None:
        selected = self.selected_path()
        self.clear()
        found = []
        for path in self.folder.glob("*.h5") if self.folder.is_dir() else []:
            if path.name.endswith((*DERIVED_SUFFIXES, ".recovered.h5")):
                continue  # caches, offline predictions and recovery copies, not sessions
            try:  # a dangling link (a drive not mounted) or a file deleted meanwhile: not listed
                st = path.stat()
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found.append((path, st))
        for path, st in sorted(found, key=lambda f: f[1].st_mtime, reverse=True):
            item = QTreeWidgetItem([path.stem, f"{datetime.fromtimestamp(st.st_mtime):%Y-%m-%d %H:%M}",
                                    f"{st.st_size / 1e6:,.1f} MB", _label_count(path)])  # fmt: skip
            item.setData(0, Qt.ItemDataRole.UserRole, str(path))
            self.addTopLevelItem(item)
            if path == selected:
                self.setCurrentItem(item)
        for col in range(self.columnCount()):
            self.resizeColumnToContents(col)


def _label_count(session: Path) -> str:
    """Labels in the sidecar, unreviewed suggestions apart ("12 + 21 suggested"): a model's
    suggestions are not labels until accepted, and a list saying 21 labels sent a newcomer to
    a session with none."""
    side = sidecar_path(session)
    try:
        segments = json.loads(side.read_text()).get("segments", [])
        suggested = sum(1 for s in segments if isinstance(s, dict) and s.get("suggested") is True)
    except (OSError, ValueError, AttributeError):
        return "-" if not side.exists() else "?"
    labels = len(segments) - suggested
    return f"{labels} + {suggested} suggested" if suggested else str(labels)
