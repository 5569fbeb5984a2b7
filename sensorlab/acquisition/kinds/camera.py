"""The ``[[camera]]`` device kind: an OpenCV camera index, video file or stream URL."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from sensorlab.acquisition.kinds.base import DeviceConfig, DeviceKind, EditorField, Found, TextEntry, index_or_text, optional_float, optional_int


class CameraConfig(DeviceConfig):
    name: str = "camera"
    device: int | str = 0
    width: int | None = Field(default=None, gt=0, le=16384)
    height: int | None = Field(default=None, gt=0, le=16384)
    fps: float | None = Field(default=None, gt=0, le=1000)
    loop: bool = True  # loop a video file at its end
    # Grab and decode in a device process of its own ("process"), in the recording process
    # ("thread"), or choose ("auto": the process on Linux/macOS), where the studio's GIL and
    # load cannot delay the grab or its timestamp (acquisition/device_process.py).
    reader: Literal["auto", "thread", "process"] = "auto"


@dataclass(frozen=True)
class CameraDevice:
    index: int
    width: int
    height: int
    fps: float


def list_cameras(indices: range = range(4), timeout: float = 2.0) -> list[CameraDevice]:
    """Cameras OpenCV can open among ``indices``; each probe runs with a deadline.

    On Linux an index without ``/dev/videoN`` is skipped without asking OpenCV.
    """
    found: list[CameraDevice] = []
    for i in indices:
        if sys.platform.startswith("linux") and not os.path.exists(f"/dev/video{i}"):
            continue
        result: list[CameraDevice] = []
        # A wedged driver can block VideoCapture for a long time: probe in a daemon thread.
        t = threading.Thread(target=_probe_camera, args=(i, result), daemon=True)
        t.start()
        t.join(timeout)
        found += result
    return found


def _probe_camera(i: int, out: list[CameraDevice]) -> None:
    import cv2

    cap = cv2.VideoCapture(i)
    try:
        if cap.isOpened():
            out.append(CameraDevice(i, int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                                    float(cap.get(cv2.CAP_PROP_FPS))))  # fmt: skip
    finally:
        cap.release()


class CameraKind(DeviceKind):
    table = "camera"
    config = CameraConfig
    title = "Cameras"
    hint = "[[camera]] device = INDEX"
    order = 10
    editor = (
        EditorField("device", index_or_text),
        EditorField("width", optional_int),
        EditorField("height", optional_int),
        EditorField("fps", optional_float),
    )
    text_entry = TextEntry("rtsp://…, clip.mp4", rank=1)

    def list_devices(self) -> list[Found]:
        return [
            Found(f"{c.index}: {c.width}x{c.height} @ {c.fps:g} fps", f"camera {c.index}: {c.width}×{c.height} @ {c.fps:g} fps",
                  CameraConfig(name=f"camera{c.index}", device=c.index), c)  # fmt: skip
            for c in list_cameras()
        ]

    def notes(self, found: list[Found], configs: list[CameraConfig] | None = None) -> list[str]:
        # Only a rig asking for a camera index (or no rig, or a rig without a camera) needs it.
        if found or configs and not any(str(c.device).isdigit() for c in configs):
            return []
        return ["no camera found at index 0-3; a video file or a stream URL (ESP32-CAM) also works"]

    def build(self, config: CameraConfig):
        from sensorlab.acquisition.device_process import ProcessSource, wants_device_process

        kwargs = {"device": config.device, "width": config.width, "height": config.height, "fps": config.fps,
                  "loop": config.loop, "name": config.name}  # fmt: skip
        if wants_device_process(config.reader):
            return ProcessSource("sensorlab.acquisition.camera:CameraSource", kwargs, f"camera {config.device}")
        from sensorlab.acquisition.camera import CameraSource

        return CameraSource(**kwargs)

    def from_text(self, text: str) -> CameraConfig:
        return CameraConfig(name="camera", device=index_or_text(text))

    def describe(self, config: CameraConfig) -> str:
        size = f" · {config.width}×{config.height}" if config.width else ""
        return f"camera · {config.name} · {config.device}{size}"


KIND = CameraKind()
