"""What a first-time user saw wrong on the labeling timeline of a demo recording: claps missing
from the zoomed-out spectrogram, and a span's label cut to its last letters once its start
scrolled out of view."""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.labeling.labelset import LabelSet
from sensorlab.session.reader import Session
from sensorlab.session.synthetic import T0, write_streams
from tests.app.conftest import write_clap_audio

RATE = 8000


def _clappy_session(path, seconds=16.0, clap_s=0.02, claps=(1.37, 3.37, 5.37, 7.37, 9.37, 11.37, 13.37)):
    """Quiet mono audio with short 1 kHz bursts ("claps") at known times."""
    write_clap_audio(path, claps, seconds, RATE, clap_s)
    return claps


def test_zoomed_out_spectrogram_shows_every_short_clap(tmp_path, qtbot):
    from sensorlab.app.labeling.spectrogram_track import SpectrogramTrack

    claps = _clappy_session(tmp_path / "c.h5")
    with Session.open(tmp_path / "c.h5") as s:
        track = SpectrogramTrack(s.streams["mic"], T0)
        t0, t1 = T0, T0 + 16.0
        track.settle(t0, t1, pixels=200)  # 100 columns of 160 ms each: a 20 ms clap is 1/8 of one
        img = track.image.image  # dB, rows = frequency bins, columns = time
        cols = img.shape[1]
        row = round(1000.0 * track.NFFT / RATE)
        for c in claps:
            col = int((c + 0.01) / 16.0 * cols)
            loudest = img[row - 2 : row + 3, max(0, col - 1) : col + 2].max()
            assert loudest > -30.0, f"clap at {c} s not in the spectrogram ({loudest:.0f} dB)"
        quiet = int(0.7 / 16.0 * cols)  # between claps the image stays at the noise floor
        assert img[row - 2 : row + 3, quiet].max() < -60.0


@pytest.fixture
def view(tmp_path, open_view):
    _clappy_session(tmp_path / "run.h5")
    return open_view(tmp_path / "run.h5", LabelSet.from_names(["clap", "speech"]), size=(1200, 600))


def test_a_span_whose_start_scrolled_out_shows_its_whole_label_at_the_left_edge(view, qtbot):
    from sensorlab.labeling.annotations import Segment
    from sensorlab.labeling.commands import AddSegment

    tl, av = view.timeline, view.annotation_view
    seg = Segment.create("live", "speech", T0 + 7.0, T0 + 12.0)
    av.push(AddSegment(seg))
    tl.set_view(T0 + 8.0, T0 + 11.0)  # zoomed in on the middle of the span
    tl.refresh()
    qtbot.waitUntil(lambda: seg.id in av.items, timeout=10_000)
    item = av.items[seg.id]
    vb = av.lanes["live"].viewbox
    left, right = vb.viewRange()[0]
    assert item.text.toPlainText() == "speech"
    # Drawn from the visible left edge (not from 7 s, behind the axis, showing only "h").
    assert left - 1e-6 <= item.text.pos().x() < left + 0.01 * (right - left)
    tl.set_view(T0 + 6.0, T0 + 9.0)  # the start back in view: the label is at the start again
    tl.refresh()
    qtbot.waitUntil(lambda: seg.id in av.items, timeout=10_000)
    item = av.items[seg.id]
    assert item.text.pos().x() == pytest.approx(7.0 + T0 - tl.origin)


def test_track_names_fit_beside_their_tracks(tmp_path, qtbot, open_view):
    """Rotated axis labels longer than their track ran into the next one's ("1000 Hztimeseries")
    on the demo recording: six signal streams and the spectrogram in a 900 px window."""
    from sensorlab.app.labeling.spectrogram_track import SpectrogramTrack
    from sensorlab.app.labeling.tracks import SignalTrack

    path = tmp_path / "s.h5"
    seconds, n = 4.0, 4000
    t = T0 + np.arange(n) / 1000.0
    wave = np.sin(np.arange(2 * n, dtype=np.float32)).reshape(n, 2)
    streams = {f"ts{i}": (StreamInfo(f"ts{i}", StreamKind.TIMESERIES, 1000, channel_names=("a", "b"), dtype="float32", sample_shape=(2,)),
                          Chunk(wave, t))
               for i in range(5)}  # fmt: skip
    streams["mic"] = (StreamInfo("mic", StreamKind.AUDIO, RATE, channel_names=("m",), dtype="float32", sample_shape=(1,)),
                      Chunk(np.zeros((int(seconds * RATE), 1), np.float32), T0 + np.arange(int(seconds * RATE)) / RATE))
    write_streams(path, streams, stop=T0 + seconds)
    v = open_view(path, LabelSet.from_names(["walk"]), size=(1400, 900))
    tracks = [t for t in v.timeline.tracks if isinstance(t, (SignalTrack, SpectrogramTrack))]
    assert len(tracks) == 7
    for tr in tracks:
        axis = tr.plot.getAxis("left")
        qtbot.waitUntil(lambda axis=axis: axis.height() > 0, timeout=10_000)
        assert axis.label.boundingRect().width() <= axis.height(), f"{tr.name}: label longer than its track"


def test_a_recording_gap_is_not_bridged_by_a_line(tmp_path, qtbot):
    # The overview drew a straight line across a 6 s stretch with no samples (a device that was
    # unplugged), as if the signal had ramped there; zoomed in, the curve simply stopped.
    from sensorlab.app.labeling.tracks import SignalTrack
    from sensorlab.session.pyramid import Pyramid

    rate, path = 200.0, tmp_path / "gap.h5"
    imu = StreamInfo("imu", StreamKind.TIMESERIES, rate, channel_names=("a",), dtype="float32", sample_shape=(1,))
    before, after = np.arange(0, 20.0, 1 / rate), np.arange(26.0, 60.0, 1 / rate)  # nothing in 20-26 s
    write_streams(path, {"imu": (imu, [Chunk(np.sin(t)[:, None].astype(np.float32), T0 + t) for t in (before, after)])},
                  stop=T0 + 60.0)
    with Session.open(path) as s:
        track = SignalTrack(s.streams["imu"], Pyramid.open(s, tmp_path / "gap.pyr"), T0)
        for t0, t1, pixels in ((T0, T0 + 60, 300), (T0 + 15, T0 + 31, 4000)):  # an envelope, then raw samples
            track.update_range(t0, t1, pixels)
            curve = track.curves[0]
            if curve._segments:  # an envelope: a vertical line per pixel column, none in the gap
                x = np.asarray(curve.getData()[0])
                assert x.min() < 20.0 and x.max() > 26.0 and not ((x > 20.5) & (x < 25.5)).any(), track.level
                continue
            pieces = [fn_points(p) for p in curve._pieces] or [fn_points(curve._poly)]
            spans = [np.diff(p[:, 0]).max() for p in pieces if len(p) > 1]
            assert len(pieces) == 2 and max(spans) < 5.0, (track.level, [(p[0, 0], p[-1, 0]) for p in pieces])
            assert pieces[0][-1, 0] <= 20.0 and pieces[1][0, 0] >= 26.0 - 0.5


def fn_points(poly) -> np.ndarray:
    import pyqtgraph.functions as fn

    return fn.ndarray_from_qpolygonf(poly).copy()


def test_the_spectrogram_is_computed_off_the_gui_thread_and_a_stale_one_is_dropped(tmp_path, qtbot):
    # A zoomed-out view came to rest and the window froze while ~450 reads and FFTs ran on the
    # GUI thread. Now they run on a worker; when the view moved on meanwhile, only the newest
    # request is shown.
    import threading

    from sensorlab.app.labeling.spectrogram_track import SpectrogramTrack

    claps = _clappy_session(tmp_path / "c.h5")
    with Session.open(tmp_path / "c.h5") as s:
        track = SpectrogramTrack(s.streams["mic"], T0)
        threads = []
        compute = track.compute
        track.compute = lambda *a: (threads.append(threading.current_thread()), compute(*a))[1]
        track.settle_later(T0, T0 + 16.0, 200)  # superseded before it is shown
        track.settle_later(T0 + 2.0, T0 + 6.0, 200)
        qtbot.waitUntil(lambda: track.columns > 0 and not track._workers, timeout=30_000)
        assert threading.main_thread() not in threads and len(threads) == 2
        rect = track.image.mapRectToParent(track.image.boundingRect())
        assert rect.left() == pytest.approx(2.0) and rect.right() == pytest.approx(6.0)  # the newest range only
        img = track.image.image
        row = round(1000.0 * track.NFFT / RATE)
        col = int((claps[1] - 2.0 + 0.01) / 4.0 * img.shape[1])  # the clap at 3.37 s is in it
        assert img[row - 2 : row + 3, max(0, col - 1) : col + 2].max() > -30.0
        track.cancel()
        assert track.wait()


def test_a_probability_track_reads_in_its_own_units_not_thousandths(tmp_path, open_view):
    # A model's class probabilities (0.2–0.8) read "200 … 800 (x0.001)": pyqtgraph's SI prefix.
    from PySide6.QtGui import QImage, QPainter

    t = np.arange(0, 20.0, 0.1)
    p = (0.5 + 0.3 * np.sin(t))[:, None].astype(np.float32)
    info = StreamInfo("model_pred", StreamKind.TIMESERIES, 10.0, channel_names=("clap",), dtype="float32", sample_shape=(1,))
    path = write_streams(tmp_path / "pred.h5", {"model_pred": (info, Chunk(p, T0 + t))}, stop=T0 + 20.0)
    v = open_view(path, labels=LabelSet.from_names(["clap"]))
    (track,) = [tr for tr in v.timeline.tracks if tr.name == "model_pred"]
    axis = track.plot.getAxis("left")
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    values = [float(text) for _, _, text in texts]
    assert values and max(values) <= 1.0 and min(values) >= 0.0, values
    assert "x0.001" not in axis.labelString()


def test_a_half_minute_session_at_48_khz_shows_every_clap_zoomed_out(tmp_path, qtbot):
    # The demo rig's microphone (48 kHz) over its first 30 s on a 1400 px window: the overview
    # read one 10 ms window every 60 ms there, and most of the 20 ms claps fell between them
    # (only every third or fourth showed, in a different place on every zoom).
    from sensorlab.app.labeling.spectrogram_track import SpectrogramTrack

    rate, seconds = 48000, 30.0
    claps = tuple(1.37 + 2.0 * i for i in range(14))
    write_clap_audio(tmp_path / "c.h5", claps, seconds, rate, seed=2)
    with Session.open(tmp_path / "c.h5") as s:
        track = SpectrogramTrack(s.streams["mic"], T0)
        track.settle(T0, T0 + seconds, pixels=900)
        img = track.image.image
        cols = img.shape[1]
        row = round(1000.0 * track.NFFT / rate)
        missing = []
        for c in claps:
            col = int((c + 0.01) / seconds * cols)
            loudest = img[row - 2 : row + 3, max(0, col - 1) : col + 2].max()
            if loudest <= -30.0:
                missing.append(c)
        assert not missing, f"claps at {missing} s not in the spectrogram"
