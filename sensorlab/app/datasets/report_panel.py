"""`ReportPanel`: a dataset's report (classes per split, groups, sessions, warnings) and its PNG plots.

The numbers come from `sensorlab.datasets.report.dataset_report` and the plots from
`write_plots`, the same functions ``sensorlab dataset info --plots`` uses, so the panel and the
command line never disagree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sensorlab.datasets.preview import count_preview
from sensorlab.datasets.report import DatasetReport, classes_text, dataset_report, empty_split_lines, write_plots


def load_report(path: str | Path) -> tuple[DatasetReport, list[Path]]:
    """The report and its plots (written into ``DATASET.report/`` beside the file); runs on a worker thread."""
    path = Path(path)
    rep = dataset_report(path)
    plots = write_plots(path, path.with_name(path.stem + ".report"))
    return rep, plots


def _fill(t: QTableWidget, rows: list[list[str]]) -> None:
    """Put ``rows`` of text into ``t``'s cells: the first column (a name) as it is, the figures
    after it right-aligned so their digits line up."""
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            t.setItem(r, c, item)


def _table(header: list[str], rows: list[list[str]]) -> QTableWidget:
    t = QTableWidget(len(rows), len(header))
    t.setHorizontalHeaderLabels(header)
    t.verticalHeader().hide()
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    _fill(t, rows)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    # As big as its cells, whatever font the theme sets later (numbers stay next to their
    # labels), and never scrolling itself: the panel scrolls as a whole.
    t.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
    t.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    return t


def class_rows(classes: list[str], split_names: list[str], counts: np.ndarray, seconds: np.ndarray | None = None) -> list[list[str]]:
    """Rows ``class, per split…, total`` (and an ``all`` row); cells "windows" or "windows / s"."""

    def cell(n, s):
        return f"{int(n)}" if seconds is None else f"{int(n)} / {s:.0f} s"

    sec = seconds if seconds is not None else np.zeros_like(counts, dtype=float)
    rows = [[c, *[cell(counts[i, j], sec[i, j]) for i in range(len(split_names))], cell(counts[:, j].sum(), sec[:, j].sum())]
            for j, c in enumerate(classes)]  # fmt: skip
    rows.append(["all", *[cell(counts[i].sum(), sec[i].sum()) for i in range(len(split_names))], cell(counts.sum(), sec.sum())])
    return rows


class CountsTable(QTableWidget):
    """Windows per class (rows) and split (columns), with totals; for the build preview."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.verticalHeader().hide()
        # Rows one text line high: at Qt's 30 px a fixed-height preview of four classes and
        # background hid its "all" row (the totals) below the fold.
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.classes: list[str] = []
        self.splits: list[str] = []

    def show_counts(self, classes: list[str], splits: list[str], counts: np.ndarray) -> None:
        self.classes, self.splits = list(classes), list(splits)
        rows = class_rows(classes, splits, counts)
        self.setColumnCount(len(splits) + 2)
        self.setRowCount(len(rows))
        self.setHorizontalHeaderLabels(["class", *splits, "total"])
        _fill(self, rows)
        self.resizeColumnsToContents()

    def cell(self, cls: str, split: str) -> str:
        return self.item(self.classes.index(cls), 1 + self.splits.index(split)).text()


class ReportPanel(QScrollArea):
    """Shows one dataset's report; `show_report` replaces what is shown."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.report: DatasetReport | None = None
        self.class_table: QTableWidget | None = None
        self.images: dict[str, QLabel] = {}
        self._pixmaps: dict[str, QPixmap] = {}
        self._plots: list[Path] = []
        self._before: tuple[DatasetReport | None, list[Path]] = (None, [])
        self._empty()

    def _empty(self) -> None:
        hint = QLabel("Build a dataset (or open one) to see its report: windows per class and split, "
                      "per group and session, warnings, and plots.", wordWrap=True)  # fmt: skip
        hint.setStyleSheet("color:#9aa0a6;padding:12px")
        self.setWidget(hint)

    def show_building(self, name: str) -> None:
        """Say a build runs instead of showing the previous report, which was read as the new
        one (often of the very file being replaced) until the new report arrived."""
        self._before = (self.report, self._plots)
        self.report, self.class_table, self.images = None, None, {}
        note = QLabel(f"Building {name}… its report shows here when the build is done.", wordWrap=True)
        note.setStyleSheet("color:#9aa0a6;padding:12px")
        self.setWidget(note)

    def restore(self) -> None:
        """After a cancelled or failed build: show again what was shown before it."""
        rep, plots = self._before
        if rep is None:
            self._empty()
        else:
            self.show_report(rep, plots)

    def show_report(self, rep: DatasetReport, plots: list[Path]) -> None:
        self.report, self._plots = rep, plots
        body = QWidget()
        v = QVBoxLayout(body)
        title = QLabel(f"<b>{rep.path.name}</b>: {rep.windows} windows, {classes_text(len(rep.classes))}, "
                       f"split {rep.split.get('method')} by {rep.split.get('by')!r} (seed {rep.split.get('seed')})")  # fmt: skip
        title.setWordWrap(True)
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v.addWidget(title)
        w = rep.window
        streams = "; ".join(f"{s['name']} {s['rate']:g} Hz × {s['n_samples']}" + (f" ({', '.join(s['channels'])})" if s["channels"] else f" {s['kind']}")
                            for s in rep.streams)  # fmt: skip
        v.addWidget(QLabel(f"window {w.get('length')} s, hop {w.get('hop')} s, rule {w.get('rule')}, gaps {w.get('gaps')}; {streams}", wordWrap=True))
        v.addWidget(QLabel("<b>Windows / seconds per class and split</b>"))
        self.class_table = _table(["class", *rep.split_names, "total"], class_rows(rep.classes, rep.split_names, rep.counts, rep.seconds))
        v.addWidget(self.class_table, 0, Qt.AlignmentFlag.AlignLeft)
        v.addWidget(QLabel("<b>Groups</b>"))
        v.addWidget(_table(["group", "split", "windows"], [[g, s, str(n)] for g, s, n in rep.per_group]), 0, Qt.AlignmentFlag.AlignLeft)
        v.addWidget(QLabel("<b>Sessions</b>"))
        v.addWidget(_table(["session", "group", "split", "windows"], [[a, b, c, str(n)] for a, b, c, n in rep.per_session]), 0, Qt.AlignmentFlag.AlignLeft)
        problems = [f"skipped {s['session']}: {s['reason']}" for s in rep.skipped] + list(rep.warnings)
        problems += empty_split_lines(rep)
        if problems:
            warn = QLabel("<b>Warnings</b><br>" + "<br>".join(f"⚠ {p}" for p in problems), wordWrap=True)
            warn.setStyleSheet("color:#ffb74d")
            v.addWidget(warn)
        self.images = {}
        self._pixmaps = {}
        for p in plots:
            label = QLabel()
            self._pixmaps[p.stem] = QPixmap(str(p))
            label.setToolTip(str(p))
            label.setAlignment(Qt.AlignmentFlag.AlignLeft)
            self.images[p.stem] = label
            v.addWidget(label)
        v.addWidget(QLabel(f"plots: {plots[0].parent}" if plots else "", wordWrap=True, styleSheet="color:#9aa0a6"))
        v.addStretch(1)
        self.setWidget(body)
        self._fit_images()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_images()

    def _fit_images(self) -> None:
        # Plots narrower than the panel keep their size; wider ones shrink to fit (no sideways scrolling).
        width = max(200, self.viewport().width() - 24)
        for name, label in self.images.items():
            pix = self._pixmaps[name]
            label.setPixmap(pix if pix.width() <= width else pix.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation))

    def cell(self, cls: str, split: str) -> str:
        """The class table's text for ``cls`` in ``split`` (tests and accessibility)."""
        rep = self.report
        assert rep is not None and self.class_table is not None
        return self.class_table.item(rep.classes.index(cls), 1 + rep.split_names.index(split)).text()


__all__ = ["CountsTable", "ReportPanel", "class_rows", "count_preview", "load_report"]
