"""Which timeline track (or frame preview) shows which stream of a session.

Audio: its waveform (drawn from the overview pyramid, twice the height of other lanes) and a
spectrogram under it; time series: one lane of curves; events other than the live labels
(which are annotations, shown by `AnnotationView`): text markers coloured like the label they
name; video and frames: a preview of the frame at the cursor, beside the timeline.
"""

from __future__ import annotations

from collections.abc import Callable

from sensorlab.acquisition.source import StreamKind
from sensorlab.app.labeling.events_track import EventsTrack
from sensorlab.app.labeling.frame_preview import FramePreview
from sensorlab.app.labeling.timeline import Timeline
from sensorlab.app.labeling.spectrogram_track import SpectrogramTrack
from sensorlab.app.labeling.tracks import SignalTrack
from sensorlab.labeling.session_labels import LABELS_STREAM as LIVE_LABELS_STREAM
from sensorlab.session.pyramid import Pyramid
from sensorlab.session.reader import Session


def build_timeline(session: Session, pyramid: Pyramid, begin: float, end: float, origin: float,
                   color_of: Callable[[str], str]) -> tuple[Timeline, list[FramePreview]]:  # fmt: skip
    """A timeline over ``begin``–``end`` (host clock, ``origin`` shown as 00:00) with a track per
    recorded stream, and the frame previews of the video streams (for the caller to place).

    ``color_of(label)`` colours an event marker by the label its text starts with. The finest
    zoom shows about 20 samples of the fastest stream.
    """
    streams = session.streams
    rates = [s.info.nominal_rate for s in streams.values() if s.info.nominal_rate > 0]
    tl = Timeline(origin=origin, t_begin=begin, t_end=end, min_span=20.0 / max(rates, default=1000.0))
    previews: list[FramePreview] = []
    for s in streams.values():
        if not s.count:
            continue
        kind = s.info.kind
        if kind is StreamKind.AUDIO:
            tr = SignalTrack(s, pyramid, origin, y_range=(-1.0, 1.0))
            tr.stretch = 2
            tl.add_track(tr)
            tl.add_track(SpectrogramTrack(s, origin))
        elif kind is StreamKind.TIMESERIES:
            tl.add_track(SignalTrack(s, pyramid, origin))
        elif kind is StreamKind.EVENTS and s.name != LIVE_LABELS_STREAM:
            tl.add_track(EventsTrack(s, origin, colors=lambda text: color_of(text.split(" ")[0])))
        elif kind in (StreamKind.VIDEO, StreamKind.FRAMES):
            previews.append(FramePreview(s, origin))
    return tl, previews


__all__ = ["build_timeline"]
