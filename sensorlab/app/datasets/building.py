"""Building from the Datasets tab: Build, Cancel, and the report of the built (or an opened)
dataset file (`DatasetBuilding`, a mixin of `DatasetsTab`).

Build writes the spec beside the output (``NAME.spec.toml``, so the build can be repeated with
the command line) and runs ``sensorlab dataset build SPEC -o NAME.h5 --json`` as a subprocess
(`ProcessRunner`): the studio stays responsive and keeps recording while it runs, its JSON
lines drive the progress bar, and Cancel stops it with no file left behind (the command
removes its temporary file; one killed hard cannot, so the tab removes it too). The report is
read from the file on a worker thread, like ``sensorlab dataset info``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox
from shiboken6 import isValid
from superqt.utils import create_worker

from sensorlab.app.datasets.report_panel import load_report
from sensorlab.datasets.report import classes_text
from sensorlab.datasets.spec import SpecError


class DatasetBuilding:
    """Mixin for `DatasetsTab`. Uses the tab's ``runner``, ``output``, ``workers``,
    ``build_button``, ``cancel_button``, ``progress``, ``build_status``, ``log_view``,
    ``spec_error``, ``report``, ``train_button``, ``dataset_built``, ``spec``, ``save_spec`` and
    ``_log``; sets ``dataset_path`` and ``_out`` (the file being built)."""

    def build(self, force: bool | None = None) -> bool:
        """Start building into the output path; False (and the reason shown) if it cannot start.

        ``force=None`` asks before replacing an existing file; tests pass True or False.
        """
        if self.runner.running:
            return False
        try:
            self.spec()
        except SpecError as e:
            self.spec_error.setText(str(e))
            return False
        out = Path(self.output.text()).expanduser()
        if not out.name.endswith(".h5"):
            self.build_status.setText(f"⚠ {out}: the output must be an .h5 file")
            return False
        if out.exists():
            if force is None:
                answer = QMessageBox.question(self, "Replace dataset?", f"{out} exists. Replace it?")
                force = answer == QMessageBox.StandardButton.Yes
            if not force:
                self.build_status.setText(f"{out} exists: choose another output name")
                return False
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            spec_path = self.save_spec(out.with_name(out.stem + ".spec.toml"))
        except OSError as e:
            self.build_status.setText(f"⚠ cannot write beside {out}: {e.strerror or e}")
            return False
        self._out = out
        self.log_view.clear()
        self.progress.setRange(0, 0)  # busy until the first progress line gives the total
        self.build_status.setText(f"planning… (spec saved as {spec_path.name})")
        self.build_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.report.show_building(out.name)
        self.train_button.setEnabled(False)  # until the new file's report is read
        args = ["dataset", "build", str(spec_path), "-o", str(out), "--json", "--workers", str(self.workers.value())]
        self.runner.start(*args, *(["--force"] if force else []))
        return True

    def _on_event(self, ev: dict) -> None:
        if ev.get("event") == "progress":
            self.progress.setFormat("%v / %m sessions")
            self.progress.setRange(0, max(1, ev["total"]))
            self.progress.setValue(ev["done"])
            self.build_status.setText(f"{ev['done']}/{ev['total']} sessions, {ev['windows']} windows" + (f" — last: {ev['session']}" if ev["session"] else ""))
            if ev.get("skipped"):
                self._log(f"skipped {ev['session']}: {ev['skipped']}")
        elif ev.get("event") == "done":
            self.build_status.setText(f"built {ev['path']}: {ev['windows']} windows from {ev['sessions']} session(s); reading the report…")

    def _on_build_finished(self, status: str, message: str) -> None:
        self.build_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, max(1, self.progress.maximum()))
        out = self._out
        if status == "ok":
            self.open_dataset(out)
            self.dataset_built.emit(str(out))
            return
        # The command removes its temporary file on Cancel; one killed hard cannot, so look too.
        tmp = out.with_name(f".{out.name}.{self.runner.pid}.tmp")
        tmp.unlink(missing_ok=True)
        self.report.restore()  # no new file: the report shown before still holds
        self.train_button.setEnabled(self.report.report is not None and self.report.report.windows > 0)
        self.progress.setValue(0)
        self.progress.setFormat("cancelled" if status == "cancelled" else "failed")
        if status == "cancelled":
            self.build_status.setText("Cancelled: no dataset written" + (f" ({out.name} is the earlier build)" if out.exists() else ""))
        else:
            self.build_status.setText(f"⚠ build failed: {message}")

    def open_dataset(self, path: str | Path) -> None:
        """Show a dataset file's report (read on a worker thread)."""
        path = Path(path)
        self.build_status.setText(f"reading the report of {path.name}…")
        worker = create_worker(load_report, path, _start_thread=False)
        # The report can arrive after the tab was closed and deleted (a window closed mid-read):
        # then there is nothing left to show it in.
        worker.returned.connect(lambda res: isValid(self.report) and self._on_report(path, *res))
        worker.errored.connect(lambda e: isValid(self.build_status) and self.build_status.setText(f"⚠ {path.name}: {e}"))
        self._report_worker = worker
        worker.start()

    def _on_report(self, path: Path, rep, plots) -> None:
        self.dataset_path = path
        self.progress.setRange(0, 1)  # "not built yet" would be wrong for a file opened from disk
        self.progress.setValue(1)
        self.progress.setFormat(f"{path.name}: {rep.windows} windows")
        self.report.show_report(rep, plots)
        # Nothing to train on: Train on it → stayed on and training then failed on an empty file,
        # or, with one class, failed after loading PyTorch ("a classifier needs two or more").
        one_class = (f"one class ({', '.join(map(repr, rep.classes))}): a classifier needs two or more; label another "
                     "class, or set Unlabeled time: background, and build again") if rep.windows and len(rep.classes) < 2 else ""  # fmt: skip
        self.train_button.setEnabled(rep.windows > 0 and not one_class)
        self.train_button.setToolTip(one_class or ("" if rep.windows else f"{path.name} has no windows: change the spec (see why above) and build again"))
        if not rep.windows:  # every warning: one of them says why (labels too short for the window…)
            self.build_status.setText(f"⚠ {path}: no windows at all, nothing to train on" + "".join(f"\n⚠ {w}" for w in rep.warnings))
            return
        # A split left with 0 windows is said here too, not only in the report's warnings below
        # (one session, or fewer sessions than splits, leaves val / test empty: said with the fix).
        empty = [w for w in rep.warnings if w.startswith("split") and (" 0 windows" in w or " no windows:" in w)]
        self.build_status.setText(f"{path}: {rep.windows} windows, {classes_text(len(rep.classes))}"
                                  + "".join(f"\n⚠ {w}" for w in ([one_class] if one_class else []) + empty))

    def _ask_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Dataset file", self.output.text(), "Dataset (*.h5)")
        if path:
            self.output.setText(path if path.endswith(".h5") else path + ".h5")
            self.output.setModified(True)

    def _ask_open_dataset(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a dataset", str(Path(self.output.text()).parent), "Dataset (*.h5)")
        if path:
            self.open_dataset(path)

    def shutdown(self) -> None:
        """Cancel a running build and wait for it (the window is closing)."""
        if self.runner.running:
            self.runner.cancel()
            self.runner.wait(15_000)


__all__ = ["DatasetBuilding"]
