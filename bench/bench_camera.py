"""Frame rate a `CameraSource` delivers from a video file and from an MJPEG-over-HTTP URL.

Run: ``python bench/bench_camera.py [seconds]`` (or via ``bench/run_all.py``). A 30 fps MJPG
clip is played by `CameraSource` (paced to the file's frame rate: OpenCV alone would decode it
as fast as it can) and served by `mjpeg_server` in another process at 30 fps. Reported: frames
per second over the run (baseline: the clip's own rate) and how late frames were stamped
against the file's frame clock. The tests only assert what holds on any machine (no frame
ahead of its time, every frame in order); these figures depend on the machine's load.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

from sensorlab.acquisition.camera import CameraSource
from sensorlab.acquisition.clock import now

FPS = 30.0


def _clip(path: Path, frames: int = 60) -> Path:
    import cv2

    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (320, 240))
    for i in range(frames):
        w.write(np.full((240, 320, 3), (i * 4) % 256, np.uint8))
    w.release()
    return path


def _record(cam: CameraSource, seconds: float) -> tuple[float, np.ndarray]:
    stamps: list[float] = []
    with cam:
        started = now()
        cam.start(lambda s, c: stamps.append(float(c.timestamps[0])))
        threading.Event().wait(seconds)
        cam.stop()
    return started, np.array(stamps)


def run(seconds: float = 5.0) -> list[dict]:
    from sensorlab.acquisition.emulated.mjpeg_server import start_process

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clip = _clip(Path(tmp) / "clip.avi")
        started, ts = _record(CameraSource(str(clip), loop=True), seconds)
        fps = (len(ts) - 1) / (ts[-1] - ts[0])
        late = (ts - (started + np.arange(len(ts)) / FPS)) * 1e3
        rows.append({"benchmark": "camera: video file paced to its frame rate (fps)", "value": fps, "baseline": FPS,
                     "ratio": fps / FPS, "goal": "ratio 0.95-1.05"})  # fmt: skip
        rows.append({"benchmark": "camera: video file, frame stamped after its due time (ms)",
                     "value": f"median {np.median(late):.1f}, max {late.max():.1f}, min {late.min():.1f}", "baseline": "",
                     "ratio": "", "goal": "min >= 0 (never early)"})  # fmt: skip
        proc, url = start_process(clip, fps=FPS)
        try:
            _, ts = _record(CameraSource(url), seconds)
        finally:
            proc.kill()
            proc.wait(5)
            proc.stdout.close()
        fps = (len(ts) - 1) / (ts[-1] - ts[0])
        rows.append({"benchmark": "camera: MJPEG-over-HTTP URL served at 30 fps (fps)", "value": fps, "baseline": FPS,
                     "ratio": fps / FPS, "goal": "ratio 0.95-1.05"})  # fmt: skip
    return rows


if __name__ == "__main__":
    for row in run(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0):
        print(row)
