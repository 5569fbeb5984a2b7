"""A model in a rig file, and `sensorlab predict` over a recorded session (beside it, never into it)."""

from __future__ import annotations

import hashlib
import time

import numpy as np
from onnx_models import mean_model, write_mapping

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.rig import load_rig
from sensorlab.inference.offline import predictions_path
from sensorlab.labeling.store import load_sidecar
from sensorlab.session.reader import Session


def test_rig_model_processor_resolves_its_path_beside_the_rig_and_runs(tmp_path, monkeypatch):
    import sensorlab.inference  # noqa: F401 - registers kind "model"

    (tmp_path / "models").mkdir()
    model = mean_model(tmp_path / "models" / "level.onnx", channels=1)
    write_mapping(model, stream="mic", window=0.1, hop=0.05, rate=16000, channels=[0], scores_kind="probabilities", labels=["level"])
    rig = tmp_path / "rig.toml"
    rig.write_text('[[emulated]]\ndevice = "microphone"\nrate = 48000\n\n[[processor]]\nkind = "model"\npath = "models/level.onnx"\nname = "lvl"\n')
    monkeypatch.chdir("/")  # the model is found beside the rig, not in the working folder
    acq = Acquisition(load_rig(rig).build_sources())
    errors = acq.open()
    try:
        assert not errors, errors
        assert acq.streams["lvl"].channel_names == ("level",) and acq.streams["lvl"].nominal_rate == 20
        acq.start()
        deadline = time.monotonic() + 60
        while acq.stats["lvl"].samples < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert acq.stats["lvl"].samples >= 5 and not acq.stats["lvl"].error
    finally:
        acq.close()


def test_predict_writes_a_sidecar_and_suggested_segments_and_leaves_the_recording_alone(tmp_path, make_session, cli):
    loud = lambda ts: (((ts - 300.0) % 4.0) >= 2.0).astype(np.float32)[:, None]  # noqa: E731  loud for 2 s every 4 s
    session = make_session(SignalSource("s", rate=100, shape=(1,), pattern=loud, realtime=False, max_samples=1200, chunk_size=50, t0=300.0),
                           path=tmp_path / "run.h5")  # fmt: skip
    before = hashlib.sha256(session.read_bytes()).hexdigest()
    model = mean_model(tmp_path / "detector.onnx")
    write_mapping(model, stream="s", window=0.5, hop=0.25, scores_kind="sigmoid", labels=["loud"], scale=20.0, offset=-10.0)
    r = cli("predict", str(model), str(session), "--suggest", "--threshold", "0.9")
    assert r.exit_code == 0, r.output
    assert "47 windows" in r.output and "suggested segment(s) added" in r.output
    assert hashlib.sha256(session.read_bytes()).hexdigest() == before  # the recording is never written
    with Session.open(predictions_path(session)) as p:
        pred = p.streams["detector_pred"].read()
        starts = pred.device_times
        np.testing.assert_allclose(starts, 300.0 + np.arange(47) * 0.25)
        np.testing.assert_allclose(pred.timestamps, starts + 0.5)
        inside = ((starts - 300.0) % 4.0 >= 2.0) & ((starts - 300.0) % 4.0 <= 1.5 + 2.0)  # the whole window is loud
        assert (pred.data[inside, 0] > 0.99).all() and (pred.data[~inside & ((starts - 300.0) % 4.0 < 1.5), 0] < 0.01).all()
    segs = [s for s in load_sidecar(session) if s.suggested]
    assert [round(s.start - 300.0, 3) for s in segs] == [2.0, 6.0, 10.0]
    assert [round(s.end - 300.0, 3) for s in segs] == [4.0, 8.0, 12.0] and {s.label for s in segs} == {"loud"}
    assert f"(tier '{segs[0].tier}')" in r.output  # the lane the labeling view shows them in
    assert {s.source for s in segs} == {"model:detector.onnx"}
    # Again: replaced, not doubled.
    assert cli("predict", str(model), str(session), "--suggest", "--threshold", "0.9").exit_code == 0
    assert len([s for s in load_sidecar(session) if s.suggested]) == 3


def test_predict_names_a_missing_stream_and_a_bad_model(tmp_path, make_session, cli):
    session = make_session(SignalSource("imu", rate=100, realtime=False, max_samples=100), path=tmp_path / "run.h5")
    model = mean_model(tmp_path / "m.onnx")
    write_mapping(model, stream="mic", window=0.5, hop=0.25)
    r = cli("predict", str(model), str(session))
    assert r.exit_code == 1 and "run.h5 has no stream 'mic' for m.onnx (streams: imu, labels); pass --stream NAME" in r.output
    bad = tmp_path / "bad.onnx"
    bad.write_text("{}")
    r = cli("predict", str(bad), str(session))
    assert r.exit_code == 1 and "bad.onnx: not a valid ONNX model" in r.output and "Traceback" not in r.output
    assert not predictions_path(session).exists()


def test_predict_suggesting_nothing_says_what_the_threshold_missed(tmp_path, make_session, cli):
    """A foreign model whose top class never reaches 0.5: "0 suggested segment(s) added …;
    review them in `sensorlab label …`" sent the user to review nothing; it names the most
    probable window and the option to lower."""
    loud = lambda ts: (((ts - 300.0) % 4.0) >= 2.0).astype(np.float32)[:, None]  # noqa: E731
    session = make_session(SignalSource("s", rate=100, shape=(1,), pattern=loud, realtime=False, max_samples=1200, chunk_size=50, t0=300.0),
                           path=tmp_path / "run.h5")  # fmt: skip
    model = mean_model(tmp_path / "weak.onnx")
    # sigmoid(2 x - 1): P(loud) 0.73 in a loud window, 0.27 in a quiet one
    write_mapping(model, stream="s", window=0.5, hop=0.25, scores_kind="sigmoid", labels=["background", "loud"], scale=2.0, offset=-1.0)
    r = cli("predict", str(model), str(session), "--suggest", "--threshold", "0.9")
    assert r.exit_code == 0, r.output
    assert ("0 suggested segments (tier 'suggestions'): no window of a label reached --threshold 0.9 (the most probable: loud at 0.73); "
            "lower --threshold to see weaker ones") in r.output  # fmt: skip
    assert "review them" not in r.output and not [s for s in load_sidecar(session) if s.suggested]
    r = cli("predict", str(model), str(session), "--suggest", "--min-duration", "5")
    assert "0 suggested segments (tier 'suggestions'): every run of windows above --threshold 0.5 is shorter than --min-duration 5 s; " \
           "lower --min-duration" in r.output, r.output
    write_mapping(model, stream="s", window=0.5, hop=0.25, scores_kind="sigmoid", labels=["background", "loud"], scale=1.0, offset=-5.0)
    r = cli("predict", str(model), str(session), "--suggest")  # P(loud) ≤ 0.02: background everywhere
    assert "0 suggested segments (tier 'suggestions'): every window's top class is background" in r.output, r.output


def test_predict_says_when_it_replaces_another_models_predictions(tmp_path, make_session, cli):
    """Two models over one session: the second run's sidecar silently took the place of the
    first model's predictions (one sidecar per session)."""
    session = make_session(SignalSource("s", rate=100, shape=(1,), realtime=False, max_samples=300, chunk_size=50), path=tmp_path / "run.h5")
    first, second = mean_model(tmp_path / "first.onnx"), mean_model(tmp_path / "second.onnx")
    for m in (first, second):
        write_mapping(m, stream="s", window=0.5, hop=0.25, scores_kind="sigmoid", labels=["on"])
    r = cli("predict", str(first), str(session))
    assert r.exit_code == 0 and "replaced" not in r.output, r.output
    r = cli("predict", str(first), str(session))  # the same model again: nothing else lost
    assert "replaced" not in r.output, r.output
    r = cli("predict", str(second), str(session))
    assert "(it replaced the predictions of first.onnx in that file; pass -o FILE.h5 to keep each model's in its own)" in r.output, r.output
    with Session.open(predictions_path(session)) as p:
        assert list(p.streams) == ["second_pred"]
    r = cli("predict", str(first), str(session), "-o", str(tmp_path / "run.first.h5"))  # kept apart
    assert r.exit_code == 0 and "replaced" not in r.output and (tmp_path / "run.first.h5").exists()
