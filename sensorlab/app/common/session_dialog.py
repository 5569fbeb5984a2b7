"""The "open a session" file dialog: recordings only, not the files derived from them.

Beside ``run1.h5`` lie ``run1.pyramid.h5`` (the labeling view's overview cache) and
``run1.predictions.h5`` (offline predictions); both end in ``.h5`` and would be offered as if
they were recordings. Qt's name filters can only include patterns, not exclude them, so a
proxy model on the dialog hides names ending in `DERIVED_SUFFIXES`, as the Sessions list and
the Datasets picker do. The proxy needs Qt's own dialog (a native one ignores proxy models).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, QSortFilterProxyModel
from PySide6.QtWidgets import QFileDialog, QFileSystemModel, QHeaderView, QTreeView, QWidget

from sensorlab.app.common.window_size import fit_to_screen

from sensorlab.session.format import DERIVED_SUFFIXES

SESSION_NAME_FILTER = "Sessions (*.h5)"


class HideDerivedFiles(QSortFilterProxyModel):
    """Passes folders and files, except files whose name ends in one of `DERIVED_SUFFIXES`."""

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        index = model.index(row, 0, parent)
        if isinstance(model, QFileSystemModel) and model.isDir(index):
            return True
        return not str(model.data(index)).endswith(DERIVED_SUFFIXES)


def session_file_dialog(parent: QWidget | None, title: str, folder: str | Path = "") -> QFileDialog:
    """A non-modal-ready dialog choosing one existing session file in ``folder``; call open() or exec()."""
    dialog = QFileDialog(parent, title, str(folder), SESSION_NAME_FILTER)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    dialog.setProxyModel(HideDerivedFiles(dialog))
    # Qt's own dialog opened at 632 px wide, its detail columns cut to "39....MiB" and
    # "HDF...ent": room for a session's long name, and Size, Type and Date as wide as their texts.
    dialog.resize(fit_to_screen(dialog, QSize(960, 540)))
    details = dialog.findChild(QTreeView, "treeView")
    if details is not None:
        header = details.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, header.count()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return dialog
