"""The live view's image items: `ColumnImage` (a scrolling colour image: the spectrogram) and
`PixelImage` (the camera's and radar's newest image), each a `QImage` wrapping the panel's
array of Qt ``Format_RGB32`` pixels as it is."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter


def rgb32_table(cmap: pg.ColorMap) -> np.ndarray:
    """The colour map's 256 colours as uint32 ``0xffRRGGBB`` (Qt's ``Format_RGB32``), the table
    pyqtgraph would colour an image through."""
    lut = cmap.getLookupTable(nPts=256, mode="byte", alpha=False).astype(np.uint32)
    return 0xFF000000 | lut[:, 0] << 16 | lut[:, 1] << 8 | lut[:, 2]


class ColumnImage(pg.GraphicsObject):
    """A scrolling colour image (a spectrogram) drawn straight from a `RollingBuffer`.

    Columns are coloured once, when they arrive (``colour``), into 32-bit RGB values, so a
    frame neither re-applies a colour map to the whole image nor copies it: the painted
    `QImage` reads the buffer's memory in place (its rows are the buffer's channel rows,
    ``bytesPerLine`` skips the unused part). Row 0 is drawn at the bottom of ``rect``.
    """

    def __init__(self, cmap: pg.ColorMap, levels: tuple[float, float]):
        super().__init__()
        self._argb = rgb32_table(cmap)
        self.levels = levels
        self._image: QImage | None = None
        self._keep = None  # the array the QImage reads (kept alive with it)
        self._rect = QRectF()

    def colour(self, values: np.ndarray) -> np.ndarray:
        """``values`` (any shape) mapped through the colour map between ``levels``."""
        lo, hi = self.levels
        idx = np.clip((values - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
        return self._argb[idx]

    def set_columns(self, backing: np.ndarray, start: int, stop: int, rect: QRectF) -> None:
        """Show columns ``start:stop`` of the C-contiguous uint32 ``backing`` (rows × columns)
        over ``rect`` (data coordinates)."""
        rows, width = backing.shape
        flat = backing.reshape(-1)[start:]  # the image starts at column `start` of row 0
        self._keep = flat
        self._image = QImage(flat.data, stop - start, rows, width * 4, QImage.Format.Format_RGB32)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)

    def paint(self, p: QPainter, *_args) -> None:
        if self._image is None:
            return
        p.drawImage(self._rect, self._image)


class PixelImage(pg.GraphicsObject):
    """An image of ``0xffRRGGBB`` pixels (Qt's ``Format_RGB32``, which its raster engine draws
    fastest), row 0 at y = 0, one data unit a pixel, as pyqtgraph's ``ImageItem`` places it.

    The live camera and radar previews set a new image 20–30 times a second: ``ImageItem``
    spent Python on each (``setImage``'s checks and signals, ``render`` making the `QImage`,
    its ``paint``), and drew an RGB888 image Qt converted while scaling it. Here the `QImage`
    wraps the panel's array as it is (``qimage``: the pixels drawn)."""

    def __init__(self):
        super().__init__()
        self.qimage: QImage | None = None
        self._pixels: np.ndarray | None = None  # the array ``qimage`` reads (kept alive with it)
        self._rect = QRectF()

    def set_pixels(self, pixels: np.ndarray) -> None:
        """Show ``pixels``, a C-contiguous (rows, columns) uint32 array of ``0xffRRGGBB``."""
        h, w = pixels.shape
        self._pixels = pixels
        self.qimage = QImage(pixels.data, w, h, 4 * w, QImage.Format.Format_RGB32)
        if self._rect.width() != w or self._rect.height() != h:
            self.prepareGeometryChange()
            self._rect = QRectF(0, 0, w, h)
            self.informViewBoundsChanged()  # the view fits a new size
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)

    def paint(self, p: QPainter, *_args) -> None:
        if self.qimage is not None:
            p.drawImage(self._rect, self.qimage)
