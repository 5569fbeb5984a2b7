"""While the Datasets tab rebuilds a dataset, the report panel says so instead of showing the
previous report, which stayed on screen (and read as the new build's) until the new file was
read; "Train on it →" waits for the new report. A build that fails shows the earlier report again."""

from __future__ import annotations

import os
import signal

from sensorlab.app.datasets.tab import DatasetsTab
from tests.app.ml.conftest import build_and_wait_for_report, fill_form
from tests.app.rendered import shown


def test_a_rebuild_says_it_is_building_until_the_new_report_is_read(qtbot, tmp_path, corpus):
    tab = shown(qtbot, DatasetsTab(corpus), 1280, 740)
    fill_form(tab)
    out = tmp_path / "set.h5"
    build_and_wait_for_report(qtbot, tab, out)
    first = tab.report.report
    assert tab.train_button.isEnabled()

    # A rebuild that dies: the panel said it was building, then shows the earlier report again.
    with qtbot.waitSignal(tab.runner.finished, timeout=120_000) as blocker:
        assert tab.build(force=True)
        assert tab.report.report is None and tab.report.class_table is None
        assert "Building set.h5" in tab.report.widget().text()
        assert not tab.train_button.isEnabled()
        os.kill(tab.runner.pid, signal.SIGKILL)
    assert blocker.args[0] == "failed"
    assert tab.report.report is first and tab.report.class_table is not None and tab.train_button.isEnabled()

    # A rebuild that completes: the building note until the new file's report replaces it.
    with qtbot.waitSignal(tab.dataset_built, timeout=120_000):
        assert tab.build(force=True)
        assert tab.report.report is None and "Building set.h5" in tab.report.widget().text()
    qtbot.waitUntil(lambda: tab.report.report is not None, timeout=60_000)
    assert tab.report.report is not first and tab.report.report.windows == first.windows
    assert tab.train_button.isEnabled()
