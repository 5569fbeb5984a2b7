"""LiveView: panels per stream kind, refresh from rings, pause/follow, channel show/hide."""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.app.live.panels import AudioPanel, EventsPanel, ImagePanel, RollingBuffer, TimeseriesPanel
from sensorlab.app.live.view import LiveView


def test_rolling_buffer_keeps_newest_rows():
    buf = RollingBuffer(5, 2)
    for k in range(4):
        t = np.arange(3) + 3 * k
        buf.append(t.astype(float), np.stack([t, -t], axis=1))
    t, v = buf.view()
    assert t.tolist() == [7, 8, 9, 10, 11]
    assert v[1].tolist() == [-7, -8, -9, -10, -11]


def test_live_view_builds_one_panel_per_kind_and_draws(qtbot, fake_acquisition):
    view = LiveView(fake_acquisition, window=5.0)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    kinds = {name: type(p) for name, p in view.panels.items()}
    assert kinds == {"imu": TimeseriesPanel, "mic": AudioPanel, "cam": ImagePanel, "radar": ImagePanel, "markers": EventsPanel}
    qtbot.waitUntil(lambda: all(np.isfinite(p.newest) for p in view.panels.values()), timeout=5000)
    imu = view.panels["imu"]
    x, y = imu.curves[0].getOriginalDataset()
    assert len(x) > 10 and np.all(np.diff(x) > 0)
    # every time plot is linked to one x axis in host-clock seconds since the origin
    mic = view.panels["mic"]
    assert mic.plot.getViewBox().linkedView(0) is imu.plot.getViewBox()
    assert view.panels["markers"].count >= 1
    view.shutdown()


def _points(curve) -> int:
    x, _ = curve.getOriginalDataset()
    return 0 if x is None else len(x)


def _drawn_samples(panel, src, origin: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per channel: (sample indices, values) of what the panel's curve draws. The x values must
    be the samples' own timestamps (seconds since ``origin``)."""
    out = []
    for curve in panel.curves:
        x, y = curve.getOriginalDataset()
        k = np.rint((x + origin - src.t0) * src.rate).astype(np.int64)
        np.testing.assert_allclose(src.timestamps(k) - origin, x, rtol=0, atol=1e-6)
        out.append((k, np.asarray(y)))
    return out


def _check_envelope(drawn, src, block: int) -> None:
    """Each block of samples is drawn as its minimum at its first and its maximum at its last
    sample time, for every channel separately."""
    for ch, (k, y) in enumerate(drawn):
        assert len(k) >= 20 and len(k) % 2 == 0
        first, last = k[0::2], k[1::2]
        assert np.all(last - first == block - 1) and np.all(np.diff(first) == block)
        values = src.expected(np.arange(first[0], last[-1] + 1))[:, ch].reshape(-1, block)
        np.testing.assert_array_equal(y[0::2], values.min(axis=1), err_msg=f"channel {ch} minima")
        np.testing.assert_array_equal(y[1::2], values.max(axis=1), err_msg=f"channel {ch} maxima")


def test_short_window_draws_every_sample_of_every_channel(qtbot, fake_acquisition):
    view = LiveView(fake_acquisition, window=1.0)  # 500 Hz over 1 s: raw samples, no decimation
    qtbot.addWidget(view)
    imu, src = view.panels["imu"], fake_acquisition.source_of("imu")
    qtbot.waitUntil(lambda: _points(imu.curves[0]) >= 100, timeout=10_000)
    drawn = _drawn_samples(imu, src, view.origin)
    assert len(drawn) == 6
    for ch, (k, y) in enumerate(drawn):
        assert np.all(np.diff(k) == 1), f"channel {ch}: samples missing or repeated"
        np.testing.assert_array_equal(y, src.expected(k)[:, ch], err_msg=f"channel {ch}")
    assert len({tuple(y[:50]) for _, y in drawn}) == 6  # six different traces, not one repeated
    view.shutdown()


def test_long_window_draws_the_min_max_envelope_of_every_channel(qtbot, fake_acquisition):
    view = LiveView(fake_acquisition, window=5.0)
    qtbot.addWidget(view)
    imu, mic = view.panels["imu"], view.panels["mic"]
    qtbot.waitUntil(lambda: _points(imu.curves[0]) >= 40 and _points(mic.curves[0]) >= 40, timeout=10_000)
    _check_envelope(_drawn_samples(imu, fake_acquisition.source_of("imu"), view.origin), fake_acquisition.source_of("imu"),
                    imu.envelope.block)  # fmt: skip
    assert imu.envelope.block > 1  # really decimated
    mic_src = fake_acquisition.source_of("mic")
    drawn = _drawn_samples(mic, mic_src, view.origin)
    assert len(drawn) == 2
    _check_envelope(drawn, mic_src, mic.BLOCK)
    view.shutdown()


def test_pause_stops_drawing_but_not_acquisition(qtbot, fake_acquisition):
    view = LiveView(fake_acquisition, window=5.0)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.frames > 2, timeout=5000)
    view.set_paused(True)
    drawn = view.panels["imu"].newest
    samples = fake_acquisition.stats["imu"].samples
    qtbot.wait(200)  # several refresh ticks
    qtbot.waitUntil(lambda: fake_acquisition.stats["imu"].samples > samples + 50, timeout=10_000)  # data kept coming
    assert view.panels["imu"].newest == drawn
    view.set_paused(False)
    qtbot.waitUntil(lambda: view.panels["imu"].newest > drawn, timeout=3000)
    view.shutdown()


def test_manual_zoom_stops_following_and_channels_hide(qtbot, fake_acquisition):
    view = LiveView(fake_acquisition, window=5.0)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.frames > 2, timeout=5000)
    imu = view.panels["imu"]
    with qtbot.waitSignal(view.follow_changed):
        imu.plot.getViewBox().sigRangeChangedManually.emit([True, False])
    assert not view.follow
    imu.set_channel_visible(3, False)
    assert not imu.curves[3].isVisible()
    imu.set_autoscale(False)
    assert not imu.plot.getViewBox().autoRangeEnabled()[1]
    view.shutdown()


def test_processor_streams_get_panels_and_draw_derived_values(qtbot):
    """A rig's processor outputs are ordinary streams: the live view plots the RMS and the events."""
    from sensorlab.acquisition.emulated.signal import SignalSource
    from sensorlab.acquisition.hub import Acquisition
    from sensorlab.acquisition.processors import MovingRMS, ThresholdEvents

    square = lambda t: np.where((t % 1.0) < 0.5, 2.0, 0.0)[:, None].astype(np.float32)  # noqa: E731
    acq = Acquisition([SignalSource("x", rate=200, pattern=square, chunk_size=10), MovingRMS("x", window=0.05, hop=0.05),
                       ThresholdEvents("x_rms", above=1.0, below=0.5, name="loud")])
    acq.open()
    acq.start()
    try:
        view = LiveView(acq, window=5.0)
        qtbot.addWidget(view)
        view.show()
        assert isinstance(view.panels["x_rms"], TimeseriesPanel) and isinstance(view.panels["loud"], EventsPanel)

        def drawn_both_levels() -> bool:
            _, y = view.panels["x_rms"].curves[0].getOriginalDataset()
            return y is not None and len(y) > 0 and np.nanmax(y) > 1.99 and np.nanmin(y) < 1e-6

        # Wait for a full high and a full low window on screen, and a crossing event.
        qtbot.waitUntil(lambda: view.panels["loud"].count >= 1 and drawn_both_levels(), timeout=20_000)
        _, y = view.panels["x_rms"].curves[0].getOriginalDataset()
        assert np.nanmax(y) == pytest.approx(2.0, rel=1e-4) and np.nanmin(y) == pytest.approx(0.0, abs=1e-6)
        texts = {m.text for m in view.panels["loud"].markers}
        assert texts and texts <= {"loud start", "loud stop"}  # the JSON events shown as their label
        view.shutdown()
    finally:
        acq.close()
