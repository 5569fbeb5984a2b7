"""The microphone panel in a studio with many streams: the live view scrolls and gives each
panel its minimum height; the audio panel's waveform and spectrogram must both stay tall
enough to read their axis labels (a new user saw "mplitud" cut by the edges of a 25 px row)."""

from __future__ import annotations

import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.hub import Acquisition
from sensorlab.app.live.view import LiveView
from tests.app.rendered import shown


@pytest.fixture
def crowded():
    sources = [SignalSource("mic", "audio", rate=16000, shape=(1,), chunk_size=320, pattern="sine")]
    sources += [SignalSource(f"s{i}", "timeseries", rate=100, shape=(3,), chunk_size=10, pattern="sine") for i in range(9)]
    sources.append(SignalSource("events", "events", rate=2, chunk_size=1))
    acq = Acquisition(sources)
    acq.open()
    acq.start()
    yield acq
    acq.close()


def test_audio_rows_fit_their_axis_labels_when_the_view_is_crowded(qtbot, crowded):
    view = shown(qtbot, LiveView(crowded, window=5.0), 900, 400)  # less than the panels want: the time column scrolls
    mic = view.panels["mic"]
    for plot in (mic.plot, mic.spec_plot):
        axis = plot.getAxis("left")
        label = axis.label.boundingRect().width()  # drawn rotated: its width runs along the axis
        qtbot.waitUntil(lambda axis=axis, label=label: axis.height() >= label, timeout=10_000)
        # ... and inside what the panel shows (not pushed out of its view)
        assert axis.sceneBoundingRect().bottom() <= mic.graphics.viewport().height() + 1
    view.shutdown()
