"""`SessionPicker`: the sessions of a folder with their tags, streams and label tiers, to tick for a dataset.

Unlike the Sessions list (which shows only what the file system knows, to stay instant), a
dataset needs each session's tags, streams and tiers, so this list opens each file's metadata
once per refresh. A tag filter (``subject=s01, subject=s02``: same key any of them, different
keys all) hides the sessions it excludes; it is the spec's ``sessions.tags``, so the build
applies the same filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sensorlab.datasets.interchange.export import is_dataset
from sensorlab.datasets.sources import (
    one_line,
    open_session,
    read_annotations,
    session_fields,
)
from sensorlab.datasets.spec import SessionsSpec
from sensorlab.session.format import DERIVED_SUFFIXES


@dataclass
class SessionInfo:
    path: Path
    fields: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)
    streams: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    error: str = ""


def scan_session(path: Path) -> SessionInfo:
    """Tags, streams and label tiers (those with reviewed labels) of one session (``error`` set
    if it cannot be read)."""
    info = SessionInfo(path)
    try:
        with open_session(path) as s:
            info.fields = session_fields(s, path)
            info.tags = dict(s.metadata.tags)
            info.streams = [n for n in s.streams if n != "labels"]
        ann = read_annotations(path)
        # Tiers that can label a window. Unreviewed suggestions never do, so a tier of only
        # suggestions (the "suggestions" tier, empty too once all were accepted) is left out:
        # listed first, it became the form's tier and the dataset had no labeled window.
        labeled = {s.tier for s in ann.segments(suggested=False)}
        info.tiers = [t for t in ann.tier_names if t in labeled]
    except Exception as e:  # a damaged file is shown as such, never hides the others
        info.error = one_line(e)
    return info


def parse_tags(text: str) -> list[str]:
    """``"subject=s01, location=lab"`` → ``["subject=s01", "location=lab"]``; ValueError names a bad term."""
    tags = [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]
    SessionsSpec(paths=["x"], tags=tags)  # the spec's own check, so the message is the build's
    return tags


#: Columns, tiers before tags: a dataset is built from one tier, so which sessions have it is
#: what the list is read for (after tags, it was cut off at the pane's edge in the studio).
COLUMNS = ("Session", "Tiers", "Tags", "Streams")
TIERS, TAGS = COLUMNS.index("Tiers"), COLUMNS.index("Tags")
#: Widest a column other than the name grows to fit its texts (pixels); longer texts are
#: elided, whole in the cell's tooltip. One session's long tags pushed the others out of view.
MAX_COLUMN = 170


class SessionPicker(QWidget):
    """Tick sessions of a folder. Emits ``changed`` when the ticked set or the tag filter changes."""

    changed = Signal()

    def __init__(self, folder: str | Path = "", parent: QWidget | None = None, scan: bool = True):
        super().__init__(parent)
        self.folder = Path(folder)
        self.infos: list[SessionInfo] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.folder_label = QLabel()
        self.folder_label.setWordWrap(True)
        # Sessions recorded with `sensorlab record` land in the current folder, not the studio's:
        # without this the list stayed empty, and the only way to it was the Live tab's form.
        # Beside the folder's name (in the All / None / Refresh row it widened the pane's
        # minimum by 86 px and cut the Build pane at the studio's size on a 1280×800 screen).
        self.folder_button = QPushButton("Folder…", clicked=self.choose_folder)
        self.folder_button.setToolTip("Show the sessions of another folder (the recording folder in the session form stays as it is)")
        top = QHBoxLayout()
        top.addWidget(self.folder_label, 1)
        top.addWidget(self.folder_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.tag_filter = QLineEdit(placeholderText="tag filter, e.g. subject=s01, subject=s02")
        self.tag_filter.setToolTip("Only sessions with these tags (same key: any of them; different keys: all)")
        self.tag_filter.textChanged.connect(self._apply_filter)
        layout.addWidget(self.tag_filter)
        self.filter_error = QLabel(styleSheet="color:#ef5350")
        self.filter_error.hide()
        layout.addWidget(self.filter_error)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.itemChanged.connect(lambda *_: self.changed.emit())
        layout.addWidget(self.tree, 1)
        row = QHBoxLayout()
        row.addWidget(QPushButton("All", clicked=lambda: self._tick_all(True)))
        row.addWidget(QPushButton("None", clicked=lambda: self._tick_all(False)))
        row.addStretch(1)
        row.addWidget(QPushButton("Refresh", clicked=self.refresh))
        layout.addLayout(row)
        if scan:
            self.refresh()

    def set_folder(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.refresh()

    def choose_folder(self) -> QFileDialog:
        """Ask for a folder of sessions (non-blocking); choosing one lists its sessions. Returns the dialog."""
        dialog = QFileDialog(self, "Folder of sessions", str(self.folder))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda p: p and self.set_folder(p))
        dialog.open()
        return dialog

    def refresh(self) -> None:
        """Re-read the folder (ticks are kept for sessions still there; new ones are ticked)."""
        before = {str(i.path): ok for i, ok in zip(self.infos, self._ticks())}
        files = sorted(p for p in self.folder.glob("*.h5") if not p.name.endswith((*DERIVED_SUFFIXES, ".recovered.h5"))) if self.folder.is_dir() else []
        # A dataset built beside its sessions (`dataset build imu.toml -o imu.h5`) is not a
        # session: it was listed in red as unreadable, and ticked into the spec as "skipped".
        files = [p for p in files if not is_dataset(p)]
        self.folder_label.setText(f"Sessions in {self.folder}" if files else
                                  f"No sessions in {self.folder}: record some (Live tab, Record), or press Folder… for another folder")  # fmt: skip
        self.infos = [scan_session(p) for p in files]
        self.tree.blockSignals(True)
        self.tree.clear()
        for info in self.infos:
            tags = ", ".join(f"{k}={v}" for k, v in info.tags.items())
            item = QTreeWidgetItem([info.path.stem, ", ".join(info.tiers) or "-", tags, ", ".join(info.streams)])
            item.setData(0, Qt.ItemDataRole.UserRole, str(info.path))
            if info.error:
                item.setText(TIERS, f"cannot read: {info.error}")
                item.setForeground(TIERS, Qt.GlobalColor.red)
            for col in range(len(COLUMNS)):
                item.setToolTip(col, item.text(col))
            # An unreadable file gets no box: it cannot be ticked into a spec. Every readable
            # session gets one the user can click (the tooltip loop once swallowed this `if`,
            # and then no session could be unticked while the unreadable ones were ticked).
            if info.error:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
            else:
                item.setCheckState(0, Qt.CheckState.Checked if before.get(str(info.path), True) else Qt.CheckState.Unchecked)
            self.tree.addTopLevelItem(item)
        for col in range(self.tree.columnCount()):
            self.tree.resizeColumnToContents(col)
            if col and self.tree.columnWidth(col) > MAX_COLUMN:
                self.tree.setColumnWidth(col, MAX_COLUMN)
        self.tree.blockSignals(False)
        self._apply_filter()

    def tags(self) -> list[str]:
        """The tag filter as spec terms (invalid text: no filter, and the error is shown)."""
        try:
            return parse_tags(self.tag_filter.text())
        except ValueError:
            return []

    def selected(self) -> list[SessionInfo]:
        """Ticked sessions that pass the tag filter."""
        return [i for n, (i, ok) in enumerate(zip(self.infos, self._ticks())) if ok and not self.tree.topLevelItem(n).isHidden()]

    def select(self, paths: list[Path]) -> None:
        """Tick exactly these sessions (e.g. those a loaded spec names)."""
        want = {str(Path(p).resolve()) for p in paths}
        self.tree.blockSignals(True)
        for n, info in enumerate(self.infos):
            if not info.error:
                ok = str(info.path.resolve()) in want
                self.tree.topLevelItem(n).setCheckState(0, Qt.CheckState.Checked if ok else Qt.CheckState.Unchecked)
        self.tree.blockSignals(False)
        self.changed.emit()

    # -- internals ---------------------------------------------------------------------------
    def _ticks(self) -> list[bool]:
        return [self.tree.topLevelItem(n).checkState(0) == Qt.CheckState.Checked for n in range(self.tree.topLevelItemCount())]

    def _tick_all(self, on: bool) -> None:
        self.select([i.path for i in self.infos] if on else [])

    def _apply_filter(self) -> None:
        try:
            tags = parse_tags(self.tag_filter.text())
            self.filter_error.hide()
        except ValueError as e:
            msg = str(e).splitlines()
            self.filter_error.setText(next((m.strip() for m in msg if "key=value" in m), "tags are key=value, e.g. subject=s01"))
            self.filter_error.show()
            tags = []
        spec = SessionsSpec(paths=["x"], tags=tags)
        for n, info in enumerate(self.infos):
            self.tree.topLevelItem(n).setHidden(bool(info.error) is False and not spec.accepts(info.fields))
        self.changed.emit()


__all__ = ["SessionInfo", "SessionPicker", "parse_tags", "scan_session"]
