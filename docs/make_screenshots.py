"""Regenerate docs/images/studio.png: the real studio window on the demo rig, under Xvfb.

Run: ``python docs/make_screenshots.py`` (or ``make screenshots``). It starts a private X
server with ``xvfb-run``, opens the window on the demo rig with throw-away settings, records
a few seconds (so the health view shows the writer) while dropping a few live labels, and
takes an X screenshot of the root window with ImageMagick's ``import`` (the real xcb window,
not an offscreen render). Needs: xvfb, xauth, imagemagick, and the libxcb packages of the
Makefile.
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
OUT = HERE / "images" / "studio.png"
SIZE = (1400, 900)


def child(out: Path, seconds: float) -> int:
    """Inside Xvfb: show the window, record, label, screenshot, quit."""
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from sensorlab.app.common import theme
    from sensorlab.app.main import demo_rig_and_sources
    from sensorlab.app.studio.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix="sensorlab-shot-"))
    app = QApplication([])
    theme.apply(app)
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("session/folder", str(tmp / "sessions"))
    settings.setValue("session/name", "s01-clap-test")
    settings.setValue("session/tag_subject", "s01")
    settings.setValue("session/tag_location", "bench")
    rig_text, sources = demo_rig_and_sources()
    w = MainWindow(sources, rig_text=rig_text, settings=settings)
    w.setGeometry(0, 0, *SIZE)
    w.show()
    rc = [1]

    def label(key: int, hold_ms: int = 0) -> None:
        w.label_bar.press_hotkey(key)
        QTimer.singleShot(hold_ms, lambda: w.label_bar.release_hotkey(key))

    def shoot() -> None:
        proc = subprocess.run(["import", "-window", "root", "-crop", f"{SIZE[0]}x{SIZE[1]}+0+0", str(out)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
        rc[0] = proc.returncode
        w.stop_recording()
        QTimer.singleShot(1500, w.close)
        QTimer.singleShot(1600, app.quit)

    def started() -> None:
        QTimer.singleShot(int(seconds * 300), lambda: label(1))
        QTimer.singleShot(int(seconds * 500), lambda: label(2, 900))
        QTimer.singleShot(int(seconds * 1000), shoot)

    w.acquisition_ready.connect(lambda: QTimer.singleShot(500, w.start_recording))
    w.recording_started.connect(lambda _p: started())
    QTimer.singleShot(int(60_000 + seconds * 1000), app.quit)  # never hang
    app.exec()
    shutil.rmtree(tmp, ignore_errors=True)
    return rc[0]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--seconds", type=float, default=6.0, help="seconds of live data before the shot")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args.out, args.seconds)
    for tool in ("xvfb-run", "import"):
        if shutil.which(tool) is None:
            print(f"make_screenshots: `{tool}` not found; install xvfb, xauth and imagemagick", file=sys.stderr)
            return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "xcb"
    cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {SIZE[0]}x{SIZE[1]}x24 -nolisten tcp",
           sys.executable, __file__, "--child", "--out", str(args.out), "--seconds", str(args.seconds)]
    rc = subprocess.run(cmd, env=env).returncode
    if rc == 0 and args.out.exists():
        print(f"wrote {args.out}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
