"""A dense stream's channels (more envelope points than pixel columns) are drawn as one image
of their per-column spans, not as Qt strokes: a one-sample spike still shows at its time and
over its full height, every channel keeps its colour and its extremes, and the drawn columns
are the data's."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.app.live.panel import PALETTE
from sensorlab.app.live.timeseries import TimeseriesPanel
from sensorlab.app.live.traces import TraceGroup
from tests.app.rendered import shown

RATE = 1000.0
SPIKE_T, SPIKE = 5.0, 2.5  # one sample of channel 0 at 5 s
START, STOP = 1.0, 9.0  # the data's times


def _panel(qtbot) -> tuple[TimeseriesPanel, np.ndarray]:
    info = StreamInfo("emg", StreamKind.TIMESERIES, RATE, ("a", "b"), ("mV",) * 2, sample_shape=(2,))
    ring = ChunkRing(seconds=11.0)
    panel = shown(qtbot, TimeseriesPanel(info, ring, 0.0, window=10.0), 700, 300)
    panel.legend.setVisible(False)
    t = np.arange(int(START * RATE), int(STOP * RATE)) / RATE
    rng = np.random.default_rng(3)
    data = np.stack([0.2 * rng.standard_normal(len(t)), -1.5 + 0.5 * np.sin(2 * np.pi * 0.5 * t)], axis=1).astype(np.float32)
    data[np.flatnonzero(np.isclose(t, SPIKE_T))[0], 0] = SPIKE
    ring.append(Chunk(data, t))
    assert panel.refresh()
    panel.set_autoscale(False)
    panel.plot.setXRange(0.0, 10.0, padding=0)
    panel.plot.setYRange(-3.0, 3.0, padding=0)
    assert panel.refresh() is not None
    return panel, data


def _image(panel) -> np.ndarray:
    """The plot's pixels as (rows, columns, rgb)."""
    img = panel.graphics.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    argb = np.array(img.constBits(), copy=True).view(np.uint32).reshape(img.height(), img.bytesPerLine() // 4)[:, : img.width()]
    return np.stack([(argb >> 16) & 255, (argb >> 8) & 255, argb & 255], axis=2).astype(np.uint8)


def _px(panel, x: float, y: float) -> tuple[int, int]:
    vb = panel.plot.getViewBox()
    p = panel.graphics.mapFromScene(vb.mapViewToScene(QPointF(x, y)))
    return int(np.floor(p.x())), int(np.floor(p.y()))


def _mask(pixels: np.ndarray, colour: str) -> np.ndarray:
    want = QColor(colour)
    rgb = np.array([want.red(), want.green(), want.blue()])
    return (np.abs(pixels.astype(int) - rgb) <= 40).all(axis=2)


def test_a_spike_shows_at_its_column_over_its_full_height_and_the_traces_span_the_data(qtbot):
    panel, data = _panel(qtbot)
    qtbot.waitUntil(lambda: panel.traces.fills > 0, timeout=5_000)  # drawn as an image
    pixels = _image(panel)
    spike_col, spike_row = _px(panel, SPIKE_T, SPIKE)
    _, base_row = _px(panel, SPIKE_T, 0.0)
    a = _mask(pixels, PALETTE[0])
    # the spike: channel 0's colour from its peak down to the baseline, in its column (±1 px)
    near_cols = a[:, spike_col - 1 : spike_col + 2]
    assert near_cols[spike_row - 1 : spike_row + 2].any()
    assert near_cols[spike_row + 1 : base_row].any(axis=1).all()  # no hole along the spike
    # nowhere else does channel 0 reach half the spike's height
    _, half_row = _px(panel, 0.0, SPIKE / 2)
    cols_high = np.flatnonzero(a[:half_row].any(axis=0))
    assert len(cols_high) and cols_high.min() >= spike_col - 1 and cols_high.max() <= spike_col + 1
    # each channel's drawn columns are the data's, and its rows reach the data's extremes
    for ch in range(2):
        m = _mask(pixels, PALETTE[ch])
        cols = np.flatnonzero(m.any(axis=0))
        shown_t, _ = panel.buffer.view()  # (its newest samples wait for their min/max block)
        first, _ = _px(panel, float(shown_t[0]), 0.0)
        last, _ = _px(panel, float(shown_t[-1]), 0.0)
        assert shown_t[0] == START and shown_t[-1] > STOP - 0.1
        assert abs(cols.min() - first) <= 1 and abs(cols.max() - last) <= 1
        assert len(cols) >= (last - first + 1) - 2  # connected: (almost) every column in between
        rows = np.flatnonzero(m[:, first + 2 : last - 1].any(axis=1))
        _, top = _px(panel, 0.0, float(data[:, ch].max()))
        _, bottom = _px(panel, 0.0, float(data[:, ch].min()))
        assert abs(rows.min() - top) <= 1 and abs(rows.max() - bottom) <= 1


def test_raw_samples_a_few_a_column_are_stroked_by_qt(qtbot):
    info = StreamInfo("imu", StreamKind.TIMESERIES, 20.0, ("a",), ("g",), sample_shape=(1,))
    ring = ChunkRing(seconds=11.0)
    panel = shown(qtbot, TimeseriesPanel(info, ring, 0.0, window=10.0), 700, 300)
    t = np.arange(1, 180) / 20.0
    ring.append(Chunk(np.sin(t).astype(np.float32)[:, None], t))
    assert panel.refresh()
    panel.plot.setXRange(0.0, 10.0, padding=0)
    qtbot.waitUntil(lambda: _mask(_image(panel), PALETTE[0]).sum() > 300, timeout=5_000)
    assert panel.traces.fills == 0
    assert isinstance(panel.traces, TraceGroup)


def test_stroked_raw_samples_show_the_newest_rows_handed_over(qtbot):
    """A panel hands its channels their rows without copying them into each line's points
    (`TraceGroup.set_rows`: an envelope is filled from the rows as they are); a trace that is
    stroked copies them when painted, so every refresh draws the rows of that refresh, also
    when their number is the same as before (a full window)."""
    info = StreamInfo("imu", StreamKind.TIMESERIES, 20.0, ("a",), ("g",), sample_shape=(1,))
    ring = ChunkRing(seconds=30.0)
    panel = shown(qtbot, TimeseriesPanel(info, ring, 0.0, window=10.0), 700, 300)
    panel.legend.setVisible(False)
    panel.set_autoscale(False)
    panel.plot.setYRange(-3.0, 3.0, padding=0)

    def drawn_at(x: float, y: float) -> bool:
        col, row = _px(panel, x, y)
        return bool(_mask(_image(panel), PALETTE[0])[row - 1 : row + 2, col].any())

    t = np.arange(1, 301) / 20.0  # 0.05 … 15 s at -2: more than the window keeps
    ring.append(Chunk(np.full((len(t), 1), -2.0, np.float32), t))
    assert panel.refresh()
    points = panel.curves[0]._n
    panel.plot.setXRange(5.0, 15.0, padding=0)
    qtbot.waitUntil(lambda: drawn_at(12.0, -2.0), timeout=5_000)
    t2 = np.arange(301, 401) / 20.0  # then 15.05 … 20 s at +2
    ring.append(Chunk(np.full((len(t2), 1), 2.0, np.float32), t2))
    assert panel.refresh()
    assert panel.curves[0]._n == points  # a full window: as many points as before
    panel.plot.setXRange(10.0, 20.0, padding=0)
    qtbot.waitUntil(lambda: drawn_at(18.0, 2.0), timeout=5_000)
    assert drawn_at(12.0, -2.0) and not drawn_at(18.0, -2.0)
    assert panel.traces.fills == 0  # stroked, not filled
