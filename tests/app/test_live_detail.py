"""Reduced detail of the live view under overload (issue 14 §4): the coarser curves still span
exactly the samples' minimum and maximum over every stretch of time they draw, the
spectrogram gets smaller, and the pacing lowers the frame rate first, then the detail, and
restores both when there is room again."""

from __future__ import annotations

import numpy as np

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import Chunk, StreamInfo
from sensorlab.app.live.panels import AudioPanel, TimeseriesPanel
from tests.app.rendered import shown


def _signal(k: np.ndarray, rate: float, ch: int) -> np.ndarray:
    t = k / rate
    cols = [np.sin(2 * np.pi * (3 + c) * t) * (1 + 0.3 * np.sin(7.1 * t * (c + 1))) for c in range(ch)]
    return np.stack(cols, axis=1).astype(np.float32)


def _feed(panel, ring: ChunkRing, rate: float, ch: int, seconds: float, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Append samples up to ``seconds`` (continuing after what the ring holds), refreshing."""
    newest = ring.latest()
    k0 = 0 if newest is None else int(round(newest.timestamps[-1] * rate)) + 1
    while k0 < seconds * rate:
        k = np.arange(k0, k0 + chunk)
        ring.append(Chunk(data=_signal(k, rate, ch), timestamps=k / rate))
        panel.refresh()
        k0 += chunk
    k = np.arange(k0)
    return k / rate, _signal(k, rate, ch)


def _assert_envelope_of(curves, t: np.ndarray, data: np.ndarray, origin: float) -> int:
    """Every (min, max) pair drawn is the samples' min and max between the pair's two times."""
    pairs = 0
    for ch, curve in enumerate(curves):
        x, y = curve.getOriginalDataset()
        assert len(x) % 2 == 0 and len(x) >= 16
        x = x + origin
        lo_at = np.searchsorted(t, x[0::2] - 1e-9)
        hi_at = np.searchsorted(t, x[1::2] + 1e-9)
        assert np.all(np.diff(lo_at) >= 0)
        for j, (a, b) in enumerate(zip(lo_at, hi_at)):
            seg = data[a:b, ch]
            assert y[2 * j] == seg.min() and y[2 * j + 1] == seg.max(), f"channel {ch}, pair {j}"
        # The pairs follow each other: no sample between two pairs is left out.
        assert np.all(lo_at[1:] == hi_at[:-1])
        pairs = len(x) // 2
    return pairs


def test_coarser_timeseries_curves_still_draw_each_stretchs_min_and_max(qtbot):
    rate, ch = 1000.0, 3
    info = StreamInfo("imu", "timeseries", rate, channel_names=("a", "b", "c"), sample_shape=(ch,))
    ring = ChunkRing(seconds=30.0)
    panel = TimeseriesPanel(info, ring, 0.0, window=2.0)
    qtbot.addWidget(panel)
    t, data = _feed(panel, ring, rate, ch, 1.5, 37)
    block = panel.envelope.block
    full = _assert_envelope_of(panel.curves, t, data, 0.0)
    assert full >= 1.5 * rate / block - 2
    for level in (1, 2):
        panel.set_detail(level)
        t, data = _feed(panel, ring, rate, ch, 1.5 + 0.4 * level, 41)
        pairs = _assert_envelope_of(panel.curves, t, data, 0.0)
        x = panel.curves[0].getOriginalDataset()[0]
        assert pairs <= (x[-1] - x[0]) * rate / (block << level) + 2  # a half, a quarter of the points
    # A channel shown again at reduced detail draws the same coarse envelope.
    panel.set_channel_visible(2, False)
    t, data = _feed(panel, ring, rate, ch, 2.5, 29)
    panel.set_channel_visible(2, True)
    _assert_envelope_of(panel.curves, t, data, 0.0)
    panel.set_detail(0)
    t, data = _feed(panel, ring, rate, ch, 3.5, 23)
    assert _assert_envelope_of(panel.curves, t, data, 0.0) >= 2.0 * rate / block - 2  # the whole window, full detail


def test_curves_get_at_most_two_points_per_pixel_column_and_keep_every_extreme(qtbot):
    """A 10 s window of a 1 kHz stream is ~1,400 envelope points a channel: on a 400 px plot
    it is handed to the curve as ≤ 2 points per pixel column, each pair still the exact
    min and max of its stretch; a wider plot gets more points again (once the window has
    scrolled past what was drawn coarser)."""
    rate, ch = 1000.0, 2
    info = StreamInfo("imu", "timeseries", rate, channel_names=("a", "b"), sample_shape=(ch,))
    ring = ChunkRing(seconds=30.0)
    panel = shown(qtbot, TimeseriesPanel(info, ring, 0.0, window=10.0), 400, 250)
    vb = panel.plot.getViewBox()
    panel.plot.setXRange(0.0, 10.0, padding=0)  # as the live view does while following
    t, data = _feed(panel, ring, rate, ch, 10.0, 100)
    narrow = vb.width()
    assert 200 < narrow < 400
    for curve in panel.curves:
        assert len(curve.getOriginalDataset()[0]) <= 2 * narrow
    _assert_envelope_of(panel.curves, t, data, 0.0)
    panel.resize(1800, 250)
    qtbot.waitUntil(lambda: vb.width() > 1500, timeout=5_000)
    t, data = _feed(panel, ring, rate, ch, 21.0, 100)  # the coarser history scrolls out
    wide = len(panel.curves[0].getOriginalDataset()[0])
    assert 2 * narrow < wide <= 2 * vb.width()
    _assert_envelope_of(panel.curves, t, data, 0.0)


def test_audio_at_reduced_detail_draws_the_envelope_and_a_smaller_spectrogram(qtbot):
    rate = 16000.0
    info = StreamInfo("mic", "audio", rate, channel_names=("l", "r"), sample_shape=(2,))
    ring = ChunkRing(seconds=30.0)
    panel = AudioPanel(info, ring, 0.0, window=2.0)
    qtbot.addWidget(panel)
    rows = panel.graphics.ci.layout
    assert rows.rowStretchFactor(1) > rows.rowStretchFactor(0)  # full detail: spectrogram is the larger
    panel.set_detail(2)
    assert rows.rowStretchFactor(1) < rows.rowStretchFactor(0)
    t, data = _feed(panel, ring, rate, 2, 1.9, 1600)
    _assert_envelope_of(panel.curves, t, data, 0.0)
    start, stop = panel.spec.span()
    assert stop - start > 10  # the spectrogram still scrolls


def test_overload_lowers_fps_then_detail_and_restores_both(qtbot, fake_acquisition, monkeypatch):
    from sensorlab.app.live import view as live_view

    view = live_view.LiveView(fake_acquisition, window=2.0)
    qtbot.addWidget(view)
    view.show()
    periods_at_change: list[tuple[int, int]] = []
    view.detail_changed.connect(lambda level: periods_at_change.append((level, view.timer.interval())))
    monkeypatch.setattr(live_view, "GUI_BUDGET", 1e-6)  # any work at all is over budget
    monkeypatch.setattr(live_view, "GUI_BUDGET_SPARE", 1e-6)  # however idle the machine
    qtbot.waitUntil(lambda: view.detail == live_view.MAX_DETAIL, timeout=30_000)
    assert all(p.detail == live_view.MAX_DETAIL for p in view.panels.values())
    # Detail went down only once the frame rate had been lowered to DETAIL_PERIOD_MS.
    assert [lvl for lvl, _ in periods_at_change] == list(range(1, live_view.MAX_DETAIL + 1))
    assert all(period >= live_view.DETAIL_PERIOD_MS for _, period in periods_at_change)
    monkeypatch.setattr(live_view, "GUI_BUDGET", 1e6)  # nothing is: back to full detail and speed
    monkeypatch.setattr(live_view, "GUI_BUDGET_SPARE", 1e6)
    qtbot.waitUntil(lambda: view.detail == 0 and view.timer.interval() == live_view.REFRESH_MS, timeout=30_000)
    assert all(p.detail == 0 for p in view.panels.values())
    view.shutdown()
