"""What a Training tab job's progress and its end do to the tab (`TrainingJobEnd`, a mixin of
`TrainingTab`): each JSON event of ``sensorlab train|prune|export|quantize|export-c --json`` moves the
curves, progress bar, status and log; the end re-enables the buttons, shows the run that was
written, or, after a cancelled or failed job, the run that was on screen before it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sensorlab.app.training.tflite_panel import c_check, export_check
from sensorlab.training.metrics import epoch_summary, start_notes, test_summary

#: How the progress bar and messages name a job (default: its command's name).
JOB_LABELS = {"tflite": "TFLite export", "export-c": "C array export"}


class TrainingJobEnd:
    """Mixin for `TrainingTab`. Uses the tab's ``status``, ``progress``, ``plots``, ``results``,
    ``train_button``, ``open_button``, ``cancel_button``, ``run_finished`` and ``_log``; reads and
    sets ``_job``, ``history``, ``run_dir``, ``_run_existed``, ``_config_dir`` and ``_previous``."""

    def _on_event(self, ev: dict) -> None:
        kind = ev.get("event")
        if kind == "start":
            self.status.setText(f"{'fine-tuning' if self._job == 'prune' else 'training'} {ev['arch']} ({ev['params']:,} parameters) on {ev['stream']}: "
                                + ", ".join(f"{k} {v}" for k, v in ev["windows"].items()) + " windows"
                                + "".join(f"\n⚠ {note}" for note in start_notes(ev)))  # fmt: skip
            for note in start_notes(ev):
                self._log(f"warning: {note}")
        elif kind == "epoch":
            self.history.append(ev)
            self.plots.show_history(self.history)
            self.progress.setRange(0, ev["epochs"])
            self.progress.setValue(ev["epoch"])
            self._log(epoch_summary(ev))
        elif kind == "early_stop":
            # A full bar, but saying where it stopped: "epoch 40 / 40" after 9 epochs read as 40 run.
            planned = self.progress.maximum()
            self.progress.setRange(0, ev["epoch"])
            self.progress.setValue(ev["epoch"])
            self.progress.setFormat(f"stopped early: epoch {ev['epoch']} of {planned} (best {ev['best_epoch']})")
            watched = "validation" if self.history and self.history[-1].get("val_loss") is not None else "training"
            self._log(f"early stop at epoch {ev['epoch']}: no better {watched} loss since epoch {ev['best_epoch']} (kept)")
        elif kind == "prune":
            self.run_dir = Path(ev["run"])
            self.progress.setFormat("fine-tune epoch %v / %m")
            self._log(f"pruned {ev['sparsity']:.0%} of the filters: {ev['parent_params']:,} → {ev['params']:,} parameters, "
                      f"test accuracy before fine-tuning {ev['accuracy_pruned']:.4f}")  # fmt: skip
        elif kind == "table":
            self._log(ev["text"])
        elif kind == "done":
            self._log(f"{test_summary(ev['test_accuracy'], ev['macro_f1'], ev['test_windows'])}; run folder {ev['run']}")
        elif self._job == "export" and "file" in ev:
            self._log(f"wrote {ev['file']} ({ev['size_bytes'] / 1024:.1f} KiB); matches PyTorch on {ev['windows']} windows "
                      f"(max |diff| {ev['max_abs_diff']:.2g})")  # fmt: skip
        elif self._job in ("tflite", "export-c") and ("file" in ev or "header" in ev):
            self.results.tflite.add_report(ev)
            what = f"{ev['file']} ({ev['size_bytes'] / 1024:.1f} KiB)" if "file" in ev else f"{ev['header']} and {ev['source']}"
            self._log(f"wrote {what}: " + (export_check(ev) if "file" in ev else c_check(ev)))
        elif self._job == "quantize" and "verdicts" in ev:
            for v in ev["verdicts"]:
                self._log(v)

    def _on_finished(self, status: str, message: str) -> None:
        job, self._job = self._job, ""
        self.train_button.setEnabled(True)
        self.open_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.results.set_busy(False)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if status == "ok" else 0)
            self.progress.setFormat(f"{JOB_LABELS.get(job, job)}: {'done' if status == 'ok' else status}")
        if self._config_dir:
            shutil.rmtree(self._config_dir, ignore_errors=True)
            self._config_dir = None
        run = self.run_dir
        if job == "train":
            if status == "ok":
                self.status.setText(f"done: {run}")
                self.results.show_run(run)
                self.results.tabs.setCurrentIndex(0)
            elif status == "cancelled":
                # The command removes a half-written run itself; a killed one cannot.
                removed = run is not None and not self._run_existed and run.exists()
                if removed:
                    shutil.rmtree(run, ignore_errors=True)
                epochs, again = len(self.history), self._show_previous()
                self.status.setText(f"Cancelled after {epochs} epoch(s): nothing saved ({run} not written)"
                                    + (f"; showing {again.name} again" if again else ""))  # fmt: skip
            else:
                again = self._show_previous()
                self.status.setText(f"⚠ training failed: {message}" + (f" (showing {again.name} again)" if again else ""))
            if status != "ok":  # the bar read "epoch 0 / 40" after a failure, as if the run were still starting
                ended = "cancelled" if status == "cancelled" else "failed"
                self.progress.setFormat(f"training {ended} at epoch %v of %m" if self.history else f"training {ended} before the first epoch")
            self.run_finished.emit(status, str(run))
            return
        if status == "ok":
            # What the job made and the next step ("export: done" said neither).
            done = {"prune": f"pruned run written: {run}",
                    "tflite": f"exported TFLite from {run.name}: files and self-check in the TFLite tab"
                              + (" (next: C array for TFLite Micro)" if (run / "model.int8.tflite").exists() else ""),
                    "export-c": f"C array for TFLite Micro written to {run}: sizes and arena in the TFLite tab",
                    "export": f"exported {run.name}/model.onnx: Use in live view, or Quantize int8",
                    "quantize": f"quantized: int8 builds of {run.name} in the build list (compared in the Quantization tab)"}  # fmt: skip
            self.status.setText(done.get(job, f"{job}: done") if run is not None else f"{job}: done")
            if run is not None:
                self.results.show_run(run)
                if job == "quantize":
                    self.results.tabs.setCurrentWidget(self.results.quant)
                elif job in ("tflite", "export-c"):
                    self.results.tabs.setCurrentWidget(self.results.tflite.view)
        else:
            ended = f"{JOB_LABELS.get(job, job)} {'cancelled' if status == 'cancelled' else 'failed: ' + message}"
            self.status.setText(f"⚠ {ended}")
            if job in ("tflite", "export-c"):  # the command's own message, where its results would have been
                self.results.tflite.set_failure(ended)
                self.results.tabs.setCurrentWidget(self.results.tflite.view)
            if job == "prune":  # no pruned run was written: the run on screen, with its curves, again
                self._show_previous()
                self.run_dir = self.results.run

    def _remember_shown(self) -> None:
        """What is on screen (a finished run), shown again if the job now starting is cancelled
        or fails: clearing it for good lost the first run's results, and its Export and Use buttons."""
        self._previous = (self.results.run, list(self.history)) if self.results.run is not None else None

    def _show_previous(self) -> Path | None:
        """After a cancelled or failed Train: the run that was on screen before it, with its
        curves, back in the results (and as what Export, Quantize and Prune act on); None if
        there was none or it is gone."""
        previous, self._previous = self._previous, None
        if previous is None:
            return None
        run, history = previous
        try:
            self.results.show_run(run)
        except (OSError, ValueError, KeyError):
            self.results.clear()
            return None
        self.history = history
        self.plots.show_history(self.history)
        self.progress.setFormat("epoch %v / %m")
        self.progress.setRange(0, max(1, len(history)))
        self.progress.setValue(len(history))
        self.run_dir = run
        return run
