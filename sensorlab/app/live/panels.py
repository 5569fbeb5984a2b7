"""One live panel per stream kind, and which panel draws which stream (`panel_for`).

The panels, one module each: `Panel` (the base: title, markers, plot settings) in
`panel.py`; `TimeseriesPanel` in `timeseries.py`; `AudioPanel` (waveform +
spectrogram) in `audio.py`; `ImagePanel` (video, frames) in `image.py`;
`EventsPanel` in `events.py`; their display buffers in `buffers.py`. A model's
predictions get `prediction_panel.PredictionPanel`. They are imported here too, so
``from sensorlab.app.live.panels import TimeseriesPanel`` keeps working.
"""

from __future__ import annotations

import math

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import StreamInfo, StreamKind
from sensorlab.app.live.audio import AudioPanel
from sensorlab.app.live.buffers import PeakEnvelope, RollingBuffer, coarsen
from sensorlab.app.live.events import EventsPanel
from sensorlab.app.live.image import ImagePanel
from sensorlab.app.live.panel import PALETTE, Panel
from sensorlab.app.live.prediction_panel import PredictionPanel
from sensorlab.app.live.timeseries import TimeseriesPanel

__all__ = ["PALETTE", "AudioPanel", "EventsPanel", "ImagePanel", "Panel", "PeakEnvelope", "RollingBuffer", "TimeseriesPanel",
           "coarsen", "nice", "panel_for", "ring_seconds"]


def panel_for(info: StreamInfo, ring: ChunkRing, origin: float, window: float) -> Panel:
    """The panel class that draws ``info``'s kind (a model's predictions: `PredictionPanel`)."""
    from sensorlab.inference import is_predictions

    if is_predictions(info):
        return PredictionPanel(info, ring, origin, window)
    cls = {
        StreamKind.TIMESERIES: TimeseriesPanel,
        StreamKind.AUDIO: AudioPanel,
        StreamKind.VIDEO: ImagePanel,
        StreamKind.FRAMES: ImagePanel,
        StreamKind.EVENTS: EventsPanel,
    }[info.kind]
    return cls(info, ring, origin, window)


def ring_seconds(info: StreamInfo, window: float) -> tuple[float, int | None]:
    """How much the display ring of ``info`` must hold: (seconds, max samples)."""
    if info.kind in (StreamKind.VIDEO, StreamKind.FRAMES):
        return 1.0, 4  # only the newest image is drawn
    return window + 1.0, None


def nice(x: float) -> str:
    """Short human rendering of a rate or count."""
    if not math.isfinite(x):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"
