"""The Training tab: train a model on a dataset file, watch it learn, export and quantize it.

Every job is the command a user would type, run as a subprocess (`ProcessRunner`) so PyTorch
and onnxruntime never load into the studio (and cannot stall the live view or crash it):

- **Train** runs ``sensorlab train DATASET --task T --config GUI.toml --out RUN --json``; its
  JSON lines drive the progress bar and the live loss/accuracy curves (`TrainingCurves`,
  ``curves.py``), the rest goes to the log.
- **Cancel** stops it (SIGINT, then a kill after a grace period). A run folder is written only
  at the end of training, so a cancelled run leaves none: the command removes a half-written
  one, and the tab checks and removes it too if the process had to be killed.
- **Export ONNX** / **Quantize int8** run ``sensorlab export RUN --format onnx --json`` and
  ``sensorlab quantize RUN/model.onnx DATASET --json`` the same way; the results panel then shows
  the quantization report.
- **Prune** (on a finished run) runs ``sensorlab prune RUN --sparsity S --json``: the curves show
  the fine-tuning epochs, and the results panel then shows the new, smaller run.
- **Export TFLite int8** / **TFLite fp32** / **C array (TFLite Micro)** run ``sensorlab export RUN
  --format tflite [--int8] --json`` and ``sensorlab export-c RUN/model.int8.tflite --name N --json``
  with the TFLite environment's interpreter (``sensorlab.training.tflite_env``: the converter
  lives in its own venv); with none found they say so and name the fix (``make tflite-env``).
- **Use in live view** is `model_ready(path)` (an ONNX file with its contract), re-emitted from
  the results panel for the studio's live inference to connect to.

What a job's JSON events and its end do to the tab is its mixin `TrainingJobEnd` (``job_end.py``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import tomli_w
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sensorlab.app.common.process_runner import ProcessRunner, append_log
from sensorlab.app.training.curves import TrainingCurves
from sensorlab.app.training.job_end import JOB_LABELS, TrainingJobEnd
from sensorlab.app.training.results import TrainingResults
from sensorlab.training.metrics import epoch_summary
from sensorlab.training.tflite_env import c_name, child_environment, export_c_args, find_tflite_python, tflite_export_args

TASK_OF_KIND = {"audio": "audio", "timeseries": "timeseries", "video": "image", "frames": "image"}


def guess_task(dataset: Path) -> str | None:
    """The task suiting a dataset's first stream (audio → audio, IMU → timeseries, camera → image)."""
    from sensorlab.datasets.dataset import Dataset

    try:
        with Dataset.open(dataset) as ds:
            kinds = [s.get("kind") for s in ds.streams.values()]
    except Exception:
        return None
    return next((TASK_OF_KIND[k] for k in kinds if k in TASK_OF_KIND), None)


def next_run_dir(dataset: Path, task: str) -> Path:
    """``runs/DATASET-TASK`` beside the dataset, numbered if taken (named as ``sensorlab train`` names them)."""
    from sensorlab.training.train import default_run_dir  # light: train.py imports PyTorch inside its functions only

    return default_run_dir(dataset, task, dataset.parent / "runs")


class TrainingTab(TrainingJobEnd, QWidget):
    """Signals: ``model_ready(path)`` (Use in live view), ``run_finished(status, run)``."""

    model_ready = Signal(str)
    run_finished = Signal(str, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.history: list[dict] = []
        self.run_dir: Path | None = None
        self._job = ""
        self._run_existed = False
        self._config_dir: str | None = None
        self._previous: tuple[Path, list[dict]] | None = None  # the run on screen before a Train
        # Settings of an opened run that the form has no field for (weight decay, mel bands…):
        # a Train after Open run… repeats that run, not the defaults (`config_doc`).
        self._opened_config: dict = {}
        self.runner = ProcessRunner(self)
        self.runner.event.connect(self._on_event)
        self.runner.log.connect(self._log)
        self.runner.finished.connect(self._on_finished)

        form_box = QGroupBox("Train")
        f = QFormLayout(form_box)
        row = QHBoxLayout()
        self.dataset = QLineEdit(placeholderText="dataset file (.h5) from the Datasets tab")
        self.dataset.editingFinished.connect(lambda: self.set_dataset(self.dataset.text()))
        row.addWidget(self.dataset, 1)
        row.addWidget(QPushButton("…", maximumWidth=30, clicked=self._ask_dataset))
        f.addRow("Dataset", row)
        self.task = QComboBox()
        self.task.addItems(["timeseries", "audio", "image"])
        self.task.setToolTip("timeseries: 1-D CNN (IMU, biosignals); audio: log-mel + DS-CNN; image: tiny CNN on frames")
        self.task.currentTextChanged.connect(lambda _t: self._suggest_run_dir())
        f.addRow("Task", self.task)
        self.epochs = QSpinBox(minimum=1, maximum=10_000, value=40)
        self.batch_size = QSpinBox(minimum=2, maximum=4096, value=64)
        self.lr = QDoubleSpinBox(minimum=1e-5, maximum=1.0, decimals=5, singleStep=0.001, value=0.003)
        self.patience = QSpinBox(minimum=1, maximum=1000, value=8)
        self.patience.setToolTip("Stop after this many epochs without a better validation loss (the best epoch is kept)")
        self.width = QSpinBox(minimum=0, maximum=512, value=0, specialValueText="default")
        self.width.setToolTip("Channels of the first layer (default per task: audio 64, timeseries 16, image 8)")
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        for label, w in (("Epochs", self.epochs), ("Batch size", self.batch_size), ("Learning rate", self.lr),
                         ("Patience", self.patience), ("Width", self.width), ("Seed", self.seed)):  # fmt: skip
            f.addRow(label, w)
        self.run_edit = QLineEdit()
        self.run_edit.setToolTip("Run folder to write (must not exist, or be empty)")
        f.addRow("Run folder", self.run_edit)
        row = QHBoxLayout()
        self.train_button = QPushButton("Train", clicked=lambda: self.start_training())
        self.train_button.setStyleSheet("QPushButton{font-weight:bold;padding:4px 18px}")
        self.cancel_button = QPushButton("Cancel", enabled=False, clicked=self.runner.cancel)
        self.open_button = QPushButton("Open run…", clicked=self._ask_run)
        self.open_button.setToolTip("Show an earlier run folder's curves and results, to export, quantize or use it")
        row.addWidget(self.train_button)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(self.open_button)
        f.addRow(row)
        self.progress = QProgressBar(textVisible=True)
        self.progress.setFormat("not trained yet")  # "epoch %v / %m" while training
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        f.addRow(self.progress)
        self.status = QLabel("", wordWrap=True)
        f.addRow(self.status)

        self.plots = TrainingCurves()
        self.loss_plot, self.acc_plot, self.curves = self.plots.loss_plot, self.plots.acc_plot, self.plots.curves
        self.log_view = QPlainTextEdit(readOnly=True, maximumBlockCount=5000)
        self.results = TrainingResults()
        self.results.export_requested.connect(self.export_onnx)
        self.results.quantize_requested.connect(self.quantize)
        self.results.prune_requested.connect(self.prune)
        self.results.tflite.export_requested.connect(self.export_tflite)
        self.results.tflite.export_c_requested.connect(self.export_c)
        self.results.model_ready.connect(self.model_ready)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(4, 4, 4, 4)
        lv.addWidget(form_box)
        lv.addWidget(QLabel("Log"))
        lv.addWidget(self.log_view, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.plots)
        right.addWidget(self.results)
        right.setSizes([300, 400])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        # The log column as wide as an epoch line (the plots take the rest and any extra
        # width): at 1280 px it was a few pixels short and every line wrapped mid-number.
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([max(380, self._epoch_line_width() + lv.contentsMargins().left() + lv.contentsMargins().right()), 800])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    def _epoch_line_width(self) -> int:
        """Width of the log view that shows a two-digit epoch line unwrapped, scroll bar included."""
        v = self.log_view
        line = epoch_summary({"epoch": 40, "epochs": 40, "train_loss": 1.0, "train_acc": 1.0, "val_loss": 1.0, "val_acc": 1.0})
        text = v.fontMetrics().horizontalAdvance(line) + 2 * int(v.document().documentMargin()) + 2  # + the cursor's pixel
        return text + 2 * v.frameWidth() + v.verticalScrollBar().sizeHint().width()

    # -- inputs ------------------------------------------------------------------------------
    def set_dataset(self, path: str | Path) -> None:
        """Choose the dataset; the task is guessed from its stream and a fresh run folder proposed."""
        text = str(path).strip()
        if text != self.dataset.text().strip():
            self._opened_config = {}  # an opened run's extra settings (its stream…) were for its dataset
        self.dataset.setText(text)
        if not text:
            return
        task = guess_task(Path(text).expanduser())
        if task:
            self.task.setCurrentText(task)
        self._suggest_run_dir()

    def config_doc(self) -> dict:
        """The settings the form sets, as ``train.toml`` keys; the rest are those of the run opened
        last (Open run…) on this dataset, else the defaults."""
        doc = dict(self._opened_config)
        doc |= {"batch_size": self.batch_size.value(), "lr": self.lr.value(), "patience": self.patience.value()}
        if self.width.value():
            doc["width"] = self.width.value()
        return doc

    # -- jobs --------------------------------------------------------------------------------
    def start_training(self) -> bool:
        """Start ``sensorlab train``; False (with the reason shown) if it cannot start."""
        if self.runner.running:
            return False
        dataset = Path(self.dataset.text()).expanduser()
        if not dataset.is_file():
            self.status.setText(f"⚠ no dataset file {dataset}: build one in the Datasets tab, or pick one with …")
            return False
        # The proposed folder was taken by the previous Train: propose the next free one (a
        # second Train was refused with "exists and is not empty"). A typed folder is kept.
        self._suggest_run_dir()
        run = Path(self.run_edit.text()).expanduser() if self.run_edit.text().strip() else next_run_dir(dataset, self.task.currentText())
        if run.exists() and any(run.iterdir()):
            self.status.setText(f"⚠ {run} exists and is not empty: choose another run folder")
            return False
        self._config_dir = tempfile.mkdtemp(prefix="sensorlab-train-")
        config = Path(self._config_dir) / "train.toml"
        config.write_text(tomli_w.dumps(self.config_doc()), encoding="utf-8")
        self._remember_shown()
        self.run_dir, self._run_existed = run, run.exists()
        self.history = []
        self.plots.show_history(self.history)
        self.results.clear()
        self.log_view.clear()
        self.progress.setFormat("epoch %v / %m")
        self.progress.setRange(0, self.epochs.value())
        self.progress.setValue(0)
        self.status.setText("starting (loading PyTorch)…")
        self._start("train", "train", str(dataset), "--task", self.task.currentText(), "--config", str(config), "--epochs",
                    str(self.epochs.value()), "--seed", str(self.seed.value()), "--out", str(run), "--json")  # fmt: skip
        return True

    def open_run(self, run: str | Path) -> bool:
        """Show a finished run folder (curves, results, builds) as if it had just trained here."""
        if self.runner.running:
            self.status.setText(f"⚠ {self._job or 'a job'} is running: wait for it or press Cancel, then open the run")
            return False
        run = Path(run).expanduser()
        metrics = run / "metrics.json"
        try:
            history = json.loads(metrics.read_text(encoding="utf-8")).get("history", [])
            self.results.show_run(run)
        except (OSError, ValueError, KeyError) as e:
            why = "no metrics.json" if not metrics.exists() else f"metrics.json unreadable: {e}"
            self.status.setText(f"⚠ {run} is not a finished training run ({why}): pick a folder that Train wrote")
            return False
        self.run_dir, self._run_existed = run, True
        self.history = list(history)
        self.plots.show_history(self.history)
        self.progress.setFormat("epoch %v / %m")
        self.progress.setRange(0, max(1, len(self.history)))
        self.progress.setValue(len(self.history))
        self._restore_form(self.results.metrics)
        self.status.setText(f"opened {run}: its dataset and settings are in the form; Train repeats it into a new run folder")
        return True

    def _restore_form(self, m: dict) -> None:
        """The form as it was for the run whose ``metrics.json`` is ``m`` (dataset, task, every
        setting), with a fresh run folder proposed: Train then repeats or varies that run."""
        cfg = dict(m.get("config") or {})
        if m.get("dataset_path"):
            self.dataset.setText(str(m["dataset_path"]))
        if cfg.get("task"):
            self.task.setCurrentText(cfg["task"])
        fields = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "patience": self.patience,
                  "width": self.width, "seed": self.seed}  # fmt: skip
        for key, box in fields.items():
            if isinstance(cfg.get(key), (int, float)):
                box.setValue(cfg[key])
        if "width" in cfg and cfg["width"] is None:
            self.width.setValue(0)  # "default"
        # task, epochs and seed are command-line options of the train command; None is a default.
        self._opened_config = {k: v for k, v in cfg.items() if k not in fields and k != "task" and v is not None}
        self.run_edit.setModified(False)
        self._suggest_run_dir()

    def export_onnx(self, run: str) -> None:
        self.status.setText("exporting ONNX and checking it against PyTorch…")
        self._start("export", "export", run, "--format", "onnx", "--json")

    def quantize(self, onnx: str) -> None:
        dataset = self.results.metrics.get("dataset_path") or self.dataset.text()
        self.status.setText("quantizing: calibrating on train windows, timing fp32 and int8…")
        self._start("quantize", "quantize", onnx, str(dataset), "--json")

    def export_tflite(self, run: str, int8: bool = True) -> bool:
        """``sensorlab export RUN --format tflite [--int8]`` in the TFLite environment; False (and
        what to install) if there is none."""
        what = "int8" if int8 else "fp32"
        if not self._tflite_ready(f"TFLite {what} export"):
            return False
        self.status.setText(f"exporting TFLite {what} (loading the converter takes ~20 s), then checking it against PyTorch…")
        self._start("tflite", *tflite_export_args(run, int8), python=str(self._tflite.python), environ=child_environment())
        return True

    def export_c(self, tflite: str) -> bool:
        """``sensorlab export-c MODEL.tflite --name RUN_model`` (C array for TFLite Micro) in the TFLite environment."""
        if not self._tflite_ready("C array export"):
            return False
        self.status.setText("writing the C array and measuring the TFLite Micro tensor arena…")
        self._start("export-c", *export_c_args(tflite, c_name(Path(tflite).parent)), python=str(self._tflite.python), environ=child_environment())
        return True

    def _tflite_ready(self, what: str) -> bool:
        """Whether a TFLite environment was found (kept in ``_tflite``); if not, the tab says so and names the fix."""
        if self.runner.running:
            return False
        self._tflite = find_tflite_python(project=self.results.tflite_project)
        if self._tflite.found:
            return True
        self.status.setText(f"⚠ {what}: {self._tflite.problem}")
        self.results.tflite.set_failure(f"{what} cannot start: no TFLite environment")  # the panel then says why and the fix
        self.results.tabs.setCurrentWidget(self.results.tflite.view)
        return False

    def prune(self, run: str, sparsity: float) -> None:
        """Prune a finished run and fine-tune it; the new run is shown when it is written."""
        self._remember_shown()
        self.history = []
        self.plots.show_history(self.history)
        self.status.setText(f"pruning {Path(run).name}: removing {sparsity:.0%} of the filters, then fine-tuning…")
        self._start("prune", "prune", run, "--sparsity", f"{sparsity:g}", "--json")

    def _start(self, job: str, *args: str, python: str | None = None, environ: dict[str, str] | None = None) -> None:
        self._job = job
        self.train_button.setEnabled(False)
        self.open_button.setEnabled(False)  # Open run… while a job runs did nothing at all
        self.cancel_button.setEnabled(True)
        self.results.set_busy(True)
        if job != "train":
            self.progress.setFormat(JOB_LABELS.get(job, job))
            self.progress.setRange(0, 0)  # one step: busy until it ends
        self.runner.start(*args, python=python, environ=environ)

    # -- small things ------------------------------------------------------------------------
    def _suggest_run_dir(self) -> None:
        text = self.dataset.text().strip()
        if text and not self.run_edit.isModified():
            self.run_edit.setText(str(next_run_dir(Path(text).expanduser(), self.task.currentText())))

    def _ask_dataset(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Dataset to train on", self.dataset.text(), "Dataset (*.h5)")
        if path:
            self.set_dataset(path)

    def _ask_run(self) -> None:
        start = str(self.run_dir or Path(self.dataset.text()).expanduser().parent)
        path = QFileDialog.getExistingDirectory(self, "Training run folder", start)
        if path:
            self.open_run(path)

    def _log(self, line: str) -> None:
        append_log(self.log_view, line)

    def shutdown(self) -> None:
        """Cancel a running job and wait for it (the window is closing)."""
        if self.runner.running:
            self.runner.cancel()
            self.runner.wait(15_000)


__all__ = ["TrainingTab", "guess_task", "next_run_dir"]
