"""A dataset that came out with no windows says so, and is not offered for training. Found
walking the loop: 40 ms claps in 1 s windows at min_coverage 0.5 label nothing; the build
"succeeded", Train on it → stayed on, and training then failed with "no training windows;
build the dataset with a train split" (it had one)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sensorlab.app.datasets.tab import DatasetsTab
from sensorlab.cli import app as cli_app
from sensorlab.labeling.annotations import AnnotationSet, Segment
from sensorlab.labeling.store import save_annotations, sidecar_path
from sensorlab.session.synthetic import T0
from tests.app.ml.conftest import build_and_wait_for_report, fill_form


def _short_labels_only(folder):
    # 40 ms spans: too short for a 1 s window at min_coverage 0.5 (and unlabeled time dropped).
    for path in folder.glob("*.h5"):
        save_annotations(AnnotationSet([Segment(f"c{i}", "activity", "clap", T0 + t, T0 + t + 0.04) for i, t in enumerate((2, 5, 8))]),
                         sidecar_path(path), session=path.name)  # fmt: skip
    return folder


def test_a_build_with_no_windows_says_so_and_is_not_offered_for_training(qtbot, corpus_factory, tmp_path):
    folder = _short_labels_only(corpus_factory(tmp_path / "sessions", {"a": "s01", "b": "s02"}))
    tab = DatasetsTab(folder)
    qtbot.addWidget(tab)
    tab.form.add_stream("imu")
    tab.form.tier.setCurrentText("activity")
    tab.form.length.setValue(1.0)
    tab.form.unlabeled.setCurrentText("drop")
    build_and_wait_for_report(qtbot, tab, tmp_path / "ds.h5")
    status = tab.build_status.text()
    assert "no windows at all, nothing to train on" in status, status
    assert "shorter" in status and "min_coverage" in status, status  # why, and what to change
    assert not tab.train_button.isEnabled()
    assert "no windows" in tab.train_button.toolTip()


def test_training_an_empty_dataset_names_the_cause_not_a_missing_split(corpus_factory, tmp_path):
    pytest.importorskip("torch")
    from sensorlab.datasets.build import build_dataset
    from sensorlab.datasets.spec import spec_from_dict

    folder = _short_labels_only(corpus_factory(tmp_path / "sessions", {"a": "s01", "b": "s02"}))
    spec = spec_from_dict({"sessions": {"paths": [str(folder)]}, "streams": [{"name": "imu"}],
                                       "labels": {"tier": "activity", "unlabeled": "drop", "rule": "majority", "min_coverage": 0.5},
                           "window": {"length": 1.0, "hop": 0.5}}, folder)  # fmt: skip
    build_dataset(spec, tmp_path / "ds.h5")
    r = CliRunner().invoke(cli_app, ["train", str(tmp_path / "ds.h5"), "--task", "timeseries", "--out", str(tmp_path / "run"), "--epochs", "1"])
    assert r.exit_code != 0
    assert "no windows at all" in r.output and "sensorlab dataset info" in r.output, r.output
    assert "with a train split" not in r.output


def test_training_a_one_class_dataset_is_refused_before_it_trains(corpus_factory, tmp_path):
    """Claps only (unlabeled time dropped): training ran every epoch, then failed exporting with
    "model contract: labels must list at least two class names"."""
    pytest.importorskip("torch")
    from sensorlab.datasets.build import build_dataset
    from sensorlab.datasets.spec import spec_from_dict

    folder = _short_labels_only(corpus_factory(tmp_path / "sessions", {"a": "s01", "b": "s02"}))
    spec = spec_from_dict({"sessions": {"paths": [str(folder)]}, "streams": [{"name": "imu"}],
                           "labels": {"tier": "activity", "unlabeled": "drop", "rule": "any_overlap", "min_coverage": 0.0},
                           "window": {"length": 1.0, "hop": 0.5}}, folder)  # fmt: skip
    build_dataset(spec, tmp_path / "ds.h5")
    r = CliRunner().invoke(cli_app, ["train", str(tmp_path / "ds.h5"), "--task", "timeseries", "--out", str(tmp_path / "run"), "--epochs", "1"])
    assert r.exit_code != 0
    assert "one class ('clap')" in r.output and "background" in r.output, r.output
    assert "epoch 1/1" not in r.output and not (tmp_path / "run").exists()


def test_a_dataset_built_with_test_fraction_0_trains_without_test_metrics(qtbot, corpus_factory, tmp_path):
    """Found walking the loop: test at 0 in the form built a file with only train and val, and
    the Training tab refused it ("no split 'test' to test on … set test_split in the config",
    a field the studio does not have). The empty side is kept: training says "no test metrics"."""
    pytest.importorskip("torch")
    from sensorlab.datasets.dataset import Dataset

    folder = corpus_factory(tmp_path / "sessions", {"a": "s01", "b": "s02"})
    tab = DatasetsTab(folder)
    qtbot.addWidget(tab)
    fill_form(tab, split_by="session", fractions=(0.5, 0.5, 0.0))
    out = tmp_path / "ds.h5"
    build_and_wait_for_report(qtbot, tab, out)
    with Dataset.open(out) as ds:
        assert ds.split_names == ["train", "val", "test"] and not ds.mask("test").any()
    r = CliRunner().invoke(cli_app, ["train", str(out), "--task", "timeseries", "--out", str(tmp_path / "run"), "--epochs", "1"])
    assert r.exit_code == 0, r.output
    assert "no test metrics" in r.output and (tmp_path / "run" / "metrics.json").exists()
