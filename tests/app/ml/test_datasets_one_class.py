"""A dataset of one class: the build line read "10 windows, 1 classes", Train on it → was on,
and training failed after loading PyTorch ("a classifier needs two or more"). The build says it
with the fix, counts "1 class", and Train on it → stays off with the reason."""

from __future__ import annotations

from sensorlab.app.datasets.tab import DatasetsTab
from tests.app.ml.conftest import build_and_wait_for_report, fill_form


def test_a_one_class_build_says_so_and_does_not_offer_training(qtbot, corpus_factory, tmp_path):
    folder = corpus_factory(tmp_path / "sessions", {"a": "s01", "b": "s02", "c": "s03"})
    tab = DatasetsTab(folder)
    qtbot.addWidget(tab)
    fill_form(tab, split_by="subject", fractions=(0.34, 0.33, 0.33))
    tab.form.unlabeled.setCurrentText("drop")
    tab.form.include.setText("walk")  # only walking was labeled, nothing else kept
    build_and_wait_for_report(qtbot, tab, tmp_path / "ds.h5")
    status = tab.build_status.text()
    first = status.splitlines()[0]
    assert first.endswith("windows, 1 class"), status
    assert "⚠ one class ('walk'): a classifier needs two or more" in status and "Unlabeled time: background" in status, status
    assert not tab.train_button.isEnabled() and "one class" in tab.train_button.toolTip()
    title = tab.report.widget().findChildren(type(tab.build_status))[0].text()
    assert "1 class," in title and "1 classes" not in title, title
