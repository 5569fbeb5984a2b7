"""Which python runs the TFLite commands (the converter lives in its own venv), in the documented
order: SENSORLAB_TFLITE_PYTHON, then .venv-tflite in the checkout, then this interpreter if it has
litert-torch; and the command lines the studio's TFLite buttons run."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from sensorlab.training.tflite_env import ENV_VAR, c_name, child_environment, export_c_args, find_tflite_python, source_root, tflite_export_args


def make_venv_python(project):
    python = project / ".venv-tflite" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    return python


@pytest.mark.skipif(os.name == "nt", reason="POSIX venv layout")
def test_lookup_order(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    if importlib.util.find_spec("litert_torch") is None:
        env = find_tflite_python({}, empty)
        assert not env.found and "make tflite-env" in env.problem and str(empty) in env.problem and ENV_VAR in env.problem
    project = tmp_path / "project"
    venv_python = make_venv_python(project)
    env = find_tflite_python({}, project)
    assert env.found and env.python == venv_python and env.source == ".venv-tflite"
    # The variable wins over the venv; a variable pointing nowhere is an error, not skipped.
    env = find_tflite_python({ENV_VAR: sys.executable}, project)
    assert str(env.python) == sys.executable and env.source == ENV_VAR
    env = find_tflite_python({ENV_VAR: str(tmp_path / "nope")}, project)
    assert not env.found and f"{ENV_VAR}={tmp_path / 'nope'} is not an executable file" in env.problem


def test_command_lines_and_child_environment(tmp_path):
    run = tmp_path / "imu-timeseries-2"
    assert tflite_export_args(run, True) == ["export", str(run), "--format", "tflite", "--int8", "--json"]
    assert tflite_export_args(run, False) == ["export", str(run), "--format", "tflite", "--json"]
    assert c_name(run) == "imu_timeseries_2_model" and c_name(tmp_path / "2024 run") == "m_2024_run_model"
    assert export_c_args(run / "model.int8.tflite", "x_model") == ["export-c", str(run / "model.int8.tflite"), "--name", "x_model", "--json"]
    env = child_environment({"PYTHONPATH": "/elsewhere"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(source_root()), "/elsewhere"]  # this checkout's sensorlab first
    assert (source_root() / "sensorlab" / "training" / "tflite_env.py").exists()
