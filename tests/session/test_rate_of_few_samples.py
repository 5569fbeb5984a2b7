"""`sensorlab info`'s measured rate needs more than one interval: a model's two predictions
made 1 ns apart were listed as "measured 1000000000.00"."""

from __future__ import annotations

import numpy as np

from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.reader import Session
from sensorlab.session.summary import format_summary, summarize
from sensorlab.session.writer import SessionWriter


def _write(path, stamps, gaps=()):
    info = StreamInfo("clap_pred", StreamKind.TIMESERIES, 10.0, ("p",), sample_shape=(1,))
    w = SessionWriter(path)
    w.on_start({info.name: info}, SessionMetadata(name=path.stem).stamped_start(5000.0))
    w.on_chunk(info.name, Chunk(np.ones((len(stamps), 1), np.float32), 5000.0 + np.asarray(stamps)))
    footer = {info.name: {"gaps": np.asarray([(5000.0 + a, 5000.0 + b) for a, b in gaps]).reshape(-1, 2)}} if gaps else {}
    w.on_stop(footer, {"complete": True, "stop_reason": "stopped"})
    return path


def test_two_samples_a_nanosecond_apart_have_no_measured_rate(tmp_path):
    path = _write(tmp_path / "two.h5", [1.0, 1.0 + 1e-6])
    with Session.open(path) as s:
        assert np.isnan(s.streams["clap_pred"].rate_measured)
    summary = summarize(path, measure_sync=False)
    (row,) = summary["streams"]
    assert np.isnan(row["rate_measured"])
    assert "1000000" not in format_summary(summary)


def test_three_samples_give_their_rate(tmp_path):
    path = _write(tmp_path / "three.h5", [1.0, 1.25, 1.5])
    with Session.open(path) as s:
        assert s.streams["clap_pred"].rate_measured == 4.0


def test_an_unplugged_stretch_leaves_the_rate_while_the_device_was_there(tmp_path):
    stamps = [*(1.0 + 0.1 * np.arange(11)), *(12.0 + 0.1 * np.arange(11))]  # 10 Hz, 10 s away
    path = _write(tmp_path / "gap.h5", stamps, gaps=[(2.0, 12.0)])
    (row,) = summarize(path, measure_sync=False)["streams"]
    assert row["gaps"] == 1 and row["gap_seconds"] == 10.0
    assert abs(row["rate_measured"] - 10.0) < 1e-6


def test_a_gap_wider_than_the_stream_gives_no_rate_rather_than_billions(tmp_path):
    # A predictions stream stores its input's gaps: one longer than the windows made around it
    # left a nanosecond "present" and `info` printed 16,000,000,000 Hz.
    path = _write(tmp_path / "wide.h5", 1.0 + 0.1 * np.arange(17), gaps=[(0.9, 27.0)])
    summary = summarize(path, measure_sync=False)
    (row,) = summary["streams"]
    assert np.isnan(row["rate_measured"])
    assert "000000" not in format_summary(summary)
