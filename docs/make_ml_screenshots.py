"""Regenerate docs/images/datasets-tab.png and training-tab.png: the real tabs on a real run, under Xvfb.

Run: ``python docs/make_ml_screenshots.py`` (or ``make screenshots``). It writes a small
labeled corpus of synthetic sessions (six subjects; the IMU's activity bursts labeled
``active``, the quiet time between them ``still``: what the synthetic signal tells apart), then does what a user does: in the Datasets tab picks the IMU stream, the activity
tier, 1 s windows and a split by subject, builds the dataset (the real ``sensorlab dataset
build`` subprocess) and waits for its report; in the Training tab trains on it (the real
``sensorlab train``), exports ONNX and quantizes int8. Each tab is captured with
``QWidget.grab`` once its job has finished. Needs: xvfb and xauth (``xvfb-run``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "images"
SIZE = (1400, 900)


def make_corpus(folder: Path, sessions: int = 6, seconds: float = 90.0) -> Path:
    """Labeled synthetic sessions, one subject each: a 4 s burst every 12 s (`active`), `still` between."""
    from sensorlab.labeling.annotations import AnnotationSet, Segment
    from sensorlab.labeling.store import save_annotations, sidecar_path
    from sensorlab.session.synthetic import T0, write_synthetic_session

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(sessions):
        path = folder / f"s{i + 1:02d}-activities.h5"
        write_synthetic_session(path, seconds, audio_rate=8000, audio_channels=1, imu_rate=100, fps=2.0, frame_shape=(8, 8),
                                predictions=False, tags={"subject": f"s{i + 1:02d}", "location": "lab"})  # fmt: skip
        segs = []
        for k in range(int(seconds // 12)):
            segs.append(Segment(f"a{k}", "activity", "active", T0 + 1 + 12 * k, T0 + 5 + 12 * k))
            segs.append(Segment(f"s{k}", "activity", "still", T0 + 6 + 12 * k, T0 + 12 + 12 * k))
        save_annotations(AnnotationSet(segs), sidecar_path(path), session=path.name)
    return folder


def child(out: Path) -> int:
    """Inside Xvfb: build, train, export, quantize; grab each tab when its job is done."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from sensorlab.app.common import theme
    from sensorlab.app.datasets.tab import DatasetsTab
    from sensorlab.app.training.tab import TrainingTab

    tmp = Path(tempfile.mkdtemp(prefix="sensorlab-mlshot-"))
    app = QApplication([])
    theme.apply(app)
    corpus = make_corpus(tmp / "sessions")
    datasets = DatasetsTab(corpus)
    training = TrainingTab()
    rc = [1]

    def fail(why: str) -> None:
        print(f"make_ml_screenshots: {why}", file=sys.stderr)
        app.quit()

    def shoot(widget, name: str) -> None:
        widget.grab().save(str(out / name))
        print(f"wrote {out / name}")

    # 1. Datasets tab: the form as a user fills it, then Build.
    datasets.resize(*SIZE)
    datasets.show()
    f = datasets.form
    f.add_stream("imu")
    f.tier.setCurrentText("activity")
    f.length.setValue(1.0)
    f.hop.setValue(0.5)
    f.split_by.setCurrentText("subject")
    datasets.output.setText(str(tmp / "datasets" / "activities.h5"))

    def report_shown() -> bool:
        return datasets.report.report is not None and "class_balance" in datasets.report.images

    def after_build(path: str) -> None:
        def wait_report() -> None:
            if not report_shown():
                QTimer.singleShot(200, wait_report)
                return
            QTimer.singleShot(800, lambda: (shoot(datasets, "datasets-tab.png"), start_training(path)))

        wait_report()

    # 2. Training tab: train on the dataset just built, then Export ONNX and Quantize int8.
    def start_training(path: str) -> None:
        datasets.hide()
        training.resize(*SIZE)
        training.show()
        training.set_dataset(path)
        training.epochs.setValue(25)
        training.batch_size.setValue(32)
        training.run_edit.setText(str(tmp / "runs" / "activities"))
        training.run_edit.setModified(True)
        if not training.start_training():
            fail(training.status.text())

    jobs = iter(["export", "quantize"])

    def job_done(status: str, _message: str) -> None:
        if status != "ok":
            fail(f"{training.status.text()}\n{training.log_view.toPlainText()[-2000:]}")
            return
        job = next(jobs, None)
        if job == "export":
            training.results.export_button.click()
        elif job == "quantize":
            training.results.quantize_button.click()
        else:
            QTimer.singleShot(800, lambda: (shoot(training, "training-tab.png"), rc.__setitem__(0, 0), app.quit()))

    datasets.dataset_built.connect(after_build)
    training.runner.finished.connect(job_done)
    QTimer.singleShot(300, lambda: datasets.build(force=True) or fail(datasets.build_status.text()))
    QTimer.singleShot(15 * 60_000, lambda: fail("gave up after 15 minutes"))  # never hang
    app.exec()
    training.shutdown()
    datasets.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)
    return rc[0]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT, help="folder for the two PNGs")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.child:
        return child(args.out)
    if shutil.which("xvfb-run") is None:
        print("make_ml_screenshots: `xvfb-run` not found; install xvfb and xauth", file=sys.stderr)
        return 2
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "xcb"
    cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {SIZE[0]}x{SIZE[1]}x24 -nolisten tcp", sys.executable, __file__, "--child", "--out", str(args.out)]
    return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
