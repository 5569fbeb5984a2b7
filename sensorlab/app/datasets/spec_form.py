"""`SpecForm`: the streams, labels, window and split of a dataset spec as a form.

The form edits the same keys as a spec TOML file (docs/DATASETS.md) and nothing else:
`to_dict` gives the tables ``streams``, ``labels``, ``window`` and ``split`` as the TOML
would hold them, `set_dict` fills the form from them (e.g. a loaded, validated spec), so
save → load → save gives the same file. Which sessions to use is chosen beside the form (the
Datasets tab adds the ``sessions`` table).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sensorlab.datasets.spec import DEFAULT_MIN_COVERAGE

RULES = ["majority", "centre", "any_overlap", "end"]
SPLITS = ("train", "val", "test")
METHODS = {"holdout": "holdout (fractions)", "kfold": "k-fold", "leave_one_out": "leave one group out (LOSO)"}


def _spin(lo: float, hi: float, value: float, step: float, decimals: int = 3, suffix: str = "") -> QDoubleSpinBox:
    s = QDoubleSpinBox(minimum=lo, maximum=hi, singleStep=step, decimals=decimals, suffix=suffix)
    s.setValue(value)
    return s


def _combo(items: list[str], editable: bool = False) -> QComboBox:
    c = QComboBox(editable=editable)
    c.addItems(items)
    return c


def _split_csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


class SpecForm(QWidget):
    """The spec's streams, labels, window and split. Emits ``changed`` on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        box = QGroupBox("Streams (every window holds each of them, cut at the same time)")
        v = QVBoxLayout(box)
        self.streams = QTableWidget(0, 3)
        self.streams.setHorizontalHeaderLabels(["stream", "channels (empty: all)", "rate Hz (empty: own)"])
        header = self.streams.horizontalHeader()
        # The hints' columns as wide as their texts, the stream name's taking the rest: three equal
        # columns cut "channels (empty: all)" to "hannels (empty: all" once a row was selected
        # (a selected row's column titles are drawn bold, so wider), or in a narrower window.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.streams.verticalHeader().hide()
        self.streams.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.streams.setMaximumHeight(110)
        self.streams.itemChanged.connect(lambda _item: self.changed.emit())
        v.addWidget(self.streams)
        row = QHBoxLayout()
        # A choice, not a text box: a typed name ("camerai") only fails later, at preview or build.
        self.stream_choice = _combo([])
        self.stream_choice.setToolTip("Streams found in the chosen sessions (tick sessions to list theirs)")
        self.add_stream_button = QPushButton("Add", clicked=lambda: self.add_stream(self.stream_choice.currentText()))
        self.remove_stream_button = QPushButton("Remove", clicked=self._remove_stream)
        row.addWidget(self.stream_choice, 1)
        row.addWidget(self.add_stream_button)
        row.addWidget(self.remove_stream_button)
        v.addLayout(row)
        layout.addWidget(box)

        box = QGroupBox("Labels")
        f = QFormLayout(box)
        self.tier = _combo([], editable=True)
        self.tier.setToolTip("The annotation tier whose segments label the windows")
        self.rule = _combo(RULES)
        self.rule.setToolTip("majority: most time in the window; centre: label at the centre;\n"
                             "any_overlap: any overlap counts; end: label at the window's end (streaming detection)")  # fmt: skip
        self.min_coverage = _spin(0, 1, DEFAULT_MIN_COVERAGE, 0.05, 2)
        self.min_coverage.setToolTip("The label must cover at least this fraction of the window "
                                     f"(default {DEFAULT_MIN_COVERAGE:g}, as in a spec file; point labels are exempt)")
        self.unlabeled = _combo(["drop", "background"])
        self.unlabeled.setToolTip("What windows without a label become: left out, or a background class")
        self.background_label = QLineEdit("background")
        self.background_max_ratio = _spin(0, 1000, 1.0, 0.5, 2)
        self.background_max_ratio.setToolTip("At most this many background windows per labeled one, per session")
        self.include = QLineEdit(placeholderText="all labels")
        self.include.setToolTip("Only these labels (comma-separated); the others count as unlabeled")
        f.addRow("Tier", self.tier)
        f.addRow("Label rule", self.rule)
        f.addRow("Min coverage", self.min_coverage)
        f.addRow("Unlabeled time", self.unlabeled)
        f.addRow("Background label", self.background_label)
        f.addRow("Background cap", self.background_max_ratio)
        f.addRow("Only labels", self.include)
        layout.addWidget(box)

        box = QGroupBox("Windows")
        f = QFormLayout(box)
        self.length = _spin(0.001, 3600, 1.0, 0.1, 3, " s")
        self.hop = _spin(0.001, 3600, 0.5, 0.1, 3, " s")
        self.gaps = _combo(["drop", "fill"])
        self.gaps.setToolTip("A window over a gap in the samples: left out, or interpolated and flagged")
        f.addRow("Length", self.length)
        f.addRow("Hop", self.hop)
        f.addRow("Gaps", self.gaps)
        layout.addWidget(box)

        box = QGroupBox("Split (a group is never on two sides)")
        f = QFormLayout(box)
        self.split_by = _combo(["session", "subject"], editable=True)
        self.split_by.setToolTip("Sessions with the same value of this tag form one group (session: each on its own)")
        self.method = QComboBox()
        for key, text in METHODS.items():
            self.method.addItem(text, key)
        self.fractions = {name: _spin(0, 1, x, 0.05, 2) for name, x in zip(SPLITS, (0.7, 0.15, 0.15))}
        frac_row = QHBoxLayout()
        for name, spin in self.fractions.items():
            spin.setPrefix(f"{name} ")
            frac_row.addWidget(spin)
        self.k = QSpinBox(minimum=2, maximum=100, value=5)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self.stratify = QCheckBox("stratify (spread rare classes over the sides)", checked=True)
        f.addRow("Split by", self.split_by)
        f.addRow("Method", self.method)
        f.addRow("Fractions", frac_row)
        f.addRow("Folds (k)", self.k)
        f.addRow("Seed", self.seed)
        f.addRow("", self.stratify)
        layout.addWidget(box)
        layout.addStretch(1)

        for w in (self.tier, self.split_by):
            w.currentTextChanged.connect(self.changed)
        for w in (self.rule, self.unlabeled, self.gaps, self.method):
            w.currentIndexChanged.connect(self.changed)
        for w in (self.min_coverage, self.background_max_ratio, self.length, self.hop, self.k, self.seed, *self.fractions.values()):
            w.valueChanged.connect(self.changed)
        for w in (self.background_label, self.include):
            w.textChanged.connect(self.changed)
        self.stratify.toggled.connect(self.changed)
        self.unlabeled.currentIndexChanged.connect(self._enable)
        self.method.currentIndexChanged.connect(self._enable)
        self._enable()

    # -- choices offered by the chosen sessions ---------------------------------------------
    def set_known(self, streams: list[str], tiers: list[str], tag_keys: list[str]) -> None:
        """Offer these stream names, tiers and split keys (the text typed stays as it is)."""
        for combo, items in ((self.stream_choice, streams), (self.tier, tiers), (self.split_by, ["session", *tag_keys])):
            text = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(list(dict.fromkeys(items)))
            combo.setCurrentText(text or (items[0] if items else ""))
            combo.blockSignals(False)

    def add_stream(self, name: str, channels: list[str] | None = None, rate: float | None = None) -> None:
        name = name.strip()
        if not name or name in self.stream_names():
            return
        self.streams.blockSignals(True)
        r = self.streams.rowCount()
        self.streams.insertRow(r)
        for c, text in enumerate((name, ", ".join(channels or []), f"{rate:g}" if rate else "")):
            self.streams.setItem(r, c, QTableWidgetItem(text))
        self.streams.blockSignals(False)
        self.changed.emit()

    def stream_names(self) -> list[str]:
        return [self._cell(r, 0) for r in range(self.streams.rowCount())]

    # -- the spec tables ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The form as spec tables (``streams``, ``labels``, ``window``, ``split``), TOML-ready."""
        streams = []
        for r in range(self.streams.rowCount()):
            s: dict[str, Any] = {"name": self._cell(r, 0)}
            if channels := _split_csv(self._cell(r, 1)):
                s["channels"] = channels
            if rate := self._cell(r, 2):
                try:
                    s["rate"] = float(rate)
                except ValueError:
                    s["rate"] = rate  # validation names the key and the bad value
            streams.append(s)
        labels: dict[str, Any] = {"tier": self.tier.currentText().strip(), "rule": self.rule.currentText(),
                                  "min_coverage": self.min_coverage.value(), "unlabeled": self.unlabeled.currentText()}  # fmt: skip
        if self.unlabeled.currentText() == "background":
            labels["background_label"] = self.background_label.text().strip()
            labels["background_max_ratio"] = self.background_max_ratio.value()
        if include := _split_csv(self.include.text()):
            labels["include"] = include
        method = self.method.currentData()
        split: dict[str, Any] = {"by": self.split_by.currentText().strip() or "session", "method": method, "seed": self.seed.value(),
                                 "stratify": self.stratify.isChecked()}  # fmt: skip
        if method == "holdout":
            # A side set to 0 is kept, empty: without a "test" split the Training tab refused the
            # file ("no split 'test' to test on… set test_split in the config", no such field
            # here); an empty one trains and says "no test metrics".
            split["fractions"] = {n: s.value() for n, s in self.fractions.items()}
        elif method == "kfold":
            split["k"] = self.k.value()
        return {"streams": streams, "labels": labels, "window": {"length": self.length.value(), "hop": self.hop.value(),
                                                                "gaps": self.gaps.currentText()}, "split": split}  # fmt: skip

    def set_dict(self, doc: dict[str, Any]) -> None:
        """Fill the form from spec tables (a validated spec's ``model_dump()`` or parsed TOML).

        Raises ValueError for what the form cannot show (split names other than train/val/test).
        """
        split = doc.get("split", {})
        unknown = sorted(set(split.get("fractions", {})) - set(SPLITS))
        if unknown:
            raise ValueError(f"split.fractions: the form edits train/val/test only, not {', '.join(unknown)} (edit the TOML file instead)")
        self.blockSignals(True)
        try:
            self.streams.setRowCount(0)
            for s in doc.get("streams", []):
                self.add_stream(s["name"], s.get("channels"), s.get("rate"))
            lab = doc.get("labels", {})
            self.tier.setCurrentText(lab.get("tier", ""))
            self.rule.setCurrentText(lab.get("rule", "majority"))
            self.min_coverage.setValue(float(lab.get("min_coverage", DEFAULT_MIN_COVERAGE)))
            self.unlabeled.setCurrentText(lab.get("unlabeled", "drop"))
            self.background_label.setText(lab.get("background_label", "background"))
            self.background_max_ratio.setValue(float(lab.get("background_max_ratio", 1.0)))
            self.include.setText(", ".join(lab.get("include") or []))
            win = doc.get("window", {})
            self.length.setValue(float(win.get("length", 1.0)))
            self.hop.setValue(float(win.get("hop", 0.5)))
            self.gaps.setCurrentText(win.get("gaps", "drop"))
            self.split_by.setCurrentText(split.get("by", "session"))
            self.method.setCurrentIndex(max(0, self.method.findData(split.get("method", "holdout"))))
            fr = split.get("fractions", {"train": 0.7, "val": 0.15, "test": 0.15})
            for name, spin in self.fractions.items():
                spin.setValue(float(fr.get(name, 0.0)))
            self.k.setValue(int(split.get("k", 5)))
            self.seed.setValue(int(split.get("seed", 0)))
            self.stratify.setChecked(bool(split.get("stratify", True)))
        finally:
            self.blockSignals(False)
        self._enable()
        self.changed.emit()

    # -- internals ---------------------------------------------------------------------------
    def _cell(self, r: int, c: int) -> str:
        item = self.streams.item(r, c)
        return item.text().strip() if item is not None else ""

    def _remove_stream(self) -> None:
        rows = sorted({i.row() for i in self.streams.selectedIndexes()}, reverse=True) or [self.streams.rowCount() - 1]
        for r in rows:
            if r >= 0:
                self.streams.removeRow(r)
        self.changed.emit()

    def _enable(self) -> None:
        bg = self.unlabeled.currentText() == "background"
        self.background_label.setEnabled(bg)
        self.background_max_ratio.setEnabled(bg)
        method = self.method.currentData()
        for spin in self.fractions.values():
            spin.setEnabled(method == "holdout")
        self.k.setEnabled(method == "kfold")
        self.stratify.setEnabled(method != "leave_one_out")


__all__ = ["SpecForm"]
