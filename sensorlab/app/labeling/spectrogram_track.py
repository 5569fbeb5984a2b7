"""`SpectrogramTrack`: the spectrogram of one audio channel on the labeling timeline, computed
when the view settles (on a worker), and the opaque image item it is shown with."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QThreadPool
from PySide6.QtGui import QImage
from shiboken6 import isValid
from superqt.utils import create_worker

from sensorlab.app.labeling.tracks import Track
from sensorlab.session.reader import StreamReader


class OpaqueImageItem(pg.ImageItem):
    """An `ImageItem` whose picture is handed to Qt as opaque 32-bit RGB.

    pyqtgraph renders a colour-mapped image as an indexed (8-bit palette) `QImage`; drawn
    scaled onto the view, Qt's raster engine converts and blends it row by row on its thread
    pool and waits for it: ~1.7 ms of wall time a scroll frame for a spectrogram, against
    nothing measurable for the same pixels as RGB32 (docs/performance/labeling.md, slow machine).
    """

    def render(self, *args, **kwargs):
        super().render(*args, **kwargs)
        if self.qimage is not None and self.qimage.format() != QImage.Format.Format_RGB32:
            self.qimage = self.qimage.convertToFormat(QImage.Format.Format_RGB32)


class SpectrogramTrack(Track):
    """Spectrogram of the visible range of one audio channel, computed when the view settles.

    At most ``pixels / 2`` columns. Short ranges (up to 16 windows per column) are read whole
    and each column shows the loudest of its windows, so short transients are never skipped;
    for long ranges each column is one FFT window read at its position (a strided read), so
    an hour costs the same as a second.
    """

    NFFT = 512
    DB_RANGE = (-80.0, -5.0)
    #: Frequencies shown (Hz): the speech/event band; the image holds up to Nyquist.
    MAX_SHOWN_HZ = 8000.0
    #: Ranges of up to this many FFT windows per column are read whole (every transient
    #: shows); longer ones read one window per column (an hour costs what a minute does).
    #: 16 × 450 columns × 512 samples: 2.5 minutes at 48 kHz on a 1400 px wide window.
    WHOLE_READ_WINDOWS = 16
    #: FFT windows transformed at once (bounds the memory of a long contiguous range).
    FFT_BLOCK = 4096

    def __init__(self, stream: StreamReader, origin: float, channel: int = 0):
        super().__init__(f"{stream.name} spectrum", origin)
        self.stream = stream
        self.channel = channel
        self.rate = float(stream.info.nominal_rate or 48000.0)
        self.image = OpaqueImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("inferno"))
        self.plot.addItem(self.image)
        self.plot.setYRange(0, min(self.rate / 2, self.MAX_SHOWN_HZ), padding=0)
        self.plot.setLabel("left", f"{stream.name}<br><span style='font-size:8pt;color:#9aa0a6'>spectrum, Hz</span>")
        self.window = np.hanning(self.NFFT).astype(np.float32)
        self.columns = 0
        self._generation = 0  # of the latest request: older results are stale
        self._shown_generation = 0  # of the request whose result is on screen
        self._workers: set = set()

    def _with_samples(self, t0: float, t1: float, pixels: int) -> tuple[float, float, int]:
        """The part of ``t0 … t1`` the stream has samples in, and its share of the pixels. The
        image is placed over the samples it was computed from: zoomed out at a session's edge,
        columns of the samples alone stretched over the whole view, the claps beside the mic's."""
        a, b = max(t0, self.stream.first_time), min(t1, self.stream.last_time)
        return a, b, max(1, int(pixels * (b - a) / (t1 - t0))) if b > a and t1 > t0 else 1

    def settle(self, t0: float, t1: float, pixels: int) -> None:
        """Compute and show the spectrogram of ``t0 … t1`` now (blocks for its reads)."""
        self._generation += 1
        t0, t1, pixels = self._with_samples(t0, t1, pixels)
        self._show(self.compute(t0, t1, pixels), t0, t1)
        self._shown_generation = self._generation

    def settle_later(self, t0: float, t1: float, pixels: int) -> None:
        """`settle` on a worker thread: a zoomed-out hour takes ~450 reads and FFTs (0.4–0.9 s),
        which froze the window each time the view came to rest. A result the view has moved
        on from (a newer request, or `cancel`) is dropped."""
        self._generation += 1
        gen = self._generation
        t0, t1, pixels = self._with_samples(t0, t1, pixels)
        worker = create_worker(self.compute, t0, t1, pixels, _start_thread=False, _ignore_errors=True)
        worker.returned.connect(lambda res: gen == self._generation and isValid(self.image) and self._show_result(gen, res, t0, t1))
        worker.finished.connect(lambda: self._workers.discard(worker))
        self._workers.add(worker)  # kept alive until it ends
        worker.start()

    def _show_result(self, generation: int, result, t0: float, t1: float) -> None:
        self._show(result, t0, t1)
        self._shown_generation = generation

    @property
    def current(self) -> bool:
        """True when the spectrogram of the latest range asked for is on screen (none is still
        being computed): what a screenshot waits for rather than a fixed time."""
        return self._shown_generation == self._generation

    def cancel(self) -> None:
        """Drop the results of computations still running (the session is about to close)."""
        self._generation += 1

    def wait(self, msecs: int = 10_000) -> bool:
        """Block until no computation is running (before closing the file they read)."""
        pool = QThreadPool.globalInstance()
        return not self._workers or pool.waitForDone(msecs)

    def _show(self, result, t0: float, t1: float) -> None:
        if result is None:
            self.image.clear()
            self.columns = 0
            return
        db, cols = result
        self.image.setImage(db.T, autoLevels=False, levels=self.DB_RANGE)
        self.image.setRect(QRectF(t0 - self.origin, 0.0, max(t1 - t0, 1e-6), self.rate / 2))
        self.columns = cols

    def compute(self, t0: float, t1: float, pixels: int) -> tuple[np.ndarray, int] | None:
        """``(dB image (columns × bins), columns)`` of ``t0 … t1``, or None when too short. No Qt."""
        s = self.stream
        i0, i1 = s.index_of(t0), s.index_of(t1)
        n = i1 - i0
        cols = int(min(max(1, pixels // 2), max(1, n // self.NFFT)))
        if n < self.NFFT:
            return None
        if n <= self.WHOLE_READ_WINDOWS * cols * self.NFFT:
            # Up to a few minutes: one contiguous read, FFT windows every half window, and each
            # column the loudest of its windows. One window per column would skip what falls
            # between them: a 20 ms clap vanished from most columns of a 30 s view at 48 kHz.
            x = np.asarray(s.read_index(i0, i1).data).reshape(n, -1)[:, self.channel]
            hop = self.NFFT // 2
            frames = np.lib.stride_tricks.sliding_window_view(x, self.NFFT)[::hop]
            of_col = np.arange(len(frames)) * cols // len(frames)
        else:
            starts = i0 + (np.arange(cols) * ((n - self.NFFT) / max(1, cols - 1))).astype(np.int64) if cols > 1 else np.array([i0])
            frames = np.stack([np.asarray(s.read_index(a, a + self.NFFT).data).reshape(-1, np.prod(s.info.sample_shape or (1,)))[:, self.channel] for a in starts])
            of_col = np.arange(cols)
        # In blocks of frames: the FFT of all of a few minutes' windows at once held ~100 MB.
        mag = np.zeros((cols, self.NFFT // 2 + 1))
        for b in range(0, len(frames), self.FFT_BLOCK):
            f, oc = frames[b : b + self.FFT_BLOCK], of_col[b : b + self.FFT_BLOCK]
            f = f / 32768.0 if f.dtype.kind in "iu" else f.astype(np.float32)
            m = np.abs(np.fft.rfft(f * self.window, axis=1)) * (2.0 / self.window.sum())
            at, first = np.unique(oc, return_index=True)
            mag[at] = np.maximum(mag[at], np.maximum.reduceat(m, first, axis=0))
        return 20.0 * np.log10(mag + 1e-9), cols


__all__ = ["OpaqueImageItem", "SpectrogramTrack"]
