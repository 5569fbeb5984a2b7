"""`SessionsView`: the sessions folder as a list; double-click one to label it.

Reading each file's metadata would open every HDF5 file on every refresh, so the list shows
what the file system knows (name, time, size) plus the label count from the small sidecar.
"""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
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
        self.folder = Path(folder)
        self.refresh()

    def set_folder(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.refresh()

    def refresh(self) -> None:
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
        for col in range(self.columnCount()):
            self.resizeColumnToContents(col)


def _label_count(session: Path) -> str:
    side = sidecar_path(session)
    try:
        return str(len(json.loads(side.read_text()).get("segments", [])))
    except (OSError, ValueError, AttributeError):
        return "-" if not side.exists() else "?"
