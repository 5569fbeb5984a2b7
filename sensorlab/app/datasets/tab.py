"""The Datasets tab: tick sessions, edit the spec, preview window counts, build, see the report.

- Sessions come from the sessions folder the Sessions list shows (`SessionPicker`), filtered
  by tags; the spec's streams, labels, window and split are a form (`SpecForm`) that loads
  and saves the spec TOML of ``sensorlab dataset build``.
- **Preview** runs the core's `preview_counts` (and the split plan) on a worker thread: it
  reads metadata and labels only, so it is quick, and it is redone shortly after each edit.
- **Build** writes the spec beside the output (``NAME.spec.toml``, so the build can be repeated
  with the command line) and runs ``sensorlab dataset build SPEC -o NAME.h5 --json`` as a
  subprocess (`ProcessRunner`): the studio stays responsive and keeps recording while it runs,
  and Cancel stops it with no file left behind.
- The report (`ReportPanel`) is read from the built file, like ``sensorlab dataset info``.
  Build, Cancel and the report are `DatasetBuilding` (``building.py``), a base class of the tab.
"""

from __future__ import annotations

from pathlib import Path

import tomli_w
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid
from superqt.utils import create_worker

from sensorlab.app.common.process_runner import ProcessRunner, append_log
from sensorlab.app.datasets.building import DatasetBuilding
from sensorlab.app.datasets.remembered import drop_missing_streams, remember, restore
from sensorlab.app.datasets.report_panel import (
    CountsTable,
    ReportPanel,
    count_preview,
)
from sensorlab.app.datasets.session_picker import SessionPicker
from sensorlab.app.datasets.spec_form import SpecForm
from sensorlab.datasets.spec import DatasetSpec, SpecError, load_spec, spec_from_dict


def _scrolled(label: QLabel, lines: int) -> QScrollArea:
    """``label`` in a frameless box ``lines`` text lines high that scrolls when the text is longer."""
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # errors can be copied
    area = QScrollArea(widgetResizable=True, frameShape=QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # wrap, never scroll sideways
    area.setWidget(label)
    area.setFixedHeight(label.fontMetrics().lineSpacing() * lines + 6)
    return area


class DatasetsTab(DatasetBuilding, QWidget):
    """Signals: ``preview_done(dict)``, ``dataset_built(path)``, ``train_requested(path)``."""

    preview_done = Signal(dict)
    dataset_built = Signal(str)
    train_requested = Signal(str)

    def __init__(self, sessions_folder: str | Path = "", parent: QWidget | None = None, lazy: bool = False,
                 settings: QSettings | None = None):
        """``lazy``: read the sessions only when the tab is shown (the studio's start stays quick).
        ``settings``: where the spec form is remembered between starts (`remembered.py`)."""
        super().__init__(parent)
        self.settings = settings
        self._lazy = lazy
        self._preview_worker = None
        self._preview_pending = False
        self.last_preview: dict | None = None
        self.dataset_path: Path | None = None
        self._out = Path()
        self._report_worker = None
        self.runner = ProcessRunner(self)
        self.runner.event.connect(self._on_event)
        self.runner.log.connect(self._log)
        self.runner.finished.connect(self._on_build_finished)

        self.picker = SessionPicker(sessions_folder, scan=not lazy)
        self.where = QLineEdit(placeholderText="query, e.g. duration >= 30; name ~ ^walk")
        self.where.setToolTip("Optional: terms on session metadata, all must hold (separate with ';')")
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(4, 4, 4, 4)
        lv.addWidget(QLabel("<b>1. Sessions</b>"))
        lv.addWidget(self.picker, 1)
        lv.addWidget(self.where)

        self.form = SpecForm()
        form_scroll = QScrollArea(widgetResizable=True)
        form_scroll.setWidget(self.form)
        middle = QWidget()
        mv = QVBoxLayout(middle)
        mv.setContentsMargins(4, 4, 4, 4)
        head = QHBoxLayout()
        head.addWidget(QLabel("<b>2. Spec</b>"), 1)
        head.addWidget(QPushButton("Load spec…", clicked=self._ask_load))
        head.addWidget(QPushButton("Save spec…", clicked=self._ask_save))
        mv.addLayout(head)
        mv.addWidget(form_scroll, 1)
        self.spec_error = QLabel(wordWrap=True, styleSheet="color:#ef5350")
        mv.addWidget(self.spec_error)
        self.restore_note = QLabel(wordWrap=True, styleSheet="color:#f9a825", visible=False)  # a remembered stream gone
        mv.addWidget(self.restore_note)
        # Never narrower than the form and its scroll bar: at 1280 px the splitter gave it
        # less, and the Remove button and the right-hand fields went under a sideways scroll.
        form_scroll.setMinimumWidth(self.form.minimumSizeHint().width() + form_scroll.verticalScrollBar().sizeHint().width() + 4)

        right = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        tv = QVBoxLayout(top)
        tv.setContentsMargins(4, 4, 4, 4)
        box = QGroupBox("3. Preview: windows per class and split (before building)")
        pv = QVBoxLayout(box)
        self.preview_status = QLabel("", wordWrap=True)
        self.preview_table = CountsTable()
        self.preview_table.setFixedHeight(150)  # the Build controls below must not move when it fills in
        pv.addWidget(self.preview_table)
        # A fixed-height box (the Build controls must not move) that scrolls: a long warning is
        # never cut off at its last line.
        self.preview_scroll = _scrolled(self.preview_status, 5)
        pv.addWidget(self.preview_scroll)
        tv.addWidget(box)
        box = QGroupBox("4. Build")
        bv = QVBoxLayout(box)
        row = QHBoxLayout()
        self.output = QLineEdit()
        self.output.setToolTip("Dataset file to write; the spec is saved beside it as NAME.spec.toml")
        row.addWidget(QLabel("Output"))
        row.addWidget(self.output, 1)
        row.addWidget(QPushButton("…", clicked=self._ask_output, maximumWidth=30))
        row.addWidget(QLabel("Workers"))
        self.workers = QSpinBox(minimum=1, maximum=64, value=1)
        self.workers.setToolTip("Sessions processed in parallel by worker processes")
        row.addWidget(self.workers)
        bv.addLayout(row)
        row = QHBoxLayout()
        self.build_button = QPushButton("Build dataset", clicked=lambda: self.build())
        self.build_button.setStyleSheet("QPushButton{font-weight:bold;padding:4px 14px}")
        self.cancel_button = QPushButton("Cancel", enabled=False, clicked=self.runner.cancel)
        self.progress = QProgressBar(textVisible=True)
        self.progress.setFormat("not built yet")  # "%v / %m sessions" once a build reports its total
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        row.addWidget(self.build_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        bv.addLayout(row)
        self.build_status = QLabel("", wordWrap=True)
        self.build_scroll = _scrolled(self.build_status, 3)  # no jump when text appears; long errors scroll
        bv.addWidget(self.build_scroll)
        row = QHBoxLayout()
        row.addWidget(QPushButton("Open dataset…", clicked=self._ask_open_dataset))
        self.train_button = QPushButton("Train on it →", enabled=False, clicked=lambda: self.train_requested.emit(str(self.dataset_path)))
        row.addWidget(self.train_button)
        row.addStretch(1)
        bv.addLayout(row)
        self.log_view = QPlainTextEdit(readOnly=True, maximumBlockCount=2000)
        self.log_view.setMaximumHeight(80)
        bv.addWidget(self.log_view)
        tv.addWidget(box)
        # Preview and Build scroll rather than set the window's height: their ~540 px minimum,
        # added to the studio's docks and toolbar, made the window 863 px tall at least, taller
        # than a 1280 x 800 laptop screen (a tab's minimum counts on every tab).
        top_scroll = QScrollArea(widgetResizable=True, frameShape=QScrollArea.Shape.NoFrame)
        top_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        top_scroll.setWidget(top)
        right.addWidget(top_scroll)
        self.report = ReportPanel()
        right.addWidget(self.report)
        # Preview and Build whole when the window has the room (the report takes the rest).
        right.setStretchFactor(0, 0)
        right.setStretchFactor(1, 1)
        right.setSizes([top.sizeHint().height(), 400])

        split = QSplitter(Qt.Orientation.Horizontal)
        for w in (left, middle, right):
            split.addWidget(w)
        split.setSizes([300, 380, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        self._debounce = QTimer(self, singleShot=True, interval=700)
        self._debounce.timeout.connect(self.request_preview)
        self.picker.changed.connect(self._on_sessions_changed)
        self.form.changed.connect(self._debounce.start)
        self.where.textChanged.connect(self._debounce.start)
        self._set_default_output()
        self._check_restored = settings is not None and restore(self, settings)
        self._show_existing = True  # once: the output file built in an earlier session, if any
        self.form.add_stream_button.clicked.connect(lambda: self.restore_note.setVisible(False))
        self._on_sessions_changed()

    def remember(self) -> None:
        """Store the spec form, tag filter, query and chosen output file in the settings (the studio is closing)."""
        if self.settings is not None:
            remember(self, self.settings)

    # -- the spec --------------------------------------------------------------------------
    def spec_doc(self) -> dict:
        """The spec as TOML tables: ticked sessions (absolute paths), tag filter, query, then the form."""
        sessions: dict = {"paths": [str(i.path.resolve()) for i in self.picker.selected()]}
        if tags := self.picker.tags():
            sessions["tags"] = tags
        if where := [w.strip() for w in self.where.text().split(";") if w.strip()]:
            sessions["where"] = where
        return {"sessions": sessions, **self.form.to_dict()}

    def spec(self) -> DatasetSpec:
        """The validated spec (SpecError: one line naming the key)."""
        doc = self.spec_doc()
        if not doc["sessions"]["paths"]:
            raise SpecError("no sessions ticked: tick sessions in the list (or clear the tag filter)")
        if not doc["streams"]:
            raise SpecError("no streams: add the stream(s) every window should hold")
        return spec_from_dict(doc, self.picker.folder, "spec")

    def save_spec(self, path: str | Path) -> Path:
        """Write the spec TOML (validated first, so a saved spec always loads)."""
        self.spec()
        path = Path(path)
        path.write_text(tomli_w.dumps(self.spec_doc()), encoding="utf-8")
        return path

    def load_spec(self, path: str | Path) -> None:
        """Fill the tab from a spec file: its sessions ticked, tag filter, query and form (SpecError if invalid)."""
        spec = load_spec(path)
        files = spec.session_files()
        if files and {f.parent.resolve() for f in files} != {self.picker.folder.resolve()}:
            self.picker.set_folder(files[0].parent)
        doc = spec.model_dump(mode="json")
        self.picker.tag_filter.setText(", ".join(spec.sessions.tags))
        self.where.setText("; ".join(spec.sessions.where))
        self.picker.select(files)
        self.form.set_dict(doc)

    # -- preview ---------------------------------------------------------------------------
    def request_preview(self) -> None:
        """Preview on a worker thread (one at a time; a request during one runs after it)."""
        if self._preview_worker is not None:
            self._preview_pending = True
            return
        if not self.form.stream_names():
            # Not an error yet: the form starts empty. Say what to do next instead.
            self.spec_error.setText("")
            self.preview_status.setText("Next: pick the stream(s) every window should hold under Streams and press Add; "
                                        "then the tier, window and split. Window counts appear here as you edit.")  # fmt: skip
            return
        try:
            spec = self.spec()
        except SpecError as e:
            self.spec_error.setText(str(e))
            self.preview_status.setText("")
            return
        self.spec_error.setText("")
        self.preview_status.setText("counting windows…")
        worker = create_worker(count_preview, spec, _start_thread=False)
        worker.returned.connect(self._on_preview)
        worker.errored.connect(lambda e: isValid(self) and self._on_preview_error(str(e)))
        worker.finished.connect(self._on_preview_finished)
        self._preview_worker = worker
        worker.start()

    def _on_preview(self, result: dict) -> None:
        self.last_preview = result
        self.preview_table.show_counts(result["classes"], result["splits"], result["counts"])
        notes = [f"skipped {s['session']}: {s['reason']}" for s in result["skipped"]] + result["notes"]
        # An empty split first: the box shows four lines, and it is what changes what training can tell.
        notes.sort(key=lambda n: not (n.startswith("split") and " no windows:" in n))
        sessions = len(result["per_session"])
        text = f"{int(result['counts'].sum())} windows from {sessions} session(s) (windows over gaps are dropped at build time)"
        # Which session went where: the build puts each in the same split (one plan, `plan_build`).
        where = {s: [n for n, x in sorted(result.get("assignment", {}).items()) if x == s] for s in result["splits"]}
        text += "\n" + "; ".join(f"{s}: {', '.join(ns)}" for s, ns in where.items() if ns)
        self.preview_status.setText(text + "".join(f"\n⚠ {n}" for n in notes))
        self.preview_done.emit(result)

    def _on_preview_error(self, message: str) -> None:
        self.preview_table.setRowCount(0)
        self.preview_status.setText(f"⚠ {message}")
        self.preview_done.emit({})

    def _on_preview_finished(self) -> None:
        self._preview_worker = None
        if self._preview_pending:
            self._preview_pending = False
            self.request_preview()

    def preview_cell(self, cls: str, split: str) -> int:
        """Windows the last preview shows for ``cls`` in ``split`` (read from the table)."""
        return int(self.preview_table.cell(cls, split))

    # -- small things ------------------------------------------------------------------------
    def set_sessions_folder(self, folder: str | Path) -> None:
        if self._lazy and not self.isVisible():
            self.picker.folder = Path(folder)  # read when the tab is shown, not per typed character
        else:
            self.picker.set_folder(folder)
        self._set_default_output()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        # New recordings may have appeared since: re-read the folder (ticks are kept).
        if self._lazy:
            self.picker.refresh()
        if self._show_existing:
            self._show_existing = False
            if (existing := Path(self.output.text())).is_file() and self.dataset_path is None and not self.runner.running:
                self.open_dataset(existing)
        super().showEvent(event)

    def _set_default_output(self) -> None:
        if not self.output.text() or not self.output.isModified():
            self.output.setText(str(self.picker.folder.parent / "datasets" / "dataset.h5"))

    def _on_sessions_changed(self) -> None:
        if self._check_restored and self.picker.infos:  # once, when the folder's sessions are first read
            self._check_restored = False
            note = drop_missing_streams(self)
            self.restore_note.setText(f"⚠ {note}")
            self.restore_note.setVisible(bool(note))
        infos = self.picker.selected() or self.picker.infos
        streams = [s for i in infos for s in i.streams]
        tiers = [t for i in infos for t in i.tiers]
        keys = sorted({k for i in infos for k in i.tags})
        self.form.set_known(streams, tiers, keys)
        self._debounce.start()

    def _log(self, line: str) -> None:
        append_log(self.log_view, line)

    def _ask_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a dataset spec", str(self.picker.folder.parent), "Spec (*.toml)")
        if path:
            try:
                self.load_spec(path)
            except (SpecError, ValueError) as e:
                self.spec_error.setText(str(e))

    def _ask_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the dataset spec", str(Path(self.output.text()).with_suffix(".toml")), "Spec (*.toml)")
        if path:
            try:
                self.save_spec(path)
                self.build_status.setText(f"saved {path}")
            except (SpecError, OSError) as e:
                self.spec_error.setText(str(e))


__all__ = ["DatasetsTab"]
