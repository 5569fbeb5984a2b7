"""Fixtures for the GUI tests: offscreen Qt, temp settings, a small rig of seeded sources.

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
    from sensorlab.app.main_window import MainWindow

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
