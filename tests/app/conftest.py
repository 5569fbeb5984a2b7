"""Fixtures for the GUI tests: offscreen Qt, temp settings, a small rig of seeded sources, a
labeling view opened on a session file.

The rig uses the core's `SignalSource` (exact, seeded streams of every kind), kept small so
the whole GUI suite runs in well under a minute on two cores.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.source import SourceBase


def small_rig() -> list[SourceBase]:
    """One stream of every kind: 6-ch time series, stereo audio, video, radar frames, markers."""
    return [
        SignalSource("imu", "timeseries", rate=500, shape=(6,), chunk_size=10, pattern="sine"),
        SignalSource("mic", "audio", rate=16000, shape=(2,), chunk_size=320, pattern="sine"),
        SignalSource("cam", "video", rate=15, shape=(120, 160, 3), chunk_size=1),
        SignalSource("radar", "frames", rate=10, shape=(16, 8), chunk_size=1, pattern="sine"),
        SignalSource("markers", "events", rate=2, chunk_size=1),
    ]


@pytest.fixture
def settings(tmp_path):
    """A QSettings stored in the test's temp dir (never the user's real settings)."""
    from PySide6.QtCore import QSettings

    s = QSettings(str(tmp_path / "sensorlab.ini"), QSettings.Format.IniFormat)
    s.setValue("session/folder", str(tmp_path / "sessions"))
    return s


@pytest.fixture
def fake_acquisition():
    """An opened and started `Acquisition` over `small_rig`; closed after the test."""
    from sensorlab.acquisition.hub import Acquisition

    acq = Acquisition(small_rig())
    acq.open()
    acq.start()
    yield acq
    acq.close()


@pytest.fixture
def make_window(qtbot, settings):
    """Build a `MainWindow` on ``sources`` (default `small_rig`) and wait until it is live."""
    from sensorlab.app.studio.main_window import MainWindow

    windows = []

    def make(sources=None, wait=True):
        w = MainWindow(small_rig() if sources is None else sources, settings=settings)
        qtbot.addWidget(w)
        windows.append(w)
        w.resize(1200, 800)
        w.show()
        if wait:
            with qtbot.waitSignal(w.acquisition_ready, timeout=10_000):
                pass
        return w

    yield make
    for w in windows:
        w.close()


@pytest.fixture
def open_view(qtbot, tmp_path):
    """Open a `LabelingView` on a session file and wait until it is shown with its tracks.

    ``open_view(path, labels=None, size=(1200, 800))``; ``labels`` defaults to the labels of
    `sensorlab.session.synthetic` sessions. The first open builds the pyramid in a worker, so
    the view is ready only after ``session_ready``. Views are closed after the test.
    """
    from PySide6.QtCore import QSettings

    from sensorlab.app.labeling.view import LabelingView
    from sensorlab.labeling.labelset import LabelSet
    from sensorlab.session.synthetic import LABELS

    views = []

    def make(path, labels=None, size=(1200, 800)):
        # Settings in the test's folder: the user's (suggestion settings, last model) never leak in or out.
        ini = QSettings(str(tmp_path / "labeling.ini"), QSettings.Format.IniFormat)
        v = LabelingView(path, labels or LabelSet.from_names(list(LABELS)), play_audio=False, settings=ini)
        qtbot.addWidget(v)
        views.append(v)
        v.resize(*size)
        if v.timeline is None:  # the pyramid is built in a worker first
            with qtbot.waitSignal(v.session_ready, timeout=30_000):
                v.show()
        else:
            v.show()
        qtbot.waitExposed(v)
        return v

    yield make
    for v in views:
        v.close()


#: The labels the labeling tests give the 40 s synthetic session (`synthetic_session`).
SYNTHETIC_LABELS = ("walk", "wave", "clap")


@pytest.fixture(scope="module")
def synthetic_session(tmp_path_factory):
    """A 40 s synthetic session with small audio and video, written once per test module."""
    from sensorlab.session.synthetic import write_synthetic_session

    return write_synthetic_session(tmp_path_factory.mktemp("synthetic") / "run.h5", 40.0, audio_rate=8000, frame_shape=(12, 16))


@pytest.fixture
def synthetic_view(synthetic_session, tmp_path, open_view):
    """A labeling view on the test's own copy of `synthetic_session` (labels `SYNTHETIC_LABELS`)."""
    from sensorlab.labeling.labelset import LabelSet

    p = tmp_path / "run.h5"
    p.write_bytes(synthetic_session.read_bytes())
    return open_view(p, LabelSet.from_names(list(SYNTHETIC_LABELS)))


@pytest.fixture
def live_view(qtbot, fake_acquisition):
    """A `LiveView` of `small_rig` (5 s window, 1000 × 800, shown) whose frames the test drives
    (its timer stopped; `scroll_live_view`), once every time panel has drawn; shut down after."""
    import numpy as np

    from sensorlab.app.live.view import LiveView

    v = LiveView(fake_acquisition, window=5.0)
    qtbot.addWidget(v)
    v.timer.stop()  # frames are driven by the test
    v.resize(1000, 800)
    v.show()
    qtbot.waitUntil(lambda: v.refresh() or all(np.isfinite(p.newest) for p in v.time_panels), timeout=20_000)
    yield v
    v.shutdown()


def scroll_live_view(qtbot, view, frames: int) -> list[tuple[float, float]]:
    """Refresh and paint ``view`` ``frames`` times, each after new data arrived; the x ranges shown."""
    ranges = []
    for _ in range(frames):
        newest = max(p.newest for p in view.time_panels)
        qtbot.waitUntil(lambda: any(r.snapshot() is not None and r.snapshot().timestamps[-1] > newest for r in view._rings.values()), timeout=10_000)
        view.refresh()
        view.grab()  # paints every plot now
        ranges.append(tuple(view.master_plot.getViewBox().viewRange()[0]))
    return ranges


def write_clap_audio(path, claps, seconds: float, rate: int = 8000, clap_s: float = 0.02, seed: int = 1, start: float | None = None):
    """A session of quiet mono audio (``mic``) with short 1 kHz bursts ("claps") at ``claps``
    seconds from its first sample (at `synthetic.T0`); ``start``: the session's start, when
    samples come before it (a studio recording's pre-roll). Returns ``path``."""
    import numpy as np

    from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
    from sensorlab.session.synthetic import T0, write_streams

    n = int(seconds * rate)
    t = np.arange(n) / rate
    x = (1e-4 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)
    for c in claps:
        on = (t >= c) & (t < c + clap_s)
        x[on] += 0.8 * np.sin(2 * np.pi * 1000.0 * t[on]).astype(np.float32)
    mic = StreamInfo("mic", StreamKind.AUDIO, rate, channel_names=("m",), dtype="float32", sample_shape=(1,))
    return write_streams(path, {"mic": (mic, Chunk(x[:, None], T0 + t))}, start=T0 if start is None else start, stop=T0 + seconds)
