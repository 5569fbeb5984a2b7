"""`CameraSource`: OpenCV capture from a camera index, a video file or a URL.

Each frame is stamped with the host clock as soon as ``grab()`` returns, before decoding.
A live camera or URL buffers frames from the moment it is opened; those were filmed before
the recording started and would all come back at once, stamped within a millisecond of each
other. So the first read drains them (`CameraSource._grab_first_live`): grabs that return at once
are dropped, and stamping starts with the first frame the grab had to wait for.
A video file is paced to its frame rate (OpenCV would deliver it as fast as it decodes) and
looped; a URL is typically an ESP32-CAM or `mjpeg_server` stream
(``http://host:port/stream.mjpg``).

Threads: `CameraSource.read_once` runs on the source's own device thread (`PollingSource`).

Examples
--------
>>> with CameraSource("clip.avi", fps=30, loop=True) as cam:      # doctest: +SKIP
...     cam.start(lambda stream, chunk: print(chunk.data.shape, chunk.timestamps))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.polling import PollingSource
from sensorlab.acquisition.source import IRREGULAR, Chunk, SourceError, StreamInfo, StreamKind


class CameraSource(PollingSource):
    """Frames from ``cv2.VideoCapture``.

    Parameters
    ----------
    device
        Camera index, path of a video file, or a URL OpenCV's FFmpeg backend can read.
    width, height, fps
        Requested format. A camera may ignore it (the stream reports what it delivers); a
        file is paced to ``fps`` (default: its own rate).
    loop
        Restart a video file at its end; otherwise the stream stops there.
    name
        Stream name.
    max_failures
        Consecutive failed grabs after which a live camera/URL counts as lost.
    timeout
        Seconds OpenCV waits to open a URL or for its next frame.
    """

    def __init__(self, device: int | str = 0, width: int | None = None, height: int | None = None,
                 fps: float | None = None, loop: bool = True, name: str = "camera", max_failures: int = 5,
                 timeout: float = 2.0):  # fmt: skip
        super().__init__(f"camera {device}")
        self.device = int(device) if isinstance(device, str) and device.isdigit() else device
        self.width, self.height, self.fps, self.loop, self.name = width, height, fps, loop, name
        self.max_failures, self.timeout = max_failures, timeout
        self.is_file = isinstance(self.device, str) and Path(self.device).is_file()
        self._cap = None
        self._shape: tuple[int, int, int] = (0, 0, 3)
        self._t0 = 0.0
        self._k = 0
        self._failures = 0
        self._drained = False

    def _open(self) -> None:
        import cv2

        cv2.setNumThreads(1)  # decoding threads would fight the GUI and HDF5 writer for 2 cores
        if isinstance(self.device, str) and "://" not in self.device and not self.is_file:
            raise SourceError(f"no such video file: {self.device} (give a camera index, an existing file or a stream URL)")
        if isinstance(self.device, int):
            cap = cv2.VideoCapture(self.device)
        else:
            ms = int(self.timeout * 1000)
            cap = cv2.VideoCapture(self.device, cv2.CAP_FFMPEG,
                                   [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])  # fmt: skip
        if not cap.isOpened():  # OpenCV reports a missing camera only like this, never raising
            if self.is_file:
                raise SourceError(f"video file {self.device} could not be decoded: is it a video OpenCV/FFmpeg can read?")
            what = "stream" if isinstance(self.device, str) else "camera"
            raise SourceError(f"{what} {self.device} could not be opened: is it connected / used by another app? "
                              "try `sensorlab devices`")  # fmt: skip
        if not self.is_file:
            if self.width and self.height:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            if self.fps:
                cap.set(cv2.CAP_PROP_FPS, self.fps)
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if w <= 0 or h <= 0:  # some streams only know their size after the first frame
            ok, frame = cap.read()
            if not ok:
                cap.release()
                raise SourceError(f"camera {self.device} opened but sent no frame within {self.timeout:g} s")
            h, w = frame.shape[:2]
        reported = cap.get(cv2.CAP_PROP_FPS)
        is_url = isinstance(self.device, str) and not self.is_file
        # FFmpeg reports a made-up 25 fps for MJPEG over HTTP: a URL is irregular unless told.
        rate = self.fps or (reported if 0 < reported <= 1000 and not is_url else IRREGULAR)
        if self.is_file and not rate:
            rate = 30.0
        self._pace = 1.0 / rate if self.is_file else 0.0
        self._cap, self._shape = cap, (h, w, 3)
        self.streams = (StreamInfo(self.name, StreamKind.VIDEO, float(rate), channel_names=("b", "g", "r"),
                                   dtype="uint8", sample_shape=self._shape, device=f"camera {self.device}"),)  # fmt: skip

    def _start(self) -> None:
        self._t0, self._k, self._failures, self._drained = now(), 0, 0, False
        super()._start()

    #: A grab that returns faster than this handed over a frame already buffered (a backlog).
    BACKLOG_GRAB_S = 0.003
    #: Longest the backlog is drained (a camera faster than ~300 fps never makes a grab wait).
    MAX_DRAIN_S = 1.0

    def _grab_first_live(self) -> tuple[bool, float]:
        """Grab the first live frame, dropping those buffered before it (device thread).

        Stamped when read, a backlog would be squeezed together at the recording's start (18
        frames of a 30 fps stream within 20 ms), so it is not stored: grabbing goes on while
        each grab returns at once; the first grab that had to wait for the camera is kept.
        Returns the grab's result and its stamp, like a plain grab.
        """
        cap, deadline = self._cap, now() + self.MAX_DRAIN_S
        while True:
            asked = now()
            ok = cap.grab()
            t = now()
            if not ok or t - asked >= self.BACKLOG_GRAB_S or t >= deadline or not self.running:
                return ok, t

    def read_once(self) -> bool | None:
        """Grab, stamp, decode and emit one frame (device thread)."""
        if self._pace:
            due = self._t0 + self._k * self._pace
            if now() - due > 1.0:  # fell far behind (suspend, debugger): re-anchor, don't burst
                self._t0, self._k, due = now(), 0, now()
            if not self._sleep_until(due):
                return None
        cap = self._cap
        if not self._drained and not self.is_file:
            self._drained = True
            ok, t = self._grab_first_live()
        else:
            ok = cap.grab()
            t = now()
        if ok:
            ok, frame = cap.retrieve()
        if not ok:
            return self._on_failed_grab()
        self._failures = 0
        self._k += 1
        if frame.shape != self._shape:  # a stream that changed resolution mid-way
            import cv2

            frame = cv2.resize(frame, (self._shape[1], self._shape[0]))
        self._emit(self.name, Chunk(frame[None], np.array([t]), arrival_times=np.array([t])), t)
        return None

    def _on_failed_grab(self) -> bool | None:
        if self.is_file:
            if not self.loop:
                return False
            import cv2

            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self._failures += 1
            if self._failures > 2:
                raise SourceError(f"video file {self.device} cannot be read any more")
            return None
        self._failures += 1
        if self._failures >= self.max_failures:
            raise SourceError(f"camera {self.device} stopped delivering frames ({self._failures} failed reads): "
                              "unplugged, or the stream's server went away? try `sensorlab devices`")  # fmt: skip
        self._sleep_until(now() + 0.05)
        return None

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
