"""`EmulatedCamera`: renders `World.video_frame` at a fixed frame rate.

Each frame shows the world at the moment it is "grabbed" and is stamped with that host
time, as `CameraSource` stamps a real grab, so a World clap's bright frame carries a
timestamp within one frame period after the clap.

Examples
--------
>>> with EmulatedCamera(fps=30) as cam:                        # doctest: +SKIP
...     cam.start(lambda stream, chunk: ...)
"""

from __future__ import annotations

import numpy as np

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.emulated.world import World, shared_world
from sensorlab.acquisition.polling import PollingSource
from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind


class EmulatedCamera(PollingSource):
    """A virtual camera filming the World.

    Parameters
    ----------
    world
        The scene (default `shared_world()`).
    width, height, fps, name
        Frame format, rate and stream name.
    """

    def __init__(self, world: World | None = None, width: int = 640, height: int = 480, fps: float = 30.0,
                 name: str = "camera"):  # fmt: skip
        super().__init__("emulated camera")
        self.world = world or shared_world()
        self.width, self.height, self.fps, self.name = width, height, fps, name
        self._t0, self._k = 0.0, 0

    def _open(self) -> None:
        self.streams = (StreamInfo(self.name, StreamKind.VIDEO, float(self.fps), channel_names=("b", "g", "r"),
                                   dtype="uint8", sample_shape=(self.height, self.width, 3),
                                   device=f"emulated camera {self.width}x{self.height} @ {self.fps:g} fps"),)  # fmt: skip

    def _start(self) -> None:
        self._t0, self._k = now(), 0
        super()._start()

    def read_once(self) -> bool | None:
        """Wait for the next frame time, render, stamp, emit (device thread)."""
        due = self._t0 + self._k / self.fps
        if not self._sleep_until(due):
            return None
        t = now()
        behind = int((t - due) * self.fps)
        if behind:  # a late thread skips frames, like a camera's full queue
            self.stats[self.name].dropped += behind
        self._k += 1 + behind
        frame = self.world.video_frame(t, self.width, self.height)
        self._emit(self.name, Chunk(frame[None], np.array([t]), arrival_times=np.array([t])), t)
        return None
