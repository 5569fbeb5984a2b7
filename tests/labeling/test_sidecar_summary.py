"""``sensorlab info SESSION`` reports the labels sidecar: labels per tier, and labels outside
every stream's samples (legal, but usually a hand edit or an import with the wrong origin)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from sensorlab.cli import app
from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.store import save_annotations, sidecar_path
from sensorlab.session.synthetic import T0, write_synthetic_session

runner = CliRunner()


def write_session(path, live=False):
    """4 s of audio, IMU and video from host time T0."""
    write_synthetic_session(path, 4.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0, frame_shape=(8, 8), predictions=False)
    return path


def _label(path, *segments):
    save_annotations(AnnotationSet(list(segments)), sidecar_path(path), session=path.name)


def test_info_counts_labels_per_tier_and_warns_of_labels_outside_every_stream(tmp_path):
    session = write_session(tmp_path / "run1.h5", live=False)  # 4 s of audio from T0
    _label(session, Segment("a", "default", "clap", T0 + 1.0, T0 + 1.2),
           Segment("b", "default", "clap", T0 + 3.9, T0 + 5.0),  # reaches past the end: touches samples, fine
           Segment("c", "words", "hi", T0 - 50.0, T0 - 40.0))  # fmt: skip
    r = runner.invoke(app, ["info", str(session)])
    assert r.exit_code == 0, r.output
    assert "  labels (run1.labels.json): default 2, words 1" in r.output
    assert ("! 1 label(s) lie outside every stream's samples (recorded 00:00.000–00:04.000); "
            "first: 'hi' on tier 'words' at -00:50.000–-00:40.000") in r.output


def test_info_without_outside_labels_prints_no_warning_and_without_sidecar_nothing(tmp_path):
    session = write_session(tmp_path / "run1.h5", live=False)
    assert "labels (" not in runner.invoke(app, ["info", str(session)]).output
    _label(session, Segment("a", "default", "clap", T0 + 1.0, T0 + 1.2))
    r = runner.invoke(app, ["info", str(session)])
    assert "labels (run1.labels.json): default 1" in r.output and "!" not in r.output


def test_a_hand_edited_end_before_start_is_one_line_and_the_session_report_stays(tmp_path):
    session = write_session(tmp_path / "run1.h5", live=False)
    _label(session, Segment("a", "default", "clap", T0 + 1.0, T0 + 1.2))
    doc = json.loads(sidecar_path(session).read_text())
    doc["segments"][0]["end"] = T0 - 1.0  # as typed in a text editor
    sidecar_path(session).write_text(json.dumps(doc))
    r = runner.invoke(app, ["info", str(session)])
    assert r.exit_code == 0 and "audio" in r.output  # the streams are still reported
    assert "! " in r.output and "ends (" in r.output and "before it starts" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["labels", "export", str(session), str(tmp_path / "x.csv")])
    assert r.exit_code == 1 and "before it starts" in r.output and len(r.output.strip().splitlines()) == 1
