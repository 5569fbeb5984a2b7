"""Clap-to-sync: offsets measured from claps, stored beside the session, applied by the reader, undoable."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from sensorlab.cli import app
from sensorlab.session import sync_offsets
from sensorlab.session.calibration import calibrate_session, rising_crossings
from sensorlab.session.reader import Session
from sensorlab.session.summary import format_summary
from sensorlab.session.sync_report import format_report, plot, report
from sensorlab.session.synthetic_claps import clap_times, write_clap_session

runner = CliRunner()
INJECTED = {"cam": 0.037, "imu": -0.012, "radar": 0.021}
PERIOD = {"cam": 1 / 30, "imu": 1 / 1000, "radar": 1 / 20}


@pytest.fixture
def clap_session(tmp_path):
    return write_clap_session(tmp_path / "claps.h5", 12.0, INJECTED)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_calibration_recovers_injected_offsets_within_one_sample_or_frame(tmp_path, seed):
    path = write_clap_session(tmp_path / "claps.h5", 12.0, INJECTED, seed=seed)
    cal = calibrate_session(path)
    assert cal.reference == "mic"  # the finest stream
    for name, offset in INJECTED.items():
        got = cal.offsets[name]
        assert abs(got.offset - offset) < PERIOD[name], f"{name}: {got.offset * 1e3:.1f} ms, injected {offset * 1e3:.1f} ms"
        assert got.events == len(clap_times(12.0))
    # Sub-sample: the 1 kHz IMU lands well inside its 1 ms sample.
    assert abs(cal.offsets["imu"].offset - INJECTED["imu"]) < 0.6e-3


def test_interpolated_onset_falls_between_samples():
    t = np.arange(10) * 0.1
    x = np.zeros(10)
    x[4:] = 4.0  # a step that happened between 0.3 and 0.4
    assert rising_crossings(x, t, 2.0)[0] == pytest.approx(0.35)


def test_apply_stores_a_sidecar_the_reader_applies_and_undo_restores_raw_times(clap_session):
    with Session.open(clap_session, raw_times=True) as s:  # the times stored in the file
        raw = s.streams["cam"].timestamps
    before = clap_session.read_bytes()
    result = runner.invoke(app, ["sync", str(clap_session), "--apply"])
    assert result.exit_code == 0, result.output
    assert "applied" in result.output and "cam: +" in result.output
    assert clap_session.read_bytes() == before  # the recording itself is never rewritten
    stored = json.loads(sync_offsets.sidecar_path(clap_session).read_text())["offsets"]
    with Session.open(clap_session) as s:
        cam = s.streams["cam"]
        np.testing.assert_allclose(cam.timestamps, raw - stored["cam"])
        np.testing.assert_allclose(cam.raw_timestamps, raw)
        assert cam.first_time == pytest.approx(raw[0] - stored["cam"])
        # Time-range reads select by corrected time.
        t0 = cam.timestamps[10]
        c = cam.read(t0, t0 + 0.2)
        assert c.timestamps[0] == pytest.approx(t0) and len(c) == 6
    with Session.open(clap_session, raw_times=True) as s:
        np.testing.assert_allclose(s.streams["cam"].timestamps, raw)
    # Corrected: the clap in the camera now lines up with the true clap time.
    cal_after = calibrate_session(clap_session, raw=False)
    assert abs(cal_after.offsets["cam"].offset) < 1e-6
    result = runner.invoke(app, ["sync", str(clap_session), "--undo"])
    assert result.exit_code == 0 and "none (raw times)" in result.output
    with Session.open(clap_session) as s:
        np.testing.assert_allclose(s.streams["cam"].timestamps, raw)
    assert "nothing to undo" in runner.invoke(app, ["sync", str(clap_session), "--undo"]).output


def test_undo_goes_back_one_application_at_a_time(clap_session):
    sync_offsets.apply(clap_session, {"cam": 0.030})
    sync_offsets.apply(clap_session, {"cam": 0.040, "imu": -0.010})
    assert sync_offsets.load_offsets(clap_session) == {"cam": 0.040, "imu": -0.010}
    assert sync_offsets.undo(clap_session) == {"cam": 0.030}
    assert sync_offsets.undo(clap_session) == {}
    assert not sync_offsets.sidecar_path(clap_session).exists()


def test_a_damaged_sidecar_leaves_raw_times_and_says_so(clap_session):
    sync_offsets.sidecar_path(clap_session).write_text("{not json")
    with Session.open(clap_session) as s:
        assert s.sync_offsets == {} and "claps.sync.json" in s.sync_problem and "delete it" in s.sync_problem
    assert "! " in format_summary(clap_session)


def test_report_judges_alignment_against_each_streams_resolution(clap_session, tmp_path):
    d = report(clap_session)  # no offsets applied: the camera is 37 ms late
    pairs = {(p["a"], p["b"]): p for p in d["pairs"]}
    cam_mic = pairs[("cam", "mic")]
    assert not cam_mic["within_resolution"] and "real offset" in cam_mic["verdict"]
    # The radar's 21 ms is under its 50 ms frame: not called an error.
    mic_radar = pairs[("mic", "radar")]
    assert mic_radar["resolution_ms"] == pytest.approx(50) and mic_radar["within_resolution"]
    assert "within one sample of radar (50 ms at 20 Hz)" in mic_radar["verdict"]
    sync_offsets.apply(clap_session, calibrate_session(clap_session).as_dict())
    d = report(clap_session)
    assert all(p["within_resolution"] for p in d["pairs"])
    text = format_report(d)
    assert "offsets applied" in text and "cam +" in text
    png = plot(d, tmp_path / "sync.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_info_states_pair_errors_against_resolution(clap_session):
    text = format_summary(clap_session)
    assert "within one sample of radar (50 ms at 20 Hz): not resolvable finer" in text
    assert "beyond one sample of cam" in text


def test_sync_without_claps_says_what_to_do(tmp_path):
    from sensorlab.session.synthetic import write_synthetic_session

    path = write_synthetic_session(tmp_path / "quiet.h5", 3.0, audio_rate=8000, imu_rate=100, predictions=False)
    result = runner.invoke(app, ["sync", str(path)])
    assert result.exit_code == 1 and "clap a few times" in result.output


def test_a_camera_with_irregular_frame_times_is_not_given_a_zero_error():
    """A USB or MJPEG camera is stamped per frame (irregular): its result read "± 0.0 ms … one
    sample is 0 ms" from one clap, a precision no 30 fps camera has."""
    from sensorlab.acquisition.source import IRREGULAR, StreamInfo, StreamKind
    from sensorlab.session.calibration import estimate

    infos = {"mic": StreamInfo("mic", StreamKind.AUDIO, 48000, sample_shape=(1,)),
             "cam": StreamInfo("cam", StreamKind.VIDEO, IRREGULAR, dtype="uint8", sample_shape=(8, 8, 3))}  # fmt: skip
    claps = np.array([1.0, 2.5, 4.0])
    one = estimate({"mic": claps, "cam": np.array([1.0342])}, infos).lines()
    cam = next(line for line in one if line.startswith("cam:"))
    assert cam.startswith("cam: +34.2 ms ± ? ms") and "0 ms" not in cam and "1 clap;" in cam, cam
    three = estimate({"mic": claps, "cam": claps + np.array([0.030, 0.036, 0.033])}, infos).lines()
    cam = next(line for line in three if line.startswith("cam:"))
    assert "± ?" not in cam and "3 claps" in cam and "0 ms)" not in cam and "irregular" in cam, cam
