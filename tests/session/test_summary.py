"""`sensorlab info` data: stream facts and sync quality measured from claps of the simulated world."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from sensorlab.acquisition.clock import ClockFit
from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.source import SourceBase, SourceError
from sensorlab.acquisition.emulated.world import World
from sensorlab.session import sync
from sensorlab.session.reader import Session
from sensorlab.session.summary import format_summary, summarize
from sensorlab.session.writer import clock_footers

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


class _Unplugged(SourceBase):
    def __init__(self):
        super().__init__("serial /dev/ttyACM3 (wrist)")

    def _open(self) -> None:
        raise SourceError("/dev/ttyACM3: no such port (is the board plugged in?)")


def test_devices_that_failed_to_open_are_listed_as_not_recorded(make_recorder):
    x = SignalSource("x", shape=(2,), rate=100, realtime=False, max_samples=50)
    rec, _ = make_recorder(x, _Unplugged())
    assert x.wait(20)
    path = rec.stop()
    d = summarize(path, measure_sync=False)
    assert d["source_errors"] == {"serial /dev/ttyACM3 (wrist)": "/dev/ttyACM3: no such port (is the board plugged in?)"}
    text = format_summary(d)
    assert "not recorded" in text and "serial /dev/ttyACM3 (wrist) (/dev/ttyACM3: no such port" in text


def test_drift_not_yet_estimated_is_nan_in_the_file_and_a_dash_in_info(make_session):
    # Half a second of device time: too little for even an estimate (since 1.3 a couple of
    # seconds give one, with its error: tests/session/test_drift_estimate.py).
    path = make_session(SignalSource("mcu", shape=(2,), rate=200, chunk_size=20, realtime=False, max_samples=100, device_time=True))
    with h5py.File(path, "r") as f:
        a = f["streams/mcu"].attrs
        assert np.isnan(a["clock_slope"]) and np.isnan(a["clock_drift_ppm"]) and np.isfinite(a["clock_offset"])
    (line,) = [x for x in format_summary(path).splitlines() if x.strip().startswith("mcu")]
    assert line.split()[-1] == "-"


def test_a_fitted_drift_is_stored():
    fit = ClockFit()
    for k in range(400):  # 40 s of device time, device 100 ppm fast
        fit.add(device_time=k * 0.1 * 1.0001, host_time=5.0 + k * 0.1)
    c = clock_footers(fit)
    assert c["clock_drift_ppm"] == pytest.approx(100, abs=1) and c["clock_slope"] < 1
    assert clock_footers(None) == {}


def _crashed(make_session, **layout):
    """A session of a 3000-sample ``imu`` and a 30-frame ``cam`` (the source of ``imu`` returned
    too), open in ``r+`` as a writer that crashed leaves it: no completion attributes, no
    per-stream footers (the layout attribute too: the reader recognises the layout by its
    datasets). The caller adds what the crash left half written."""
    src = SignalSource("imu", shape=(3,), rate=1000, chunk_size=10, realtime=False, max_samples=3000, t0=50.0)
    cam = SignalSource("cam", kind="video", shape=(16, 16, 3), rate=30, chunk_size=1, realtime=False, max_samples=30, t0=50.0)
    f = h5py.File(make_session(src, cam, **layout), "r+")
    for k in ("complete", "end_host_time", "stop_reason"):
        del f.attrs[k]
    for name in ("imu", "cam"):
        g = f["streams"][name]
        for k in list(g.attrs):
            if k not in ("info", "kind", "storage", "jpeg_quality"):
                del g.attrs[k]
    return f, src


def test_unwritten_tail_of_a_crashed_file_is_not_read(make_session):
    f, src = _crashed(make_session, time_layout="samples")  # the per-sample layout (see below for the compact one)
    path = f.filename
    with f:  # what a crash during a flush leaves: grown datasets, chunks never written
        g = f["streams/imu"]
        g["timestamps"][2000:2500] = 0.0  # an old file's fill value, in the middle
        g["timestamps"].resize(3500, axis=0)  # NaN fill
        g["data"].resize(3500, axis=0)
        c = f["streams/cam"]
        c["index"].resize(40, axis=0)  # (0, 0) rows
        c["timestamps"].resize(40, axis=0)
        c["timestamps"][30:] = 60.0  # timestamps made it, the index did not
        h = g["health"]
        h.resize(len(h) + 1, axis=0)  # a health row that never reached the disk
    with Session.open(path) as s:
        imu, cam_r = s.streams["imu"], s.streams["cam"]
        assert not s.complete and imu.count == 2000 and imu.stats.samples == 2000
        assert imu.last_time == src.timestamps(1999) and imu.duration == pytest.approx(2.0)
        assert cam_r.count == 30 and cam_r.read_index().data.shape == (30, 16, 16, 3)
        assert imu.health["time"].min() > 0
        assert s.duration >= 0


def test_unwritten_tail_of_a_crashed_compact_file_is_not_read(make_session):
    """The compact time layout after a crash during a flush: run rows never written (count 0),
    a run whose explicit times never reached the disk (NaN), data grown past the times."""
    f, src = _crashed(make_session)
    path = f.filename
    with f:
        g = f["streams/imu"]
        runs = g["timestamps_segments"]
        runs.resize(len(runs) + 3, axis=0)  # rows that never reached the disk: the fill value, count 0
        g["data"].resize(3500, axis=0)
        c = f["streams/cam"]
        c["index"].resize(40, axis=0)
        runs = c["timestamps_segments"]
        end = int(runs[-1]["start"] + runs[-1]["count"])
        runs.resize(len(runs) + 1, axis=0)
        runs[-1] = (end, 10, 60.0, np.nan, 0)  # the row made it; its explicit times did not (NaN fill)
    with Session.open(path) as s:
        imu, cam_r = s.streams["imu"], s.streams["cam"]
        assert imu.time_layout.value == "compact" and not s.complete
        assert imu.count == 3000 and imu.last_time == src.timestamps(2999)
        assert cam_r.count == 30 and cam_r.read_index().data.shape == (30, 16, 16, 3)
