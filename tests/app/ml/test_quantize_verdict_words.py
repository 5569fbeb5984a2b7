"""The quantize verdict read "does not pay on size, latency, accuracy_drop": an internal key and no
figures. It names each missed goal in words with its figure and the goal, in the log, the
Quantization tab and `sensorlab quantize`."""

import re

import numpy as np
from typer.testing import CliRunner

from tests.app.ml.conftest import write_tiny_dataset

#: A missed goal as the user reads it: "size 0.64× fp32 (goal ≤ 0.3×)", "accuracy drop 18.8 points (goal ≤ 1)".
MISSED = re.compile(r"(size|latency) \d+\.\d\d× fp32 \(goal ≤ [\d.]+×\)|accuracy drop -?\d+\.\d points \(goal ≤ 1\)")


def test_verdict_words_name_goals_and_figures():
    from sensorlab.training.quantize import verdict_words

    text = verdict_words([("size", 0.64), ("latency", 0.89), ("accuracy_drop", 0.1875)], [], False)
    assert text == "does not pay on size 0.64× fp32 (goal ≤ 0.3×), latency 0.89× fp32 (goal ≤ 0.67×), accuracy drop 18.8 points (goal ≤ 1)"
    assert verdict_words([], ["accuracy_drop"], False) == "meets every measured goal; accuracy drop not measured (no test windows)"


def test_quantize_verdict_in_cli_and_quantization_tab_is_in_words(tmp_path, qtbot):
    from sensorlab.app.training.results import TrainingResults
    from sensorlab.cli import app

    ds = write_tiny_dataset(tmp_path / "ds.h5", (np.arange(36) % 3).astype(np.int8))
    run = tmp_path / "run"
    cli = CliRunner()
    assert cli.invoke(app, ["train", str(ds), "--task", "timeseries", "--epochs", "1", "--out", str(run)]).exit_code == 0
    assert cli.invoke(app, ["export", str(run)]).exit_code == 0
    r = cli.invoke(app, ["quantize", str(run / "model.onnx"), str(ds)])
    assert r.exit_code == 0, r.output
    cli_verdicts = [line[2:] for line in r.stdout.splitlines() if line.startswith("- int8")]
    assert len(cli_verdicts) == 2 and "accuracy_drop" not in r.stdout, r.stdout

    view = TrainingResults()
    qtbot.addWidget(view)
    view.show_run(run)
    shown = view.quant.toPlainText()
    assert "accuracy_drop" not in shown
    for verdict in cli_verdicts:
        assert verdict in shown  # the tab says what the CLI says
        if "does not pay on" in verdict:
            missed = verdict.split("does not pay on ", 1)[1].split("; ")[0]
            assert all(MISSED.fullmatch(part) for part in missed.split(", ")), verdict
