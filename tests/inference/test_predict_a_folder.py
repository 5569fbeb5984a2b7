"""`sensorlab predict RUN SESSION` (the run folder, not the model file in it): the error names
the file to give. Found walking the quick start: it said "no such model file" about a folder
that exists."""

from __future__ import annotations

import shutil

from onnx_models import mean_model, write_mapping

from sensorlab.acquisition.emulated.signal import SignalSource


def test_predict_given_a_run_folder_names_the_model_file_in_it(tmp_path, make_session, cli):
    session = make_session(SignalSource("s", rate=100, realtime=False, max_samples=200), path=tmp_path / "run.h5")
    run = tmp_path / "runs" / "imu-timeseries"
    run.mkdir(parents=True)
    model = mean_model(run / "model.onnx")
    write_mapping(model, stream="s", window=0.5, hop=0.25)
    shutil.copy(model, run / "model.dynamic.onnx")  # quantize writes other builds beside it
    r = cli("predict", str(run), str(session))
    assert r.exit_code == 1
    assert f"{run}: a folder, not a model file; give the .onnx or .tflite file (e.g. {run / 'model.onnx'})" in r.output, r.output
    assert cli("predict", str(run / "model.onnx"), str(session)).exit_code == 0  # what it says works


def test_predict_demo_is_the_bundled_demo_model_from_any_folder(tmp_path, make_session, cli, monkeypatch):
    """`sensorlab predict demo SESSION` (the README's quick start, `path = "demo"` in a rig file)
    runs the bundled clap model: here on a session without its stream, so the message names
    the demo model's stream, not a missing file called "demo"."""
    session = make_session(SignalSource("s", rate=100, realtime=False, max_samples=200), path=tmp_path / "run.h5")
    monkeypatch.chdir(tmp_path)
    r = cli("predict", "demo", str(session))
    assert r.exit_code == 1
    assert "imu" in r.output and "no such model file" not in r.output, r.output
