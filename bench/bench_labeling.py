"""Labeling view on a 1-hour session: time to first paint and scroll/zoom frames per second.

Generates a 1-hour session with `sensorlab.session.synthetic` (camera 30 fps — **tiny
48×64 JPEG frames** to keep generation fast; the view decodes one frame per cursor move, so
frame size does not affect scrolling —, stereo audio 48 kHz float32, 6 channels at 1 kHz,
live labels, predictions every 2 s), builds its min/max pyramid (reported separately: a
one-off cost per session, run in a worker by the GUI), then measures offscreen at 1400×900:

- **first paint**: from constructing `LabelingView` (open the file, annotations, tracks,
  pyramid queries, spectrogram of the whole hour) to the first paint of the timeline;
- **scroll/zoom fps**: a sweep of the whole hour — zoom from the full hour down to 50 ms
  and back (×0.8 per frame), and pan across the hour in 1-minute steps — each frame
  ``set_view`` + synchronous ``repaint``.

Baseline, side by side in the same process: the same streams drawn from raw samples held in
memory with pyqtgraph's own best settings (auto peak downsampling + clip-to-view), i.e. no
pyramid: first paint includes reading the raw samples; fps runs a shorter sweep (it is slow).

Goals (issue 4): first paint ≤ 2 s, ≥ 30 fps.

Run: ``python bench/bench_labeling.py [--seconds 3600] [--session PATH]``; ``run()`` is used
by bench/run_all.py. The Qt part runs in a child process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZE = (1400, 900)


def _sweep(t0: float, t1: float, zoom_frames: int, pan_frames: int) -> list[tuple[float, float]]:
    """View ranges of the benchmark: zoom in and out around the middle, then pan in 1-min windows."""
    views = []
    span, c = t1 - t0, 0.5 * (t0 + t1)
    spans = [span * 0.8**i for i in range(zoom_frames // 2)]
    spans = [max(s, 0.05) for s in spans]
    for s in spans + spans[::-1]:
        views.append((c - s / 2, c + s / 2))
    step = (span - 60.0) / max(1, pan_frames - 1)
    views += [(t0 + i * step, t0 + i * step + 60.0) for i in range(pan_frames)]
    return views


def _child(path: str) -> dict:
    """Child process: measure the labeling view, then the raw-sample baseline."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from sensorlab.app import theme
    from sensorlab.app.labeling_view import LabelingView
    from sensorlab.session.reader import Session

    app = QApplication([])
    theme.apply(app)
    out: dict = {}

    class FirstPaint(QObject):
        t = None

        def eventFilter(self, obj, ev):  # noqa: N802
            if ev.type() == QEvent.Type.Paint and self.t is None:
                self.t = time.perf_counter()
            return False

    # -- the labeling view ----------------------------------------------------------------------
    probe = FirstPaint()
    t_start = time.perf_counter()
    v = LabelingView(path, play_audio=False)
    v.timeline.viewport().installEventFilter(probe)
    v.resize(*SIZE)
    v.show()
    while probe.t is None:
        app.processEvents()
    out["first_paint_s"] = probe.t - t_start
    tl = v.timeline
    views = _sweep(tl.t_begin, tl.t_end, 60, 120)
    pts = []
    t = time.perf_counter()
    for a, b in views:
        tl.set_view(a, b)
        tl.viewport().repaint()
        pts.append(sum(getattr(tr, "points", 0) for tr in tl.tracks))
    out["fps"] = len(views) / (time.perf_counter() - t)
    out["max_points"] = max(pts)
    out["pixels"] = tl.pixels()
    v.close_session()
    v.close()

    # -- baseline: raw samples in memory, pyqtgraph's own downsampling -----------------------
    t_start = time.perf_counter()
    s = Session.open(path)
    w = pg.GraphicsLayoutWidget()
    w.resize(*SIZE)
    plots = []
    origin = s.metadata.start_host_time
    for name in ("imu", "mic"):
        st = s.streams[name]
        c = st.read_index(0, None)
        p = w.addPlot(row=len(plots), col=0)
        p.setClipToView(True)
        p.setDownsampling(auto=True, mode="peak")
        x = c.timestamps - origin
        data = np.asarray(c.data).reshape(len(x), -1)
        for i in range(data.shape[1]):
            p.plot(x, data[:, i], pen=pg.mkPen(theme.ACCENT, width=1), skipFiniteCheck=True)
        if plots:
            p.setXLink(plots[0])
        plots.append(p)
    probe2 = FirstPaint()
    w.viewport().installEventFilter(probe2)
    w.show()
    while probe2.t is None:
        app.processEvents()
    out["baseline_first_paint_s"] = probe2.t - t_start
    views = _sweep(0.0, s.duration, 10, 6)
    t = time.perf_counter()
    for a, b in views:
        plots[0].setXRange(a, b, padding=0)
        w.viewport().repaint()
    out["baseline_fps"] = len(views) / (time.perf_counter() - t)
    w.close()
    s.close()
    return out


def run(seconds: float = 3600.0, session: str | None = None) -> list[dict]:
    """Generate (unless ``session`` is given), build the pyramid, measure; rows for run_all."""
    from sensorlab.session.pyramid import Pyramid, cache_path
    from sensorlab.session.reader import Session
    from sensorlab.session.synthetic import write_synthetic_session

    tmp = None
    if session is None:
        tmp = Path(tempfile.mkdtemp(prefix="sensorlab-bench-labeling-"))
        path = tmp / "hour.h5"
        t = time.perf_counter()
        write_synthetic_session(path, seconds, block_s=30.0)
        gen_s = time.perf_counter() - t
        print(f"   generated {seconds:.0f} s session ({path.stat().st_size / 1e9:.2f} GB) in {gen_s:.0f} s", flush=True)
    else:
        path = Path(session)
    try:
        cache_path(path).unlink(missing_ok=True)
        t = time.perf_counter()
        with Session.open(path) as s:
            Pyramid.open(s).close()
        build_s = time.perf_counter() - t
        cache_mb = cache_path(path).stat().st_size / 1e6
        proc = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True,
                              env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, cwd=ROOT, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        r = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    hours = seconds / 3600
    return [
        {"benchmark": f"labeling: time to first paint, {hours:.3g} h session (pyramid built)",
         "value": f"{r['first_paint_s']:.2f} s", "baseline": f"{r['baseline_first_paint_s']:.1f} s (raw samples)",
         "ratio": r["baseline_first_paint_s"] / r["first_paint_s"], "goal": "<= 2 s"},
        {"benchmark": "labeling: scroll/zoom over the whole range",
         "value": f"{r['fps']:.0f} fps (≤ {r['max_points']:,} vertices/frame, {r['pixels']} px)",
         "baseline": f"{r['baseline_fps']:.1f} fps (raw + pyqtgraph peak downsampling)",
         "ratio": r["fps"] / r["baseline_fps"], "goal": ">= 30 fps"},
        {"benchmark": "labeling: pyramid build (one-off per session, in a worker)",
         "value": f"{build_s:.1f} s, cache {cache_mb:.0f} MB", "baseline": "", "ratio": "", "goal": "(report)"},
    ]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=3600.0)
    p.add_argument("--session", default=None, help="use this session instead of generating one")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return 0
    rows = run(args.seconds, args.session)
    print("| benchmark | measured | baseline (same run) | ratio | goal |\n|---|---|---|---|---|")
    for r in rows:
        ratio = f"{r['ratio']:.1f}" if isinstance(r["ratio"], float) else ""
        print(f"| {r['benchmark']} | {r['value']} | {r['baseline']} | {ratio} | {r['goal']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
