"""Crafted session files whose timestamps go backwards are reported, never summarised silently.

Before the fix ``sensorlab info`` printed a 0.0 s duration for a stream whose time zig-zags,
94,557 Hz for a 16 kHz stream, a bogus sync error, and label import succeeded without a word.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.emulated.world import World
from sensorlab.labeling.cli_commands import import_labels
from sensorlab.session.reader import Session
from sensorlab.session.summary import format_summary, summarize

T0 = 100.0


def _session(make_session):
    w = World(t0=T0, clap_interval=1.0)
    common = dict(realtime=False, t0=T0)
    return make_session(
        SignalSource("mic", kind="audio", rate=16000, shape=(1,), chunk_size=160, max_samples=64000, pattern=lambda t: w.audio(t), **common),
        SignalSource("imu", rate=1000, shape=(6,), chunk_size=10, max_samples=4000, pattern=w.imu,
                     channel_names=("ax", "ay", "az", "gx", "gy", "gz"), **common),
        time_layout="samples",  # `_rewrite` damages the per-sample timestamps in place
    )


def _rewrite(path, stream: str, how: str) -> None:
    with h5py.File(path, "r+") as f:
        ds = f[f"streams/{stream}/timestamps"]
        ts = ds[:]
        if how == "reversed":
            ts = ts[::-1].copy()
        else:  # zig-zag: every second block of 0.5 s shifted back by 0.25 s, ending where it started
            n = len(ts)
            block = n // 8
            for b in range(1, 8, 2):
                ts[b * block : (b + 1) * block] -= 0.25
            ts[-1] = ts[0] + 1e-4  # last ≈ first: the old duration came out ~0 and the rate absurd
        ds[:] = ts


@pytest.mark.parametrize("how", ["reversed", "zigzag"])
def test_info_reports_time_going_backwards_and_keeps_duration_and_rate_sane(make_session, how):
    path = _session(make_session)
    _rewrite(path, "mic", how)
    d = summarize(path)
    mic = {s["name"]: s for s in d["streams"]}["mic"]
    imu = {s["name"]: s for s in d["streams"]}["imu"]
    assert mic["time_backward"] > 0 and imu["time_backward"] == 0
    assert mic["duration"] == pytest.approx(4.0, abs=0.3)
    assert mic["rate_measured"] == pytest.approx(16000, rel=0.1)
    assert "mic" not in d["sync"]["events"]  # its events cannot be compared with the others
    text = format_summary(d)
    (warning,) = [x for x in text.splitlines() if "time goes backwards" in x]
    assert warning.strip().startswith("! mic:") and "edited or damaged" in warning
    assert "imu: time goes" not in text
    with Session.open(path) as s:
        assert len(s.time_problems()) == 1


def test_label_import_into_a_session_with_broken_time_warns_and_keeps_the_labels(make_session, tmp_path):
    path = _session(make_session)
    _rewrite(path, "imu", "zigzag")
    labels = tmp_path / "labels.txt"
    labels.write_text("100.5\t101.0\tclap\n")  # host-clock seconds: the sources start at T0
    msg = import_labels(path, labels, absolute=True)
    assert msg.startswith("imported 1 segments")
    assert "\nwarning: imu: time goes backwards" in msg


def test_a_clean_session_has_no_time_problems(make_session, tmp_path):
    path = _session(make_session)
    assert all(s["time_backward"] == 0 and s["time_error"] == "" for s in summarize(path, measure_sync=False)["streams"])
    labels = tmp_path / "labels.txt"
    labels.write_text("100.5\t101.0\tclap\n")  # host-clock seconds: the sources start at T0
    assert "warning" not in import_labels(path, labels, absolute=True)


def test_a_device_clock_step_is_counted_as_a_re_anchor_and_shown_by_info(tmp_path):
    from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
    from sensorlab.session.metadata import SessionMetadata
    from sensorlab.session.writer import SessionWriter, clock_footers

    # A rate-clocked serial stream that lost 0.3 s of lines after 20 s: its line clock lags the
    # arrivals from then on. The writer's fit re-anchors once and keeps a sane drift figure.
    info = StreamInfo("imu", StreamKind.TIMESERIES, 100.0, ("x",), dtype="float32", sample_shape=(1,), has_device_time=True)
    path = tmp_path / "step.h5"
    w = SessionWriter(path)
    w.on_start({"imu": info}, SessionMetadata(name="step", start_host_time=T0, schema_version="1.2"))
    for c in range(400):  # 40 s in 0.1 s chunks
        k = np.arange(c * 10, c * 10 + 10)
        device = k / 100.0
        arrival = T0 + device[-1] + 0.001 + (0.3 if c >= 200 else 0.0)
        ts = T0 + device + (0.3 if c >= 200 else 0.0)
        w.on_chunk("imu", Chunk(np.zeros((10, 1), np.float32), ts, device, np.full(10, arrival)))
    store = w.stores["imu"]
    w.on_stop({"imu": {"count": store.count, **clock_footers(store.clock)}}, {"complete": True, "stop_reason": "stopped"})
    with Session.open(path) as s:
        assert s.streams["imu"].clock["reanchors"] == 1
        assert abs(s.streams["imu"].clock["drift_ppm"]) < 50  # not the 7,500 ppm a tilted fit reports
    text = format_summary(summarize(path, measure_sync=False))
    assert "clock re-anchored 1 time(s)" in text
