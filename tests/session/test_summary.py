"""`sensorlab info` data: stream facts and sync quality measured from claps of the simulated world."""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.emulated.world import World
from sensorlab.session import sync
from sensorlab.session.summary import format_summary, summarize

T0 = 100.0


def _world_sources(imu_lag: float = 0.0) -> list[SignalSource]:
    w = World(t0=T0, clap_interval=1.0)
    common = dict(realtime=False, t0=T0)
    return [
        SignalSource("mic", kind="audio", rate=8000, shape=(1,), chunk_size=80, max_samples=32000, pattern=lambda t: w.audio(t), **common),
        SignalSource("imu", rate=1000, shape=(6,), chunk_size=10, max_samples=4000, pattern=lambda t: w.imu(t - imu_lag),
                     channel_names=("ax", "ay", "az", "gx", "gy", "gz"), **common),
        SignalSource("cam", kind="video", rate=30, shape=(48, 64, 3), chunk_size=1, max_samples=120,
                     pattern=lambda t: np.stack([w.video_frame(x, 64, 48) for x in t]), **common),
        SignalSource("radar", kind="frames", rate=20, shape=(64, 32), chunk_size=1, max_samples=80,
                     pattern=lambda t: np.stack([w.radar(x) for x in t]), **common),
    ]


def test_sync_quality_is_measured_from_claps_in_every_modality(make_session):
    path = make_session(*_world_sources(imu_lag=0.005))
    d = summarize(path)
    assert d["sync"]["events"] == {"mic": 4, "imu": 4, "cam": 4, "radar": 4}
    pairs = {frozenset((p["a"], p["b"])): p for p in d["sync"]["pairs"]}
    assert pairs[frozenset(("mic", "imu"))]["median_ms"] == pytest.approx(5.0, abs=0.01)
    assert pairs[frozenset(("mic", "cam"))]["max_ms"] == pytest.approx(0.0, abs=0.01)
    assert d["sync"]["max_ms"] == pytest.approx(5.0, abs=0.01)
    by_name = {s["name"]: s for s in d["streams"]}
    assert by_name["mic"]["samples"] == 32000 and by_name["imu"]["rate_measured"] == pytest.approx(1000)
    text = format_summary(d)
    assert "imu ↔ mic" in text and "median" in text and "radar" in text


def test_summary_says_when_there_is_nothing_to_sync(make_session):
    path = make_session(SignalSource("x", shape=(2,), rate=100, realtime=False, max_samples=200, stall_after=50, stall_for=0.5))
    text = format_summary(path)  # the CLI passes the path
    assert "no common events" in text
    d = summarize(path, measure_sync=False)
    (x,) = [s for s in d["streams"] if s["name"] == "x"]
    assert (x["samples"], x["dropped"], x["gaps"]) == (150, 50, 1) and "sync" not in d


def test_pair_errors_match_nearest_events_within_the_window():
    a = np.array([1.0, 2.0, 3.0, 9.0])
    b = np.array([1.01, 1.99, 3.3, 20.0])
    np.testing.assert_allclose(sync.pair_errors(a, b), [0.01, -0.01])
    assert sync.alignment({"a": a, "b": np.empty(0)})["median_ms"] is None


def test_onsets_merge_a_ringing_clap_into_one_event():
    t = np.arange(0, 2, 1e-3)
    x = np.where((t % 1.0) < 0.01, np.cos(2 * np.pi * 500 * t), 0.0)  # oscillates above/below
    np.testing.assert_allclose(sync.onsets(x, t, 0.3), [0.0, 1.0])
