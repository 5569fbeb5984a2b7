"""Instructions per steady labeling-sweep frame, counted by callgrind: a figure the machine's
load cannot blur (issue 14 §5).

The labeling view opens a session (offscreen, the size `bench_labeling.py` uses), runs the
benchmark's sweep once uncollected (one-off work: tick texts, pyramid levels read), then the
same sweep again with each frame (``set_view`` + a repaint) called through ``operator.call``;
callgrind collects inside that C function only (``--toggle-collect=_operator_call``).

Run with the code to count first on ``PYTHONPATH`` (the script adds no path itself, so one
copy counts any tree)::

    PYTHONPATH=<tree> python bench/callgrind_sweep.py --session <1 h session> [--frames 60]

(~5–10 minutes under valgrind; the session's pyramid cache must exist: run bench_labeling.py
with ``--keep-cache`` once.)
"""

from __future__ import annotations

import argparse
import operator
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

SIZE = (1400, 900)  # bench_labeling.py's window


def _views(t0: float, t1: float, zoom_frames: int, pan_frames: int) -> list[tuple[float, float]]:
    """bench_labeling.py's sweep: zoom in and out around the middle, then 1-min pans."""
    span, c = t1 - t0, 0.5 * (t0 + t1)
    spans = [max(span * 0.8**i, 0.05) for i in range(zoom_frames // 2)]
    views = [(c - s / 2, c + s / 2) for s in spans + spans[::-1]]
    step = (span - 60.0) / max(1, pan_frames - 1)
    return views + [(t0 + i * step, t0 + i * step + 60.0) for i in range(pan_frames)]


def child(path: str, zoom: int, pans: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from sensorlab.app.common import theme
    from sensorlab.app.labeling.view import LabelingView

    app = QApplication([])
    theme.apply(app)
    v = LabelingView(path, play_audio=False)
    v.resize(*SIZE)
    v.show()
    for _ in range(50):
        app.processEvents()
    tl = v.timeline
    views = _views(tl.t_begin, tl.t_end, zoom, pans)

    def frame(a: float, b: float) -> None:
        tl.set_view(a, b)
        tl.viewport().repaint()

    for a, b in views:  # the first sweep: one-off work, not collected
        frame(a, b)
    for a, b in views:
        operator.call(frame, a, b)
    print(f"frames {len(views)}", flush=True)
    v.close_session()
    v.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--session", required=True)
    ap.add_argument("--zoom-frames", type=int, default=60)
    ap.add_argument("--pan-frames", type=int, default=120)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a.session, a.zoom_frames, a.pan_frames)
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=_operator_call", f"--callgrind-out-file={out}",
               sys.executable, __file__, "--child", "--session", a.session, "--zoom-frames", str(a.zoom_frames), "--pan-frames", str(a.pan_frames)]  # fmt: skip
        run = subprocess.run(cmd, capture_output=True, text=True)
        found = re.search(r"frames (\d+)", run.stdout)
        if found is None:
            sys.exit(f"the sweep under valgrind failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
        frames = int(found.group(1))
        ann = subprocess.run(["callgrind_annotate", "--inclusive=no", str(out)], capture_output=True, text=True).stdout
        total = int(re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", ann).group(1).replace(",", ""))
        print(f"{total / frames / 1e6:.2f} M instructions a steady sweep frame ({frames} frames)")
        for line in ann.splitlines():
            m = re.match(r"\s*([\d,]+) \(\s*([\d.]+)%\)\s+(\S.*)", line)
            if m and float(m.group(2)) >= 2.0 and "PROGRAM TOTALS" not in line:
                print(f"  {int(m.group(1).replace(',', '')) / frames / 1e6:6.2f} M  {m.group(2):>5}%  {m.group(3)[:110]}")


if __name__ == "__main__":
    main()
