"""A run folder whose training was stopped between writing ``model.pt`` and ``metrics.json``:
export names the unfinished run and the fix, not "the dataset the model was trained on (None)"."""

from __future__ import annotations

import shutil

import pytest

from .conftest import cli

pytest.importorskip("torch")


def test_export_of_a_run_without_metrics_says_its_training_did_not_finish(imu_run_folder, imu_dataset, tmp_path):
    run = tmp_path / "cut"
    shutil.copytree(imu_run_folder, run)
    (run / "metrics.json").unlink()
    for f in run.glob("*.onnx"):
        f.unlink()

    r = cli("export", run, "--format", "onnx")
    assert r.exit_code != 0
    assert "training did not finish" in r.output and "--dataset" in r.output, r.output
    assert not (run / "model.onnx").exists()

    # The way out it names works: the checkpoint exports against the dataset given.
    r = cli("export", run, "--format", "onnx", "--dataset", imu_dataset)
    assert r.exit_code == 0, r.output
    assert (run / "model.onnx").exists()
