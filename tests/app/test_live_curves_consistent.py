"""What a live time-series curve draws is always the samples fed, in time order, for every
channel: also for a channel that was hidden while the display buffer wrapped around and is
then shown again (issue 14: the demo IMU plot once drew lines running backwards)."""

from __future__ import annotations

import numpy as np

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import Chunk, StreamInfo
from sensorlab.app.live.panels import PeakEnvelope, RollingBuffer, TimeseriesPanel

RATE, CH = 200.0, 3


def _values(k: np.ndarray) -> np.ndarray:
    """Sample ``k`` of channel ``c`` is ``1000 * c + k``: every value names its own sample."""
    return (np.asarray(k)[:, None] + 1000.0 * np.arange(CH)[None, :]).astype(np.float32)


def _feed(ring: ChunkRing, start: int, n: int) -> int:
    k = np.arange(start, start + n)
    ring.append(Chunk(data=_values(k), timestamps=k / RATE))
    return start + n


def _assert_drawn_are_samples(panel: TimeseriesPanel, origin: float) -> None:
    for ch, curve in enumerate(panel.curves):
        x, y = curve.getOriginalDataset()
        assert x is not None and len(x) > 10, f"channel {ch} draws nothing"
        assert np.all(np.diff(x) > 0), f"channel {ch}: x runs backwards"
        k = np.rint((x + origin) * RATE).astype(np.int64)
        np.testing.assert_allclose(k / RATE - origin, x, atol=1e-9, err_msg=f"channel {ch}: x is not a sample time")
        np.testing.assert_array_equal(y, _values(k)[:, ch], err_msg=f"channel {ch}: values are not the samples at x")


def test_hidden_channel_shown_after_buffer_wraps_draws_the_samples(qtbot):
    info = StreamInfo("imu", "timeseries", RATE, channel_names=("a", "b", "c"), sample_shape=(CH,))
    ring = ChunkRing(seconds=30.0)
    origin = 0.0
    panel = TimeseriesPanel(info, ring, origin, window=1.0)  # 200 samples: raw, no decimation
    qtbot.addWidget(panel)
    panel.show()
    k = _feed(ring, 0, 150)
    assert panel.refresh()
    _assert_drawn_are_samples(panel, origin)
    panel.set_channel_visible(1, False)
    # Several wraps of the display buffer (capacity ~226 rows, backed by twice that) while
    # channel b is hidden and not updated.
    for _ in range(12):
        k = _feed(ring, k, 37)
        assert panel.refresh()
        visible = [c for i, c in enumerate(panel.curves) if i != 1]
        for c in visible:
            assert np.all(np.diff(c.getOriginalDataset()[0]) > 0)
    panel.set_channel_visible(1, True)
    # Shown again, before any new data: it must draw real samples in time order.
    _assert_drawn_are_samples(panel, origin)
    k = _feed(ring, k, 5)
    assert panel.refresh()
    _assert_drawn_are_samples(panel, origin)


def test_rolling_buffer_never_rewrites_a_view_it_handed_out():
    buf = RollingBuffer(8, 1)
    views = []
    for i in range(40):
        buf.append(np.array([float(i)]), np.array([[float(i)]]))
        t, v = buf.view()
        views.append((t, v, t.copy(), v.copy()))
    for t, v, t0, v0 in views:
        np.testing.assert_array_equal(t, t0)
        np.testing.assert_array_equal(v, v0)


def test_envelope_of_chunks_of_any_size_is_the_block_min_max():
    rng = np.random.default_rng(3)
    env = PeakEnvelope(block=7, window_samples=10_000, width=2)
    n = 0
    while n < 3000:
        m = int(rng.integers(1, 40))
        k = np.arange(n, n + m)
        env.add(k / 1000.0, np.stack([np.sin(k * 0.37), -np.cos(k * 0.11)], axis=1).astype(np.float32))
        n += m
    t, v = env.buffer.view()
    assert np.all(np.diff(t) > 0)
    k = np.rint(t * 1000).astype(int)
    first, last = k[0::2], k[1::2]
    assert np.all(last - first == 6)
    full = np.stack([np.sin(np.arange(k[-1] + 1) * 0.37), -np.cos(np.arange(k[-1] + 1) * 0.11)], axis=1).astype(np.float32)
    for j, (a, b) in enumerate(zip(first, last)):
        np.testing.assert_array_equal(v[:, 2 * j], full[a : b + 1].min(axis=0))
        np.testing.assert_array_equal(v[:, 2 * j + 1], full[a : b + 1].max(axis=0))


def test_a_rebinned_envelope_keeps_every_stretchs_min_and_max():
    """A plot made narrower coarsens its envelope (`PeakEnvelope.rebin`): the rows already made
    are merged, and every pair drawn is still the exact min and max of its stretch, the
    stretches following each other with no sample left out, across the change and back."""
    env = PeakEnvelope(block=7, window_samples=20_000, width=1)
    full = np.sin(np.arange(9000) * 0.05) * np.cos(np.arange(9000) * 0.0071)
    n = 0
    for stop, block in ((2000, 28), (5000, 14), (9000, None)):
        while n < stop:
            k = np.arange(n, min(n + 33, stop))
            env.add(k / 1000.0, full[k, None].astype(np.float32))
            n = k[-1] + 1
        if block:
            env.rebin(block)
    assert env.block == 14
    t, v = env.buffer.view()
    k = np.rint(t * 1000).astype(int)
    first, last = k[0::2], k[1::2]
    assert first[0] == 0 and np.all(first[1:] == last[:-1] + 1)  # contiguous stretches
    spans = set((last - first).tolist())
    assert {27, 13} <= spans and max(spans) == 27  # merged and coarse pairs, then finer ones
    f32 = full.astype(np.float32)
    for j, (a, b) in enumerate(zip(first, last)):
        assert v[0, 2 * j] == f32[a : b + 1].min() and v[0, 2 * j + 1] == f32[a : b + 1].max(), j


def test_spectrogram_shows_a_tone_in_its_frequency_row(qtbot):
    from sensorlab.app.live.panels import AudioPanel

    rate, f = 16000.0, 3000.0
    info = StreamInfo("mic", "audio", rate, channel_names=("l",), sample_shape=(1,))
    ring = ChunkRing(seconds=30.0)
    panel = AudioPanel(info, ring, 0.0, window=2.0)
    qtbot.addWidget(panel)
    k = 0
    for _ in range(6):  # several chunks, enough columns to wrap nothing yet
        n = np.arange(k, k + 4000)
        ring.append(Chunk(data=(0.5 * np.sin(2 * np.pi * f * n / rate)).astype(np.float32)[:, None], timestamps=n / rate))
        k += 4000
        assert panel.refresh()
    start, stop = panel.spec.span()
    img = panel.spec.v[:, start:stop]
    hottest = np.argmax(img[:, -1] & 0xFFFFFF)  # the brightest colour of the newest column
    assert abs(hottest * rate / panel.NFFT - f) <= rate / panel.NFFT
    rect = panel.image.boundingRect()  # the image spans its columns' times and 0 … rate/2
    assert rect.height() == rate / 2000
    assert rect.left() == panel.spec.t[start]
    assert abs(rect.right() - (panel.spec.t[start] + (stop - start) * panel.NFFT / rate)) < 1e-9


def test_refresh_slows_down_when_the_gui_thread_is_over_budget_and_recovers(qtbot, fake_acquisition, monkeypatch):
    from sensorlab.app.live import view as live_view

    view = live_view.LiveView(fake_acquisition, window=2.0)
    qtbot.addWidget(view)
    view.show()
    monkeypatch.setattr(live_view, "GUI_BUDGET", 1e-6)  # any work at all is over budget
    monkeypatch.setattr(live_view, "GUI_BUDGET_SPARE", 1e-6)  # however idle the machine
    qtbot.waitUntil(lambda: view.timer.interval() > 2 * live_view.REFRESH_MS, timeout=20_000)
    monkeypatch.setattr(live_view, "GUI_BUDGET", 1e6)  # nothing is: back to full speed
    monkeypatch.setattr(live_view, "GUI_BUDGET_SPARE", 1e6)
    qtbot.waitUntil(lambda: view.timer.interval() == live_view.REFRESH_MS, timeout=30_000)
    assert view.frames > 0
    view.shutdown()
