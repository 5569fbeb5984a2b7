"""The self-check of a TFLite export is kept beside the file and the Training tab's TFLite tab
reads it back for a run opened later (it said "self-check figures: export again").

Without the converter (the TFLite environment is a separate 2.5 GB install), the report is
written by the same function the export calls, on a file of bytes standing for the model;
`test_training_tflite.py::test_real_tflite_environment_int8_then_c_array` runs the real export
where the environment exists."""

from __future__ import annotations

import sys

from sensorlab.app.training.tflite_panel import TflitePanel
from sensorlab.training.tflite_env import INT8_FILE, TfliteEnvironment
from sensorlab.training.tflite_report import read_export_report, report_path, write_export_report

#: What `export_tflite(..., int8=True)` returns (and `--json` prints), figures of a real run.
INT8_REPORT = {
    "what": "tflite int8 vs pytorch", "windows": 64, "max_abs_diff": 0.41, "argmax_agreement": 0.984, "ok": True,
    "tolerance": "argmax agreement >= 0.95", "format": "tflite", "int8": True, "size_bytes": 17,
    "input_quantization": {"scale": 0.0271, "zero_point": -3, "applies_to": "normalized"},
}  # fmt: skip


def test_a_runs_int8_self_check_is_read_back_from_beside_the_file(qtbot, tmp_path):
    run = tmp_path / "imu-run"
    run.mkdir()
    (run / "model.pt").write_bytes(b"")
    model = run / INT8_FILE
    model.write_bytes(b"int8 flatbuffer!!")
    written = write_export_report(model, {**INT8_REPORT, "file": str(model)})
    assert written == report_path(model) == run / "model.int8.tflite.check.json"
    assert read_export_report(model)["argmax_agreement"] == 0.984

    panel = TflitePanel()  # a studio opened later: it has no report of this session
    qtbot.addWidget(panel)
    panel.show_run(run, TfliteEnvironment(python=sys.executable, source="test"), busy=False)
    shown = panel.view.toPlainText()
    assert "argmax agrees with PyTorch on 98.4% of 64 test windows" in shown
    assert "int8 input scale 0.0271, zero point -3" in shown

    model.write_bytes(b"rebuilt by hand since")  # the report no longer describes this file
    assert read_export_report(model) is None
    panel.show_run(run, TfliteEnvironment(python=sys.executable, source="test"), busy=False)
    assert "98.4%" not in panel.view.toPlainText() and "without a self-check report" in panel.view.toPlainText()
