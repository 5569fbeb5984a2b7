"""`sensorlab export` writes one self-contained model.onnx, nothing beside it.

Found walking the quick start: the run folder held model.onnx and model.onnx.data (torch's
exporter writes the weights apart; the metadata step then saved them inside model.onnx), and
nothing said which to copy to the device."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from .conftest import cli

pytest.importorskip("torch")


def test_the_exported_model_is_one_file_that_runs_alone(imu_run_folder, tmp_path):
    import onnxruntime as ort

    out = tmp_path / "export" / "imu.onnx"
    out.parent.mkdir()
    r = cli("export", imu_run_folder, "-o", out)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.parent.iterdir()) == ["imu.onnx"]
    alone = tmp_path / "device" / "imu.onnx"  # copied elsewhere, as to a device: it still runs
    alone.parent.mkdir()
    shutil.copy(out, alone)
    session = ort.InferenceSession(str(alone), providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    shape = [2 if not isinstance(d, int) else d for d in inp.shape]
    assert np.isfinite(session.run(None, {inp.name: np.zeros(shape, np.float32)})[0]).all()
