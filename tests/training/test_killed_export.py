"""A killed `sensorlab export` never leaves a model file that looks finished but is not.

Attack: SIGKILL the command the moment the model file appears or changes. It was written in
place in steps (the exporter's graph, then the contract, then the self-check), so the kill left
``model.onnx`` without its contract over the good model of an earlier export.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from .conftest import cli

pytest.importorskip("torch")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def spawn(*args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.Popen([sys.executable, "-m", "sensorlab.cli", *map(str, args)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_when_changed(proc: subprocess.Popen, out: Path, timeout: float = 900.0) -> None:
    """SIGKILL ``proc`` the moment ``out`` appears or changes (or let it end, if it ends first)."""
    def stamp():
        return out.stat().st_mtime_ns if out.exists() else None

    before = stamp()
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if stamp() != before:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait(timeout)


def assert_whole_model(path: Path) -> None:
    from sensorlab.training.predictors import OnnxPredictor

    pred = OnnxPredictor(path)  # a file without its contract, or cut short, raises ModelFileError / ContractError
    x = np.zeros((2, *pred.contract.input["shape"]), np.float32)
    assert np.isfinite(pred.predict(x)).all()


def test_a_killed_export_keeps_the_earlier_model_whole(imu_run_folder, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(imu_run_folder, run)
    out = run / "model.onnx"
    r = cli("export", run)
    assert r.exit_code == 0, r.output

    time.sleep(0.05)  # a rewrite within the file system's timestamp resolution would go unseen
    kill_when_changed(spawn("export", run), out)
    assert_whole_model(out)  # the exporter's graph without its contract was there, over the good model


def test_a_killed_first_export_leaves_no_model_without_its_contract(imu_run_folder, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(imu_run_folder, run)
    for stale in run.glob("*.onnx*"):
        stale.unlink()
    out = run / "model.onnx"
    kill_when_changed(spawn("export", run), out)
    assert out.exists(), "the export was killed before it wrote anything, or failed"
    assert_whole_model(out)
    assert not list(run.glob("model.onnx.data"))
