"""The Datasets tab across studio restarts (its spec form is remembered, a remembered stream that
is gone is left out and named), and one `min_coverage` default for the tab and spec files."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from sensorlab.app.datasets.tab import DatasetsTab
from sensorlab.cli import app as cli_app
from sensorlab.datasets.build import preview_counts
from sensorlab.datasets.spec import DEFAULT_MIN_COVERAGE, load_spec
from tests.app.ml.conftest import fill_form


def test_the_studio_remembers_the_datasets_streams_and_spec(qtbot, make_window, corpus):
    w = make_window()
    w.session_form.folder.setText(str(corpus))
    w.main_tabs.setCurrentWidget(w.datasets_tab)
    tab = w.datasets_tab
    qtbot.waitUntil(lambda: tab.picker.tree.topLevelItemCount() == 5, timeout=30_000)
    fill_form(tab)
    tab.form.hop.setValue(0.3)
    tab.where.setText("duration >= 10")
    w.close()  # the studio quits and starts again on the same settings

    again = make_window()
    again.main_tabs.setCurrentWidget(again.datasets_tab)
    tab = again.datasets_tab
    qtbot.waitUntil(lambda: tab.picker.tree.topLevelItemCount() == 5, timeout=30_000)
    assert tab.form.stream_names() == ["imu"]
    assert tab.form.tier.currentText() == "activity" and tab.form.hop.value() == 0.3
    assert tab.form.unlabeled.currentText() == "background" and tab.where.text() == "duration >= 10"
    assert not tab.restore_note.isVisibleTo(tab)


def test_a_remembered_stream_no_session_holds_is_left_out_and_named(qtbot, settings, corpus):
    first = DatasetsTab(corpus, settings=settings)
    qtbot.addWidget(first)
    fill_form(first)
    first.form.add_stream("eeg")  # recorded with another rig: none of these sessions has it
    first.remember()
    first._debounce.stop()  # no preview of that spec (it names a stream the sessions lack)

    tab = DatasetsTab(corpus, settings=settings)
    qtbot.addWidget(tab)
    assert tab.form.stream_names() == ["imu"]
    assert tab.restore_note.isVisibleTo(tab)
    assert "'eeg'" in tab.restore_note.text() and "none of the sessions" in tab.restore_note.text()
    tab.form.add_stream_button.click()  # the user picks streams again: the note has done its job
    assert not tab.restore_note.isVisibleTo(tab)


def test_min_coverage_is_the_same_in_the_tab_and_in_a_spec_file(qtbot, corpus, tmp_path):
    # It was 0.5 in the tab and 0 in a spec file that did not set it: 15 and 23 windows from the
    # same sessions. Short spans (1 s) in 1 s windows every 0.3 s tell the two apart.
    tab = DatasetsTab(corpus)
    qtbot.addWidget(tab)
    fill_form(tab)
    tab.form.hop.setValue(0.3)
    assert tab.form.min_coverage.value() == DEFAULT_MIN_COVERAGE
    doc = tab.spec_doc()
    del doc["labels"]["min_coverage"]  # a spec written by hand, for `sensorlab dataset build`
    import tomli_w

    path = tmp_path / "by_hand.toml"
    path.write_text(tomli_w.dumps(doc))
    assert preview_counts(load_spec(path)) == preview_counts(tab.spec())
    tab.form.set_dict(json.loads(json.dumps(doc)))  # the same file loaded into the tab
    assert tab.form.min_coverage.value() == DEFAULT_MIN_COVERAGE
    help_text = CliRunner().invoke(cli_app, ["dataset", "build", "--help"], terminal_width=200).output
    assert f"min_coverage (default {DEFAULT_MIN_COVERAGE:g}" in " ".join(help_text.split())


def test_a_dataset_built_before_the_restart_is_shown_with_train_on_it(qtbot, settings, corpus, small_dataset, tmp_path):
    # After a restart the tab said "not built yet" over the dataset file the user had built, and
    # Train on it → stayed off until they found Open dataset….
    first = DatasetsTab(corpus, settings=settings)
    qtbot.addWidget(first)
    first.output.setText(str(small_dataset))
    first.output.setModified(True)  # chosen with "…", as a user does
    first.remember()
    first._debounce.stop()

    tab = DatasetsTab(corpus, settings=settings)
    qtbot.addWidget(tab)
    assert tab.output.text() == str(small_dataset)
    tab.show()
    qtbot.waitUntil(lambda: tab.train_button.isEnabled(), timeout=30_000)
    assert tab.dataset_path == small_dataset
    assert tab.progress.text().startswith(f"{small_dataset.name}: ") and "not built" not in tab.progress.text()
    assert tab.report.report is not None and tab.report.report.windows > 0

    fresh = DatasetsTab(corpus, settings=None)  # nothing remembered, no file at the default output
    qtbot.addWidget(fresh)
    fresh.show()
    qtbot.wait(200)
    assert fresh.progress.text() == "not built yet" and not fresh.train_button.isEnabled()
