"""`sensorlab export | evaluate` given something that is not a run folder: one line naming the
file and the fix, not a traceback. Found walking the quick start: `sensorlab export imu.h5`
(the dataset instead of the run) ended in torch.load's 60-line traceback about `weights_only`,
and `sensorlab export runs` (the parent folder) in a FileNotFoundError for runs/model.pt."""

from __future__ import annotations

import pytest

from .conftest import cli

pytest.importorskip("torch")


def assert_one_line_error(r, *words: str) -> None:
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)  # no traceback
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    for w in words:
        assert w in lines[0], r.output


def test_export_and_evaluate_name_what_is_not_a_run_and_how_to_give_one(imu_dataset, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()  # the folder that holds runs, not a run
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"\x08\x07")  # an exported model, not the checkpoint export reads
    for args, what in (
        (["export", imu_dataset], "not a sensorlab checkpoint"),
        (["export", onnx], "not a sensorlab checkpoint"),
        (["export", runs], "no model.pt in this folder"),
        (["export", tmp_path / "nope"], "no such run folder or checkpoint"),
        (["evaluate", runs, imu_dataset], "no model.pt in this folder"),
    ):
        assert_one_line_error(cli(*args), what, "sensorlab train")


def test_quantize_given_the_run_folder_names_the_onnx_file_in_it(imu_dataset, tmp_path):
    run = tmp_path / "imu-timeseries"
    run.mkdir()
    r = cli("quantize", run, imu_dataset)
    assert_one_line_error(r, f"{run}: a folder, not an ONNX file; give {run / 'model.onnx'}", f"sensorlab export {run}")
