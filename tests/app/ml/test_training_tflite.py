"""The Training tab's TFLite buttons: Export TFLite int8 / fp32 and C array (TFLite Micro) run the
bundled commands with the TFLite environment's python (its own venv: the converter is ~2 GB),
show the files and their self-checks, and say what to install when that environment is missing."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys

import pytest
from typer.testing import CliRunner

from sensorlab.app.training.tab import TrainingTab
from sensorlab.cli import app
from sensorlab.training.tflite_env import ENV_VAR, VENV_DIR, source_root

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def finished_run(small_dataset, tmp_path_factory):
    """A 2-epoch run folder trained from the command line (the tests copy it before writing into it)."""
    run = tmp_path_factory.mktemp("tflite-runs") / "imu-run"
    r = CliRunner().invoke(app, ["train", str(small_dataset), "--task", "timeseries", "--epochs", "2", "--out", str(run)])
    assert r.exit_code == 0, r.output
    return run


def tab_on(qtbot, run, project):
    """A Training tab showing ``run``, looking for .venv-tflite in ``project``."""
    tab = TrainingTab()
    qtbot.addWidget(tab)
    tab.results.tflite_project = project
    assert tab.open_run(run)
    return tab


@pytest.mark.skipif(importlib.util.find_spec("litert_torch") is not None, reason="the converter is installed in this interpreter")
def test_without_a_tflite_environment_the_buttons_name_the_fix(qtbot, finished_run, tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    tab = tab_on(qtbot, finished_run, tmp_path)  # no .venv-tflite there
    t = tab.results.tflite
    assert "make tflite-env" in t.env_label.text() and "make tflite-env" in t.int8_button.toolTip()
    assert t.int8_button.isEnabled()  # pressing it explains, rather than a grey button that says nothing
    assert not t.c_button.isEnabled() and "Export TFLite int8 first" in t.c_button.toolTip()
    t.int8_button.click()
    assert not tab.runner.running
    assert "make tflite-env" in tab.status.text() and ENV_VAR in tab.status.text()
    assert tab.results.tabs.currentWidget() is t.view
    shown = t.view.toPlainText()
    assert "make tflite-env" in shown and str(tmp_path) in shown and "No TFLite environment" in shown
    assert tab.train_button.isEnabled() and t.int8_button.isEnabled()

    # A variable pointing nowhere is named, not silently skipped.
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no-such-python"))
    t.fp32_button.click()
    assert not tab.runner.running
    assert f"{ENV_VAR}={tmp_path / 'no-such-python'} is not an executable file" in tab.status.text()


@pytest.mark.skipif(importlib.util.find_spec("litert_torch") is not None, reason="the converter is installed in this interpreter")
def test_an_interpreter_without_the_converter_ends_with_the_commands_message(qtbot, finished_run, tmp_path, monkeypatch):
    run = shutil.copytree(finished_run, tmp_path / "run")
    monkeypatch.setenv(ENV_VAR, sys.executable)  # this environment: sensorlab and PyTorch, no litert-torch
    tab = tab_on(qtbot, run, tmp_path)
    t = tab.results.tflite
    assert ENV_VAR in t.env_label.text()
    with qtbot.waitSignal(tab.runner.finished, timeout=300_000) as blocker:
        t.int8_button.click()
        assert tab.runner.running and not t.int8_button.isEnabled() and tab.cancel_button.isEnabled()
        assert tab.progress.maximum() == 0  # busy, as the other jobs
    assert blocker.args[0] == "failed"
    log = tab.log_view.toPlainText()
    assert f"$ sensorlab export {run} --format tflite --int8 --json   (with {sys.executable})" in log
    shown = t.view.toPlainText()
    assert "TFLite export needs the converter (litert-torch)" in shown and "make tflite-env" in shown, shown
    assert "No module named" not in shown
    assert "TFLite export failed: TFLite export needs the converter" in tab.status.text()
    assert tab.progress.format() == "TFLite export: failed"
    assert tab.results.tabs.currentWidget() is t.view
    assert not (run / "model.int8.tflite").exists()
    assert t.int8_button.isEnabled() and tab.train_button.isEnabled() and not tab.cancel_button.isEnabled()


def test_c_array_button_runs_export_c_on_the_int8_file_and_shows_its_message(qtbot, finished_run, tmp_path, monkeypatch):
    """The C-array command line (the run's int8 file, a C name from the run folder), here on a file
    that is not a TFLite model: the command's own message lands in the panel."""
    run = shutil.copytree(finished_run, tmp_path / "my-run")
    (run / "model.int8.tflite").write_bytes(b"not a flatbuffer")
    monkeypatch.setenv(ENV_VAR, sys.executable)
    tab = tab_on(qtbot, run, tmp_path)
    t = tab.results.tflite
    assert t.c_button.isEnabled()
    assert "model.int8.tflite" in t.view.toPlainText()  # the file is listed with its size
    with qtbot.waitSignal(tab.runner.finished, timeout=120_000) as blocker:
        t.c_button.click()
    assert blocker.args[0] == "failed"
    assert f"$ sensorlab export-c {run / 'model.int8.tflite'} --name my_run_model --json" in tab.log_view.toPlainText()
    shown = t.view.toPlainText()
    assert "C array export failed" in shown and "model.int8.tflite" in shown, shown
    assert not (run / "my_run_model.h").exists()


@pytest.mark.skipif(not (source_root() / VENV_DIR / ".installed").exists(), reason="no TFLite environment (make tflite-env)")
def test_real_tflite_environment_int8_then_c_array(qtbot, finished_run, tmp_path, monkeypatch):
    """With the real TFLite venv: int8 export, then the C array; files, sizes and figures shown."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    run = shutil.copytree(finished_run, tmp_path / "run")
    tab = tab_on(qtbot, run, None)
    t = tab.results.tflite
    with qtbot.waitSignal(tab.runner.finished, timeout=600_000) as blocker:
        t.int8_button.click()
    assert blocker.args[0] == "ok", tab.log_view.toPlainText()[-3000:]
    assert (run / "model.int8.tflite").exists() and t.c_button.isEnabled()
    shown = t.view.toPlainText()
    assert "model.int8.tflite" in shown and "argmax agrees with PyTorch on" in shown, shown
    with qtbot.waitSignal(tab.runner.finished, timeout=600_000) as blocker:
        t.c_button.click()
    assert blocker.args[0] == "ok", tab.log_view.toPlainText()[-3000:]
    report = json.loads((run / "run_model.export-c.json").read_text())
    shown = t.view.toPlainText()
    assert "run_model.h + run_model.c" in shown and f"TFLM tensor arena {report['arena_bytes_measured']:,} B" in shown, shown


def test_cancel_a_tflite_export(qtbot, finished_run, tmp_path, monkeypatch):
    """Cancel stops a TFLite job as it stops the others; the panel says it was cancelled, nothing is written."""
    run = shutil.copytree(finished_run, tmp_path / "run")
    monkeypatch.setenv(ENV_VAR, sys.executable)
    tab = tab_on(qtbot, run, tmp_path)
    t = tab.results.tflite
    with qtbot.waitSignal(tab.runner.finished, timeout=120_000) as blocker:
        t.fp32_button.click()
        tab.cancel_button.click()
    assert blocker.args[0] == "cancelled"
    assert tab.status.text() == "⚠ TFLite export cancelled" and "TFLite export cancelled" in t.view.toPlainText()
    assert not (run / "model.tflite").exists()
    assert t.fp32_button.isEnabled() and not tab.cancel_button.isEnabled()
