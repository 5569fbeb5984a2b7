"""A killed `sensorlab train` never leaves a run folder that looks finished but is not.

Attack: SIGKILL the command the moment `model.pt` appears. The run folder was written in
place file by file, so the kill left `model.pt` without `metrics.json`, `contract.json` or the
model card: the Training tab's Open run… and `prune` read it as a run, `export` could only
say it was unfinished. The folder is now written under a hidden name beside it and renamed
into place when whole.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from sensorlab.training.train import default_run_dir

from .conftest import FAST_TRAIN, cli
from .test_killed_export import spawn

pytest.importorskip("torch")
pytestmark = pytest.mark.slow


def _checkpoints(root: Path) -> list[Path]:
    """Every model.pt one level under ``root``, hidden folders included."""
    if not root.exists():
        return []
    return [Path(e.path) / "model.pt" for e in os.scandir(root) if e.is_dir() and (Path(e.path) / "model.pt").exists()]


def _kill_at_checkpoint(args, root: Path, timeout: float = 900.0) -> bool:
    """Run ``sensorlab ARGS``; SIGKILL it the moment a model.pt appears under ``root``; True if killed."""
    proc = spawn(*args)
    deadline = time.monotonic() + timeout
    killed = False
    while proc.poll() is None and time.monotonic() < deadline:
        if _checkpoints(root):
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.002)
    proc.wait(timeout)
    return killed


def _assert_whole(run: Path) -> None:
    for name in ("model.pt", "metrics.json", "contract.json", "config.toml", "MODEL_CARD.md", "confusion.png", "curves.png"):
        assert (run / name).exists(), f"{run} has no {name}: {sorted(p.name for p in run.iterdir())}"


def test_a_killed_train_leaves_no_half_written_run_folder(imu_dataset, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    cfg = tmp_path / "fast.toml"
    cfg.write_text(FAST_TRAIN)
    out = runs / "imu"
    args = ("train", imu_dataset, "--task", "timeseries", "--config", cfg, "--epochs", 2, "--out", out)
    assert _kill_at_checkpoint(args, runs), "the training ended before its checkpoint was seen"
    if out.exists():  # killed after the rename: then it is whole
        _assert_whole(out)
    visible = [p.name for p in runs.iterdir() if not p.name.startswith(".")]
    assert visible in ([], ["imu"]), visible
    # What is left is hidden, and neither takes the run's name nor blocks training again.
    assert default_run_dir(imu_dataset, "timeseries", runs).name == ("imu-timeseries")
    if out.exists():
        return
    r = cli(*args)
    assert r.exit_code == 0, r.output
    _assert_whole(out)
    assert [p.name for p in runs.iterdir()] == ["imu"], "the killed run's hidden folder was not cleaned up"


def test_train_into_an_existing_empty_folder_fills_it(imu_dataset, tmp_path):
    out = tmp_path / "chosen"
    out.mkdir()  # `--out` names a folder made beforehand (allowed while empty)
    cfg = tmp_path / "fast.toml"
    cfg.write_text(FAST_TRAIN)
    r = cli("train", imu_dataset, "--task", "timeseries", "--config", cfg, "--epochs", 1, "--out", out)
    assert r.exit_code == 0, r.output
    _assert_whole(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "the hidden folder was left behind"
