"""`FramePreview`: the frame of a video or frames stream at the labeling cursor (the side column).

It reads the stream's frame times on its first `show_at`, which the labeling view calls after
the timeline's first paint (a 10-hour camera stream has a million frame times: 0.1–0.2 s), and
decodes a frame only when the cursor moves onto another one (scrolling never decodes).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from sensorlab.acquisition.source import StreamKind
from sensorlab.session.reader import StreamReader


class FramePreview(QWidget):
    """The frame of a video or frames stream at the cursor."""

    def __init__(self, stream: StreamReader, origin: float, parent=None):
        super().__init__(parent)
        self.stream = stream
        self.origin = origin
        self.is_video = stream.info.kind is StreamKind.VIDEO
        self._times: np.ndarray | None = None  # read on the first `show_at` (after the first paint)
        self.frame_index = -1
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(f"<b>{stream.name}</b>")
        lay.addWidget(self.title)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view = self.graphics.addViewBox(lockAspect=True, invertY=self.is_video, enableMenu=False)
        self.view.setMouseEnabled(False, False)
        self.image = pg.ImageItem(axisOrder="row-major")
        if not self.is_video:
            self.image.setColorMap(pg.colormap.get("viridis"))
        self.view.addItem(self.image)
        lay.addWidget(self.graphics, 1)

    @property
    def times(self) -> np.ndarray:
        """One timestamp per frame (8 MB for 10 hours at 30 fps; 0.1–0.2 s to decode, so not
        before the timeline's first paint)."""
        if self._times is None:
            self._times = self.stream.timestamps
        return self._times

    def show_at(self, t: float) -> None:
        """Show the newest frame at or before host time ``t``."""
        i = int(np.searchsorted(self.times, t, "right")) - 1
        i = min(max(i, 0), len(self.times) - 1)
        if i == self.frame_index or len(self.times) == 0:
            return
        self.frame_index = i
        frame = np.asarray(self.stream.read_index(i, i + 1).data[0])
        if self.is_video:
            if frame.ndim == 3 and frame.shape[2] >= 3:
                frame = frame[..., 2::-1]  # BGR → RGB
            self.image.setImage(np.ascontiguousarray(frame), autoLevels=False, levels=(0, 255))
        else:
            img = frame.reshape(frame.shape[0], -1) if frame.ndim > 1 else frame[None, :]
            self.image.setImage(img, autoLevels=True)
        self.title.setText(f"<b>{self.stream.name}</b> <span style='color:#9aa0a6'>frame {i} · "
                           f"{self.times[i] - self.origin:.3f} s</span>")


__all__ = ["FramePreview"]
