"""A board that prints its class every window sends the same line ten times a second: the
live view marks each run of repeats once, where it starts, instead of drowning every plot in
lines (seen on the demo rig's clap_mcu)."""

from __future__ import annotations

import threading

import numpy as np

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.source import StreamKind
from sensorlab.app.live.view import LiveView

T0 = 50.0


def test_a_run_of_identical_events_is_marked_once_where_it_starts(qtbot):
    gate = threading.Event()  # the sources hold their samples until the view's rings exist

    def said(ts):  # 10 per second: 2 s of background, then 0.4 s of clap, then background again
        gate.wait(60)
        rel = np.asarray(ts) - T0
        return np.where((rel > 1.95) & (rel < 2.35), "clap", "background").astype(object)

    board = SignalSource("board", kind=StreamKind.EVENTS, rate=10, pattern=said, realtime=False, max_samples=40, chunk_size=3, t0=T0)
    imu = SignalSource("imu", rate=100, realtime=False, max_samples=400, chunk_size=10, t0=T0, pattern=lambda ts: (gate.wait(60), np.zeros((len(ts), 1)))[1])
    acq = Acquisition([board, imu])
    acq.open()
    acq.start()
    try:
        view = LiveView(acq, window=10.0)
        qtbot.addWidget(view)
        view.show()
        panel = view.panels["board"]
        gate.set()
        qtbot.waitUntil(lambda: panel.count == 40, timeout=20_000)
        marks = sorted((round(m.x + view.origin - T0, 3), m.text) for m in panel.markers)
        assert marks == [(0.0, "background"), (2.0, "clap"), (2.4, "background")]
        assert not view.panels["imu"].markers  # events stay on their own panel, off the other plots
        view.shutdown()
    finally:
        acq.close()
