"""`TrainingResults`: what a finished run holds, and the next steps (ONNX, int8, the live view).

Shows the run folder's ``metrics.json`` (test accuracy, per-class precision/recall/F1),
``confusion.png`` and ``MODEL_CARD.md``; after Quantize, ``quantize.md``. Export and Quantize
are asked for with `export_requested` / `quantize_requested`, **Prune** with
`prune_requested(run, sparsity)` (the Training tab runs them as subprocesses); **Use in live
view** emits `model_ready(path)` with the chosen model file, for the studio's live inference
to load. The third row (`TflitePanel`, ``tflite_panel.py``) exports TFLite int8 / fp32 and the
TFLite Micro C array, and its **TFLite** tab shows the files and their self-checks.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from sensorlab.app.datasets.report_panel import _table
from sensorlab.app.training.tflite_panel import TflitePanel
from sensorlab.training.tflite_env import find_tflite_python

#: Model builds a run folder can hold, in the order offered to the live view.
BUILDS = (("model.onnx", "ONNX fp32"), ("model.int8.onnx", "ONNX int8 (static QDQ)"), ("model.dynamic.onnx", "ONNX int8 (dynamic)"))


class TrainingResults(QWidget):
    """Signals: ``export_requested(run)``, ``quantize_requested(onnx)``, ``prune_requested(run, sparsity)``, ``model_ready(path)``."""

    export_requested = Signal(str)
    quantize_requested = Signal(str)
    prune_requested = Signal(str, float)
    model_ready = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.run: Path | None = None
        self.metrics: dict = {}
        self.tflite_project: Path | None = None  # where to look for .venv-tflite (None: this checkout)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel("Train a model to see its test metrics, confusion matrix and model card here.", wordWrap=True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setFixedHeight(self.summary.fontMetrics().lineSpacing() * 3)  # the buttons below stay put
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.summary)
        row = QHBoxLayout()
        self.export_button = QPushButton("Export ONNX", enabled=False, clicked=lambda: self.export_requested.emit(str(self.run)))
        self.export_button.setToolTip("sensorlab export RUN --format onnx: the model with its contract, checked against PyTorch")
        self.quantize_button = QPushButton("Quantize int8", enabled=False, clicked=lambda: self.quantize_requested.emit(str(self.run / "model.onnx")))
        self.quantize_button.setToolTip("sensorlab quantize: static and dynamic int8 builds, size/latency/accuracy vs fp32")
        self.sparsity = QComboBox()
        for v in (0.25, 0.5, 0.75):
            self.sparsity.addItem(f"{v:.0%}", v)
        self.sparsity.setCurrentIndex(1)
        self.sparsity.setToolTip("Fraction of the filters removed from every convolution")
        self.prune_button = QPushButton("Prune", enabled=False, clicked=lambda: self.prune_requested.emit(str(self.run), self.sparsity.currentData()))
        self.prune_button.setToolTip("sensorlab prune: remove the weakest filters, fine-tune, write a new (smaller) run")
        self.model_choice = QComboBox(enabled=False, sizeAdjustPolicy=QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_choice.setToolTip("Which build the live view should run")
        # Empty until a run is exported: say what belongs there (a blank box was a puzzle).
        self.model_choice.setPlaceholderText("no ONNX build yet")
        self.use_button = QPushButton("Use in live view", enabled=False, clicked=self._use)
        self.use_button.setToolTip("Run this model on the live streams (its contract says which stream, window and labels)")
        # Two rows, the builds on the first and the live view on the second: in one row the six
        # controls made the tab at least 885 px wide, and a narrower window cut off the plots.
        for w in (self.export_button, self.quantize_button, self.prune_button, self.sparsity):
            row.addWidget(w)
        row.addStretch(1)
        layout.addLayout(row)
        row = QHBoxLayout()
        for w in (self.model_choice, self.use_button):
            row.addWidget(w)
        row.addStretch(1)
        layout.addLayout(row)
        self.tflite = TflitePanel()  # third row: TFLite int8 / fp32, C array for TFLite Micro
        layout.addWidget(self.tflite)
        self.tabs = QTabWidget()
        self.metrics_view = QScrollArea(widgetResizable=True)
        self.confusion = QLabel(alignment=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        confusion_scroll = QScrollArea(widgetResizable=True)
        confusion_scroll.setWidget(self.confusion)
        self.card = QTextBrowser(openExternalLinks=True)
        self.quant = QTextBrowser()
        self.tabs.addTab(self.metrics_view, "Metrics")
        self.tabs.addTab(confusion_scroll, "Confusion matrix")
        self.tabs.addTab(self.card, "Model card")
        self.tabs.addTab(self.quant, "Quantization")
        self.tabs.addTab(self.tflite.view, "TFLite")
        layout.addWidget(self.tabs, 1)

    def clear(self) -> None:
        self.run = None
        self.metrics = {}
        self.summary.setText("")
        self.confusion.clear()
        self.card.clear()
        self.quant.clear()
        self.metrics_view.setWidget(QWidget())
        self._refresh_buttons()

    def show_run(self, run: str | Path) -> None:
        """Load a run folder's results (metrics, confusion matrix, model card, builds)."""
        self.run = Path(run)
        self.metrics = json.loads((self.run / "metrics.json").read_text(encoding="utf-8"))
        test = self.metrics["test"]
        m = self.metrics
        scores = (f"test accuracy <b>{test['accuracy']:.3f}</b>, macro F1 {test['macro_f1']:.3f} on {test['n']} windows" if test["n"]
                  else "<b>no test metrics</b>: the dataset's test split has no windows")
        self.summary.setText(f"<b>{self.run.name}</b>: {scores}; {m['contract']['model']['params']:,} parameters, best epoch {m['best_epoch']} "
                             f"of {m['epochs_run']}, {m['latency_ms']['p50']:.2f} ms per window (1 thread)<br>"
                             f"<span style='color:#9aa0a6'>{self.run}</span>")  # fmt: skip
        # None: no test windows of that class. With no test windows at all the core still writes 0.0 per
        # class, which read as a model that got everything wrong: show "–" there too.
        num = lambda v: "–" if v is None or not test["n"] else f"{v:.3f}"  # noqa: E731
        rows = [[lab, num(c["precision"]), num(c["recall"]), num(c["f1"]), str(c["support"])] for lab, c in test["per_class"].items()]
        body = QWidget()
        v = QVBoxLayout(body)
        v.addWidget(_table(["class", "precision", "recall", "F1", "support"], rows), 0, Qt.AlignmentFlag.AlignLeft)
        # curves.png holds what the live curves above already show; the file is in the run folder.
        v.addStretch(1)
        self.metrics_view.setWidget(body)
        self.confusion.setPixmap(QPixmap(str(self.run / "confusion.png")))
        card = self.run / "MODEL_CARD.md"
        self.card.setMarkdown(card.read_text(encoding="utf-8") if card.exists() else "")
        self.show_quantization()
        self._refresh_buttons()

    def show_quantization(self) -> None:
        q = self.run / "quantize.md" if self.run else None
        self.quant.setMarkdown(q.read_text(encoding="utf-8") if q and q.exists() else "Not quantized yet: Export ONNX, then Quantize int8.")

    def builds(self) -> list[Path]:
        """Model files of this run the live view can load (exported ONNX builds)."""
        return [self.run / f for f, _ in BUILDS if self.run and (self.run / f).exists()]

    def set_busy(self, busy: bool) -> None:
        """Disable the actions while a job runs."""
        self._busy = busy
        self._refresh_buttons()

    def _refresh_buttons(self) -> None:
        busy = getattr(self, "_busy", False)
        has_run = self.run is not None and (self.run / "model.pt").exists()
        self.export_button.setEnabled(has_run and not busy)
        self.quantize_button.setEnabled(has_run and not busy and (self.run / "model.onnx").exists())
        self.prune_button.setEnabled(has_run and not busy)
        current = self.model_choice.currentData()
        self.model_choice.clear()
        for f, text in BUILDS:
            if self.run is not None and (self.run / f).exists():
                self.model_choice.addItem(text, str(self.run / f))
        # Always pick a build: with a placeholder text set, Qt leaves the index at -1 when items are
        # added, the box kept saying "no ONNX build yet" and Use in live view did nothing.
        if self.model_choice.count():
            self.model_choice.setCurrentIndex(max(0, self.model_choice.findData(current) if current else 0))
        self.model_choice.setEnabled(self.model_choice.count() > 0)
        self.use_button.setEnabled(self.model_choice.count() > 0)
        if has_run and not self.model_choice.count():
            self.use_button.setToolTip("Export ONNX first: the live view runs ONNX models")
        self.tflite.show_run(self.run, find_tflite_python(project=self.tflite_project), busy)

    def _use(self) -> None:
        path = self.model_choice.currentData()
        if path:
            self.model_ready.emit(path)


__all__ = ["BUILDS", "TrainingResults"]
