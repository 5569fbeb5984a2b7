"""Regenerate docs/images/labeling.png: the labeling window on a generated session, under Xvfb.

Run: ``python docs/make_labeling_screenshot.py``. It writes a 3-minute synthetic session
(`sensorlab.session.synthetic`) to a temp dir, adds a few annotations on two tiers and two
energy suggestions (through the undo stack, like a user would), starts a private X server
with ``xvfb-run``, opens the real window (xcb, not offscreen), zooms on a minute, selects a
segment, waits until the view is drawn (its spectrogram computed for that minute, however long
a loaded machine takes), and grabs the root window with ImageMagick's ``import``. Needs: xvfb,
xauth, imagemagick and the libxcb packages of the Makefile.
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


#: Seconds the window may take to draw the arranged view (a loaded machine); then it gives up.
DRAW_TIMEOUT_S = 90.0


def arrange(view) -> None:
    """Zoom on a minute, put the cursor on a label and select it (the status line shows it)."""
    from sensorlab.session.synthetic import T0

    view.timeline.set_view(T0 + 58.0, T0 + 118.0)
    view.timeline.set_cursor(T0 + 74.2)
    sel = next(s for s in view.annotations if s.label == "wave" and s.tier == "activity")
    view.annotation_view.select(sel.id)  # the position line shows it with the key hints


def drawn(view, settled: tuple[float, float] | None) -> bool:
    """True once the timeline has settled on the range it shows (``settled``: the last range
    its ``settled`` signal gave) and every spectrogram shows that range: computed on a worker,
    it came seconds after a fixed wait on a loaded machine, and the picture had a blank band."""
    from sensorlab.app.labeling.spectrogram_track import SpectrogramTrack

    tl = view.timeline
    if tl is None or settled is None or settled != tl.view_range:
        return False
    return all(t.current and t.columns > 0 for t in tl.tracks if isinstance(t, SpectrogramTrack))


def when_drawn(view, then, timeout_s: float = DRAW_TIMEOUT_S, arrange_view=arrange) -> None:
    """``arrange_view(view)``, then call ``then(True)`` once it is `drawn` (polled, so a slow
    machine only takes longer), or ``then(False)`` after ``timeout_s``."""
    import time

    from PySide6.QtCore import QTimer

    last: list[tuple[float, float] | None] = [None]
    view.timeline.settled.connect(lambda t0, t1: last.__setitem__(0, (t0, t1)))
    arrange_view(view)
    deadline = time.monotonic() + timeout_s
    poll = QTimer(view, interval=100)

    def check() -> None:
        ok = drawn(view, last[0])
        if ok or time.monotonic() > deadline:
            poll.stop()
            then(ok)

    poll.timeout.connect(check)
    poll.start()


def child(path: Path, out: Path) -> int:
    """Inside Xvfb: open the window, arrange it, wait until it is drawn, screenshot, quit."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from sensorlab.app.common import theme
    from sensorlab.app.labeling.main import LabelingWindow

    app = QApplication([])
    theme.apply(app)
    w = LabelingWindow(path, play_audio=False)
    w.setGeometry(0, 0, *SIZE)
    w.show()
    rc = [1]

    def shoot(ok: bool) -> None:
        if not ok:
            print(f"the labeling window did not finish drawing within {DRAW_TIMEOUT_S:.0f} s "
                  "(spectrogram still computing?): no screenshot written; try again on a less busy machine",
                  file=sys.stderr)
            app.quit()
            return
        QTimer.singleShot(200, grab)  # the image shown is painted by the next frames

    def grab() -> None:
        proc = subprocess.run(["import", "-window", "root", "-crop", f"{SIZE[0]}x{SIZE[1]}+0+0", str(out)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
        rc[0] = proc.returncode
        app.quit()

    def ready() -> None:
        when_drawn(w.view, shoot)

    if w.view.timeline is None:  # first open: the overview cache is built in a worker
        w.view.session_ready.connect(ready)
    else:
        ready()
    QTimer.singleShot(int((DRAW_TIMEOUT_S + 60) * 1000), app.quit)  # never hang
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
        subprocess.run(cmd, check=True, env=env, timeout=DRAW_TIMEOUT_S + 120)
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
