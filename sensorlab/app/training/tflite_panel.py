"""`TflitePanel`: the TFLite row of the Training tab's results — buttons and what they produced.

**Export TFLite int8** / **TFLite fp32** ask for ``sensorlab export RUN --format tflite [--int8]``
(`export_requested(run, int8)`), **C array (TFLite Micro)** for ``sensorlab export-c
RUN/model.int8.tflite`` (`export_c_requested(tflite)``); the Training tab runs them with the
TFLite environment's interpreter (`sensorlab.training.tflite_env`). ``view`` (a tab of the
results) lists the run's TFLite files with their sizes and the self-check figures the commands
reported (`add_report`; else read back from the report beside each file, ``model.int8.tflite.check.json``
and ``NAME.export-c.json``), the environment
used, and the last failure with the command's own message. **Open folder** opens the run folder.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextBrowser, QWidget

from sensorlab.training.tflite_env import FP32_FILE, INT8_FILE, TfliteEnvironment
from sensorlab.training.tflite_report import read_export_report


def _size(path: Path) -> str:
    n = path.stat().st_size
    return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n} B"


def export_check(r: dict) -> str:
    """The self-check of ``sensorlab export --format tflite [--int8] --json``, in one line."""
    if r.get("int8"):
        q = r.get("input_quantization") or {}
        return (f"argmax agrees with PyTorch on {r['argmax_agreement']:.1%} of {r['windows']} test windows "
                f"(max |logit diff| {r['max_abs_diff']:.2g}); int8 input scale {q.get('scale', 0):.4g}, zero point {q.get('zero_point')}")  # fmt: skip
    return f"matches PyTorch on {r['windows']} test windows (max |diff| {r['max_abs_diff']:.2g}, tolerance {r['tolerance']})"


def c_check(r: dict) -> str:
    a = r["tflm_vs_litert"]
    return (f"TFLM tensor arena {r['arena_bytes_measured']:,} B measured (ARENA_SIZE {r['arena_size_define']:,}); "
            f"TFLM vs LiteRT on {a['windows']} windows: argmax {a['argmax_agreement']:.1%}, identical outputs {a['identical_outputs']:.1%}")  # fmt: skip


class TflitePanel(QWidget):
    """The button row (this widget) and ``view`` (a QTextBrowser for the results' tabs).

    Signals: ``export_requested(run, int8)``, ``export_c_requested(tflite)``."""

    export_requested = Signal(str, bool)
    export_c_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.run: Path | None = None
        self.environment: TfliteEnvironment | None = None
        self.reports: dict[str, dict] = {}  # file written → its --json report (this session)
        self.failure = ""
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.int8_button = QPushButton("Export TFLite int8", enabled=False, clicked=lambda: self._export(True))
        self.fp32_button = QPushButton("TFLite fp32", enabled=False, clicked=lambda: self._export(False))
        self.c_button = QPushButton("C array (TFLite Micro)", enabled=False, clicked=self._export_c)
        self.folder_button = QPushButton("Open folder", enabled=False, clicked=self.open_folder)
        self.folder_button.setToolTip("Open the run folder (the model files, C array, model card) in the file manager")
        self.env_label = QLabel()
        for w in (self.int8_button, self.fp32_button, self.c_button, self.folder_button, self.env_label):
            row.addWidget(w)
        row.addStretch(1)
        self.view = QTextBrowser()

    # -- state ---------------------------------------------------------------------------------
    def show_run(self, run: Path | None, environment: TfliteEnvironment, busy: bool) -> None:
        """Buttons and view for ``run`` (None: nothing to export) with the environment found."""
        if run != self.run:
            self.reports, self.failure = {}, ""
        self.run, self.environment = run, environment
        has_run = run is not None and (run / "model.pt").exists()
        int8 = run is not None and (run / INT8_FILE).exists()
        self.int8_button.setEnabled(has_run and not busy)
        self.fp32_button.setEnabled(has_run and not busy)
        self.c_button.setEnabled(int8 and not busy)
        self.folder_button.setEnabled(run is not None and run.is_dir())
        if environment.found:
            self.env_label.setText(f"<span style='color:#9aa0a6'>with {html.escape(environment.source)}</span>")
            self.env_label.setToolTip(f"TFLite commands run with {environment.python}")
            how = f"runs with {environment.python}"
            self.int8_button.setToolTip(f"sensorlab export RUN --format tflite --int8: full-integer model for microcontrollers, checked against PyTorch ({how})")
            self.fp32_button.setToolTip(f"sensorlab export RUN --format tflite: float model, checked against PyTorch ({how})")
        else:
            # Say it on the row itself: a disabled button or an obscure failure explained nothing.
            self.env_label.setText("<span style='color:#e8a33d'>⚠ TFLite needs <b>make tflite-env</b></span>")
            self.env_label.setToolTip(environment.problem)
            for b in (self.int8_button, self.fp32_button):
                b.setToolTip("⚠ " + environment.problem)
        self.c_button.setToolTip(("sensorlab export-c RUN/model.int8.tflite: C array + contract constants + measured tensor arena for TFLite Micro"
                                  if int8 else "Export TFLite int8 first: the C array is made from model.int8.tflite"))  # fmt: skip
        self.render()

    def add_report(self, report: dict) -> None:
        """A ``--json`` report of ``export --format tflite`` (has ``file``) or ``export-c`` (has ``header``)."""
        self.reports[str(report.get("file") or report.get("header"))] = report
        self.failure = ""

    def set_failure(self, message: str) -> None:
        self.failure = message
        self.render()

    def open_folder(self) -> bool:
        return self.run is not None and QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.run)))

    # -- drawing -------------------------------------------------------------------------------
    def rows(self) -> list[tuple[str, str, str]]:
        """(file, size, check) for each TFLite file of the run, the C export's files included."""
        if self.run is None:
            return []
        out = []
        for name in (INT8_FILE, FP32_FILE):
            f = self.run / name
            if f.exists():
                r = self.reports.get(str(f)) or read_export_report(f)  # this session's, else the one beside the file
                out.append((name, _size(f), export_check(r) if r else "exported earlier, without a self-check report (export again)"))
        for meta in sorted(self.run.glob("*.export-c.json")):
            try:
                saved = json.loads(meta.read_text(encoding="utf-8"))
                r = self.reports.get(saved["header"], saved)
                h, c = Path(r["header"]), Path(r["source"])
                out.append((f"{h.name} + {c.name}", f"{_size(h)} + {_size(c)}", f"{r['model_bytes']:,}-byte model; " + c_check(r)))
            except (OSError, ValueError, KeyError):
                continue
        return out

    def render(self) -> None:
        parts = []
        if self.failure:
            parts.append(f"<p style='color:#e8a33d'><b>⚠ {html.escape(self.failure)}</b></p>")
        env = self.environment
        if env is not None and not env.found:
            parts.append(f"<p><b>No TFLite environment.</b> {html.escape(env.problem[:1].upper() + env.problem[1:])}.</p>")
        elif env is not None:
            parts.append(f"<p style='color:#9aa0a6'>TFLite commands run with {html.escape(str(env.python))} ({html.escape(env.source)})</p>")
        rows = self.rows()
        if rows:
            cells = "".join(f"<tr><td><b>{html.escape(f)}</b></td><td align='right'>{s}</td><td>{html.escape(c)}</td></tr>" for f, s, c in rows)
            parts.append(f"<table cellpadding='4'><tr><th align='left'>file</th><th>size</th><th align='left'>check</th></tr>{cells}</table>"
                         f"<p style='color:#9aa0a6'>in {html.escape(str(self.run))}</p>")  # fmt: skip
        elif self.run is not None:
            parts.append("<p>No TFLite build yet: <b>Export TFLite int8</b> (for a microcontroller, then <b>C array (TFLite Micro)</b>) "
                         "or <b>TFLite fp32</b>.</p>")  # fmt: skip
        self.view.setHtml("".join(parts))

    # -- actions -------------------------------------------------------------------------------
    def _export(self, int8: bool) -> None:
        if self.run is not None:
            self.export_requested.emit(str(self.run), int8)

    def _export_c(self) -> None:
        if self.run is not None:
            self.export_c_requested.emit(str(self.run / INT8_FILE))


__all__ = ["TflitePanel", "c_check", "export_check"]
