"""`AudioPanel`: a min/max envelope of every audio channel and a live spectrogram of the first."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from sensorlab.app.live.buffers import PeakEnvelope, RollingBuffer, pull_since
from sensorlab.app.live.image_items import ColumnImage
from sensorlab.app.live.panel import PALETTE, Panel
from sensorlab.app.live.traces import Trace, TraceGroup


class AudioPanel(Panel):
    """Audio: a min/max envelope of every channel and a live spectrogram of the first channel."""

    time_axis = True
    BLOCK = 480  # samples per envelope bin at most (10 ms at 48 kHz); more on a narrow plot
    NFFT = 512  # spectrogram window = hop (no overlap; 94 columns/s at 48 kHz)
    DB_RANGE = (-85.0, -15.0)  # dBFS mapped onto the colour map

    def __init__(self, info, ring, origin, window, parent=None):
        super().__init__(info, ring, origin, window, parent)
        self.rate = info.nominal_rate or 48000.0
        n_ch = max(1, info.channel_count)
        self.envelope = PeakEnvelope(self.BLOCK, int(self.rate * window * 1.05), n_ch)
        self.graphics = self._time_graphics()
        self.plot = self._new_plot(self.graphics, 0)
        self.plot.setYRange(-1, 1)
        self.plot.setLabel("left", "amplitude")
        self.curves = []
        self.traces = TraceGroup()  # the channels painted as one item
        self.plot.addItem(self.traces)
        for i in range(n_ch):
            self.curves.append(self.traces.add(Trace(pg.mkPen(PALETTE[i % len(PALETTE)], width=1))))
        self.spec_plot = self._new_plot(self.graphics, 1)
        self.spec_plot.setXLink(self.plot)
        self.spec_plot.setLabel("left", "kHz")
        self.spec_plot.setYRange(0, self.rate / 2000, padding=0)
        self.spec_plot.setMouseEnabled(x=True, y=False)
        self.columns = int(self.rate / self.NFFT * window * 1.05) + 2
        # Columns are stored already coloured (ColumnImage): a frame only colours new ones.
        self.spec = RollingBuffer(self.columns, self.NFFT // 2 + 1, dtype=np.uint32)
        self.image = ColumnImage(pg.colormap.get("inferno"), self.DB_RANGE)
        self.spec_plot.addItem(self.image)
        self._window = np.hanning(self.NFFT).astype(np.float32)
        self._spec_pending = np.zeros(0, dtype=np.float32)
        self._spec_t0 = 0.0
        self._layout.addWidget(self.graphics, 1)
        self.graphics.ci.layout.setRowStretchFactor(0, 1)
        self.graphics.ci.layout.setRowStretchFactor(1, 2)
        # A crowded studio scrolls and gives each panel its minimum height: keep both rows
        # tall enough for their axis labels (rotated along the axis) and a few ticks.
        # (The view's minimum height is what the splitter honours; the rows' follows from it.)
        rows = [max(48.0, plot.getAxis("left").label.boundingRect().width() + 12.0) for plot in (self.plot, self.spec_plot)]
        for row, height in enumerate(rows):
            self.graphics.ci.layout.setRowMinimumHeight(row, height)
        self.graphics.setMinimumHeight(int(sum(rows)) + 24)  # + spacing and margins

    def _time_plots(self) -> list[pg.PlotItem]:
        return [self.plot, self.spec_plot]  # type: ignore[list-item]

    #: Height of the waveform and spectrogram rows per level of detail: the spectrogram is
    #: the largest image the view paints, scaled every frame, so it shrinks first.
    SPEC_ROWS = ((1, 2), (1, 1), (2, 1))

    def set_detail(self, level: int) -> None:
        super().set_detail(level)
        wave, spec = self.SPEC_ROWS[min(level, len(self.SPEC_ROWS) - 1)]
        self.graphics.ci.layout.setRowStretchFactor(0, wave)
        self.graphics.ci.layout.setRowStretchFactor(1, spec)

    def _pull(self) -> bool:
        pulled = pull_since(self.ring, self.newest)
        if pulled is None:
            return False
        times, raw = pulled
        data = raw.reshape(len(times), -1).astype(np.float32)
        if raw.dtype.kind == "i":  # integer PCM: scale to [-1, 1]
            data /= float(np.iinfo(raw.dtype).max) + 1.0
        self.newest = float(times[-1])
        self._fit_envelope(self.envelope, self.rate, self.BLOCK)
        self.envelope.add(times, data)
        t, v = self._envelope_view(self.envelope.buffer)
        self.traces.set_rows(t - self.origin, v, shown_only=False)
        self._spectrogram(data[:, 0], float(times[0]))
        return True

    def _spectrogram(self, mono: np.ndarray, t0: float) -> None:
        if len(self._spec_pending) == 0:
            self._spec_t0 = t0
        pending = np.concatenate([self._spec_pending, mono])
        n_cols = len(pending) // self.NFFT
        if n_cols:
            frames = pending[: n_cols * self.NFFT].reshape(n_cols, self.NFFT) * self._window
            mag = np.abs(np.fft.rfft(frames, axis=1)) * (2.0 / self._window.sum())
            db = 20.0 * np.log10(mag + 1e-9, dtype=np.float32)
            times = self._spec_t0 + np.arange(n_cols) * (self.NFFT / self.rate)
            self.spec.append(times, self.image.colour(db))
            self._spec_pending = pending[n_cols * self.NFFT :]
            self._spec_t0 += n_cols * self.NFFT / self.rate
        else:
            self._spec_pending = pending
            return
        start, stop = self.spec.span()
        if stop <= start:
            return
        # Rows are frequency bins, columns are time (the buffer's layout).
        width = (stop - start) * self.NFFT / self.rate
        rect = QRectF(self.spec.t[start] - self.origin, 0.0, width, self.rate / 2000)
        self.image.set_columns(self.spec.v, start, stop, rect)
