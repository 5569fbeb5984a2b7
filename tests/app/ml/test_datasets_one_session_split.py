"""A dataset built from one session says, where the user looks, that val and test are empty,
why, and what to do. Found walking the loop: one recorded session, Build, and the status line
read only "15 windows, 4 classes"; the report's warnings (far below) said "split 'val' has no
groups" and "split 'val' has no windows" (twice each, no reason, no fix), and training then ran
with no test metrics."""

from __future__ import annotations

from sensorlab.app.datasets.tab import DatasetsTab
from tests.app.ml.conftest import build_and_wait_for_report, fill_form


def test_one_session_build_says_val_and_test_are_empty_and_how_to_fix_it(qtbot, corpus_factory, tmp_path):
    folder = corpus_factory(tmp_path / "sessions", {"a": "s01"})
    tab = DatasetsTab(folder)
    qtbot.addWidget(tab)
    fill_form(tab, split_by="session", fractions=(0.7, 0.15, 0.15))
    # The preview says it before building, first among its lines (its box shows four).
    qtbot.waitUntil(lambda: "get no windows" in tab.preview_status.text(), timeout=30_000)
    warnings = [line for line in tab.preview_status.text().splitlines() if line.startswith("⚠")]
    assert "'val' and 'test' get no windows" in warnings[0], warnings
    build_and_wait_for_report(qtbot, tab, tmp_path / "ds.h5")
    status = tab.build_status.text()
    assert "'val' and 'test' get no windows" in status, status
    assert "1 session for 3 splits" in status, status  # why
    assert "no test metrics" in status, status  # what it means for training
    assert "Record another session" in status and "fractions to 0" in status, status  # what to do
    report = tab.report.widget().findChildren(type(tab.build_status))
    shown = "\n".join(label.text() for label in report)
    assert shown.count("'val'") == 1 and "has no groups" not in shown, shown  # once, with the reason


def test_two_sessions_for_three_splits_name_the_empty_test_split(qtbot, corpus_factory, tmp_path):
    folder = corpus_factory(tmp_path / "sessions", {"a": "s01", "b": "s02"})
    tab = DatasetsTab(folder)
    qtbot.addWidget(tab)
    fill_form(tab, split_by="subject", fractions=(0.7, 0.15, 0.15))
    build_and_wait_for_report(qtbot, tab, tmp_path / "ds.h5")
    status = tab.build_status.text()
    assert "split 'test' gets no windows: 2 values of 'subject' for 3 splits" in status, status
    assert "Record a session with another 'subject' for each, or set its fraction to 0" in status, status
