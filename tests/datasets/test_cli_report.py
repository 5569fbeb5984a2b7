"""`sensorlab dataset build|info`: progress, the report table, PNG plots, one-line errors."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
from typer.testing import CliRunner

from sensorlab.cli import app
from sensorlab.datasets.report import dataset_report

from .conftest import SUBJECTS, spec_text

runner = CliRunner()


def _spec(tmp_path, corpus, **over):
    p = tmp_path / "spec.toml"
    p.write_text(spec_text(corpus, **{"labels.unlabeled": '"background"', **over}))
    return p


def test_build_prints_progress_and_report_and_writes_plots(corpus, tmp_path):
    out, plots = tmp_path / "ds.h5", tmp_path / "plots"
    r = runner.invoke(app, ["dataset", "build", str(_spec(tmp_path, corpus)), "-o", str(out), "--workers", "2", "--plots", str(plots)])
    assert r.exit_code == 0, r.output
    assert f"{len(SUBJECTS)}/{len(SUBJECTS)} sessions" in r.output
    assert "ds.h5: 190 windows, 3 classes" in r.output
    row = next(line for line in r.output.splitlines() if line.startswith("walk "))
    assert row.split()[-3:] == ["60", "/", "30"]  # 12 walk windows per session x 5, hop 0.5 s
    assert "a1.h5" in r.output and "s01" in r.output
    for name in ("class_balance.png", "examples.png"):
        img = mpimg.imread(plots / name)
        assert img.shape[0] > 200 and img.shape[1] > 400 and np.ptp(img[..., :3]) > 0.5  # drawn, not blank
    info = runner.invoke(app, ["dataset", "info", str(out)])
    assert info.exit_code == 0 and "background" in info.output and "split: holdout by 'subject'" in info.output
    # the report's numbers are the file's
    rep = dataset_report(out)
    assert rep.counts.sum() == 190 and rep.classes == ["walk", "wave", "background"]
    assert sum(n for _, _, n in rep.per_group) == 190


def test_errors_are_one_line(corpus, tmp_path):
    bad = _spec(tmp_path, corpus, **{"window.hop": "-1"})
    r = runner.invoke(app, ["dataset", "build", str(bad), "-o", str(tmp_path / "x.h5")])
    assert r.exit_code == 2 and "window.hop" in r.output and len(r.output.strip().splitlines()) == 1
    existing = tmp_path / "keep.h5"
    existing.write_bytes(b"keep")
    r = runner.invoke(app, ["dataset", "build", str(_spec(tmp_path, corpus)), "-o", str(existing)])
    assert r.exit_code == 2 and "--force" in r.output and existing.read_bytes() == b"keep"
    r = runner.invoke(app, ["dataset", "info", str(bad)])
    assert r.exit_code == 1 and "not an HDF5 file" in r.output
    r = runner.invoke(app, ["dataset", "build", str(_spec(tmp_path, corpus, **{"split.method": '"kfold"', "split.k": "9"})), "-o", str(tmp_path / "k.h5")])
    assert r.exit_code == 1 and "9-fold by 'subject' needs at least 9 groups (found 4)" in r.output
