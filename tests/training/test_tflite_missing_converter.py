"""`sensorlab export --format tflite` where the converter is not installed (the main environment): it
printed "No module named 'litert_torch'"; it now says what is missing and how to get it."""

from __future__ import annotations

import importlib.util

import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")


@pytest.mark.skipif(importlib.util.find_spec("litert_torch") is not None, reason="the converter is installed here")
def test_tflite_export_without_the_converter_names_it_and_the_fix(imu_run_folder):
    from sensorlab.cli import app

    r = CliRunner().invoke(app, ["export", str(imu_run_folder), "--format", "tflite"])
    assert r.exit_code != 0
    out = r.output
    assert "TFLite export needs the converter (litert-torch)" in out and "make tflite-env" in out, out
    assert "No module named" not in out
    assert not (imu_run_folder / "model.tflite").exists()  # nothing half-written beside the run
