"""`sensorlab prune`: structured pruning physically shrinks the model, fine-tuning keeps it accurate,
and the pruned run folder works with `evaluate` and `export` like any run."""

from __future__ import annotations

import json

import pytest

from .conftest import cli as _cli

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def parent_run(imu_run_folder):
    return imu_run_folder  # the shared 8-epoch IMU run (conftest); pruned runs are written beside it


def test_prune_half_removes_filters_keeps_accuracy_and_exports_smaller(parent_run, imu_dataset):
    import torch

    r = _cli("prune", parent_run, "--sparsity", 0.5, "--epochs", 5, "--json")
    assert r.exit_code == 0, r.output
    events = [json.loads(line) for line in r.stdout.splitlines()]
    pruned = parent_run.parent / "imu-pruned50"
    first = events[0]
    assert first["event"] == "prune" and first["widths"] == [8, 16, 16]  # 16/32/32 filters, half removed
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1, 2, 3, 4, 5]  # live curves in the GUI
    table = events[-1]
    assert table["event"] == "table" and [row["sparsity"] for row in table["rows"]] == [0.0, 0.5]
    parent_row, row = table["rows"]
    assert row["params"] < 0.35 * parent_row["params"]  # conv layers lose input and output channels
    assert row["accuracy"] >= 0.9

    # An ordinary run folder: the checkpoint is physically smaller, the card names parent and sparsity.
    for name in ("model.pt", "config.toml", "metrics.json", "curves.png", "confusion.png", "MODEL_CARD.md", "contract.json"):
        assert (pruned / name).stat().st_size > 0, name
    assert (pruned / "model.pt").stat().st_size < 0.6 * (parent_run / "model.pt").stat().st_size
    state = torch.load(pruned / "model.pt", weights_only=True)["state_dict"]
    assert tuple(state["features.0.weight"].shape) == (8, 3, 5)
    card = (pruned / "MODEL_CARD.md").read_text()
    assert "Pruned from run `imu`" in card and "50% of the filters" in card
    metrics = json.loads((pruned / "metrics.json").read_text())
    assert metrics["pruning"]["parent_name"] == "imu" and metrics["contract"]["model"]["params"] == row["params"]
    assert "| 50% |" in (parent_run / "prune.md").read_text()

    # export and evaluate accept it; its ONNX file is smaller than the parent's.
    for run in (parent_run, pruned):
        r = _cli("export", run, "--format", "onnx")
        assert r.exit_code == 0, r.output
    assert (pruned / "model.onnx").stat().st_size < 0.7 * (parent_run / "model.onnx").stat().st_size
    r = _cli("evaluate", pruned / "model.onnx", imu_dataset, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["accuracy"] >= 0.9


def test_sparsity_sweep_prints_accuracy_vs_sparsity_table(parent_run):
    r = _cli("prune", parent_run, "--sparsity", "0.25,0.75", "--epochs", 1)
    assert r.exit_code == 0, r.output
    rows = [line for line in r.stdout.splitlines() if line.startswith("| ") and "%" in line]
    assert [row.split("|")[1].strip() for row in rows] == ["0%", "25%", "75%"]
    params = [int(row.split("|")[2].replace(",", "")) for row in rows]
    assert params[0] > params[1] > params[2]
    for s in ("25", "75"):
        assert (parent_run.parent / f"imu-pruned{s}" / "model.pt").exists()


@pytest.mark.parametrize(("args", "message"), [(("--sparsity", "1.5"), "between 0 and 1"), (("--sparsity", "half"), "fractions like 0.5"),
                                               (("--sparsity", "0.3,0.6", "--out", "x"), "--out names one run folder")])  # fmt: skip
def test_bad_sparsity_is_one_clear_line(parent_run, args, message):
    r = _cli("prune", parent_run, *args)
    assert r.exit_code == 1 and message in r.output


def test_prune_refuses_a_folder_without_a_checkpoint(tmp_path):
    r = _cli("prune", tmp_path, "--sparsity", 0.5)
    assert r.exit_code == 1 and "no model.pt" in r.output
