"""Regenerate docs/images/labeling.png: the labeling window on a generated session, under Xvfb.

Run: ``python docs/make_labeling_screenshot.py``. It writes a 3-minute synthetic session
(`sensorlab.session.synthetic`) to a temp dir, adds a few annotations on two tiers and two
energy suggestions (through the undo stack, like a user would), starts a private X server
with ``xvfb-run``, opens the real window (xcb, not offscreen), zooms on a minute, selects a
segment, and grabs the root window with ImageMagick's ``import``. Needs: xvfb, xauth,
imagemagick and the libxcb packages of the Makefile.
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
OUT = HERE / "images" / "labeling.png"
SIZE = (1400, 900)


def prepare(folder: Path) -> Path:
    """A session with a label set and some annotations (headless)."""
    from sensorlab.labeling.annotations import Segment
    from sensorlab.labeling.cli_commands import open_session_annotations
    from sensorlab.labeling.commands import AddSegment, UndoStack
    from sensorlab.labeling.labelset import LabelSet
    from sensorlab.labeling.store import autosaver, sidecar_path
    from sensorlab.session.synthetic import T0, write_synthetic_session

    path = write_synthetic_session(folder / "s01-gestures.h5", 180.0, frame_shape=(120, 160))
    LabelSet.from_names(["walk", "wave", "clap", "idle"]).save(folder)
    ann = open_session_annotations(path)
    stack = UndoStack(ann, autosave=autosaver(sidecar_path(path)))
    for tier, label, a, b, sugg in [
        ("activity", "walk", 61.0, 64.9, False), ("activity", "wave", 73.0, 76.8, False),
        ("activity", "idle", 65.2, 72.6, False), ("speaker", "clap", 85.5, 85.5, False),
        ("speaker", "wave", 97.2, 100.9, False),
        ("suggestions", "sound", 85.0, 88.9, True), ("suggestions", "sound", 109.0, 112.9, True),
    ]:
        stack.push(AddSegment(Segment.create(tier, label, T0 + a, T0 + b, suggested=sugg,
                                             source="suggest:energy:mic" if sugg else "")))
    return path


def child(path: Path, out: Path) -> int:
    """Inside Xvfb: open the window, zoom, select, screenshot, quit."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from sensorlab.app.common import theme
    from sensorlab.app.labeling.main import LabelingWindow
    from sensorlab.session.synthetic import T0

    app = QApplication([])
    theme.apply(app)
    w = LabelingWindow(path, play_audio=False)
    w.setGeometry(0, 0, *SIZE)
    w.show()
    rc = [1]

    def arrange() -> None:
        v = w.view
        v.timeline.set_view(T0 + 58.0, T0 + 118.0)
        v.timeline.set_cursor(T0 + 74.2)
        sel = next(s for s in v.annotations if s.label == "wave" and s.tier == "activity")
        v.annotation_view.select(sel.id)  # the position line shows it with the key hints

    def shoot() -> None:
        proc = subprocess.run(["import", "-window", "root", "-crop", f"{SIZE[0]}x{SIZE[1]}+0+0", str(out)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
        rc[0] = proc.returncode
        app.quit()

    def ready() -> None:
        QTimer.singleShot(500, arrange)
        QTimer.singleShot(2500, shoot)

    if w.view.timeline is None:  # first open: the overview cache is built in a worker
        w.view.session_ready.connect(ready)
    else:
        ready()
    QTimer.singleShot(30_000, app.quit)  # never hang
    app.exec()
    w.close()
    return rc[0]


def make_screenshot(out: Path = OUT) -> Path:
    """Generate the session, run the window under Xvfb and save the screenshot to ``out``."""
    tmp = Path(tempfile.mkdtemp(prefix="sensorlab-labshot-"))
    try:
        path = prepare(tmp)
        out.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
        cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {SIZE[0]}x{SIZE[1]}x24", sys.executable, __file__,
               "--child", str(path), "--out", str(out)]
        subprocess.run(cmd, check=True, env=env, timeout=120)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args.child, args.out)
    print(make_screenshot(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
