"""`ImagePanel`: the newest sample of a video or frame stream (a camera, a radar map) as an image."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from sensorlab.acquisition.source import StreamKind
from sensorlab.app.live.image_items import PixelImage, rgb32_table
from sensorlab.app.live.panel import Panel
from sensorlab.plotting.raster import rgb32_preview


class ImagePanel(Panel):
    """The newest sample of a video or frame stream as an image, with its age."""

    def __init__(self, info, ring, origin, window, parent=None):
        super().__init__(info, ring, origin, window, parent)
        self.is_video = info.kind is StreamKind.VIDEO
        self.graphics = pg.GraphicsLayoutWidget()
        self.image = PixelImage()
        self.color_bar: pg.ColorBarItem | None = None
        if self.is_video:
            # Video rows run top to bottom; pixels need no axes.
            self.view = self.graphics.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
            self.view.addItem(self.image)
        else:
            # A map (e.g. range × Doppler): bins on both axes (row 0 at the bottom) and a
            # colour scale in the stream's unit.
            self.map_plot = self.graphics.addPlot()
            self.map_plot.setMenuEnabled(False)
            self.map_plot.hideButtons()
            self.map_plot.setLabel("left", "row (bin)")
            self.map_plot.setLabel("bottom", "column (bin)")
            self.view = self.map_plot.getViewBox()
            self.view.addItem(self.image)
            cmap = pg.colormap.get("viridis")
            # Coloured here, through the table pyqtgraph would use (`_colour`): for a map with
            # a colour map, its `ImageItem` built a Qt colour table of 256 entries in Python
            # for every image (~0.2 ms of 0.3 a radar frame). As 0xffRRGGBB pixels.
            self._lut = rgb32_table(cmap)
            unit = info.units[0] if info.units and info.units[0] else "value"
            self.color_bar = pg.ColorBarItem(colorMap=cmap, interactive=False, width=12, label=unit)
            self.graphics.addItem(self.color_bar, row=0, col=1)
        self.stamp = QLabel("waiting for data…")
        self.stamp.setStyleSheet("color:#9aa0a6")
        # Of fixed size: its text changes with every image, and a label that may change size
        # asks its panel to lay itself out again each time (Qt skips that for a fixed size).
        # Room for 115 days since sensorlab started.
        self.stamp.setFixedSize(self.stamp.fontMetrics().horizontalAdvance("t = 0000000.000 s") + 4, self.stamp.sizeHint().height())
        self.stamp.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._header.addWidget(self.stamp)
        self._layout.addWidget(self.graphics, 1)
        self._levels: tuple[float, float] | None = None
        self._bar_levels: tuple[float, float] | None = None  # the levels the colour bar shows
        self.frames_shown = 0

    #: The colour bar follows the image's levels once they moved by this fraction of their span.
    BAR_STEP = 0.05

    def _bar_moved(self) -> bool:
        if self._bar_levels is None:
            return True
        (a, b), (c, d) = self._bar_levels, self._levels
        return max(abs(a - c), abs(b - d)) > self.BAR_STEP * max(b - a, d - c, 1e-12)

    def _colour(self, img: np.ndarray, levels: tuple[float, float]) -> np.ndarray:
        """``img`` as ``0xffRRGGBB`` pixels: the colours pyqtgraph draws for it with the colour map
        at ``levels`` (256 colours over the levels, values outside them clipped to the ends)."""
        lo, hi = levels
        return self._lut[np.clip((img - lo) * (256.0 / (hi - lo)), 0, 255).astype(np.uint8)]

    @staticmethod
    def _video_pixels(frame: np.ndarray, step: int) -> np.ndarray:
        """Every ``step``-th pixel of a video frame as ``0xffRRGGBB``: BGR(A) bytes as cameras
        deliver them (in one pass, `rgb32_preview`), or one channel as grey; other sample
        types clipped to 0–255 as bytes (what pyqtgraph showed with levels (0, 255))."""
        if frame.dtype != np.uint8:
            frame = np.clip(frame, 0, 255).astype(np.uint8)
        if frame.ndim == 3 and frame.shape[2] >= 3:
            return rgb32_preview(frame, step)
        grey = (frame[..., 0] if frame.ndim == 3 else frame)[::step, ::step].astype(np.uint32)
        return np.ascontiguousarray(0xFF000000 | grey << 16 | grey << 8 | grey)

    def _pull(self) -> bool:
        chunk = self.ring.latest()
        if chunk is None or chunk.timestamps[-1] <= self.newest:
            return False
        frame = np.asarray(chunk.data[-1])
        self.newest = float(chunk.timestamps[-1])
        if self.is_video:
            # half resolution is plenty for a preview
            step = 2 if frame.ndim >= 2 and frame.shape[1] > 400 else 1
            self.image.set_pixels(self._video_pixels(frame, step))
        else:
            img = frame.reshape(frame.shape[0], -1) if frame.ndim > 1 else frame[None, :]
            lo, hi = float(np.min(img)), float(np.max(img))
            # Levels follow the data slowly so the colours do not flicker frame to frame.
            if self._levels is None:
                self._levels = (lo, hi if hi > lo else lo + 1)
            else:
                a, b = self._levels
                self._levels = (0.9 * a + 0.1 * lo, max(0.9 * b + 0.1 * hi, 0.9 * a + 0.1 * lo + 1e-6))
            self.image.set_pixels(self._colour(img, self._levels))
            if self.color_bar is not None and self._bar_moved():
                # Redrawing the bar repaints its four axes: only when the levels moved visibly.
                self._bar_levels = self._levels
                self.color_bar.setLevels(self._levels)
        self.frames_shown += 1
        self.stamp.setText(f"t = {self.newest - self.origin:8.3f} s")
        return True
