"""The Datasets tab on real labeled sessions: spec round trip, preview = core, build = CLI build, cancel, report."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import shiboken6
from typer.testing import CliRunner

from sensorlab.app.datasets.tab import DatasetsTab
from sensorlab.cli import app as cli_app
from sensorlab.datasets.build import preview_counts
from sensorlab.datasets.dataset import Dataset
from sensorlab.datasets.spec import load_spec
from tests.app.ml.conftest import build_and_wait_for_report, fill_form
from tests.app.rendered import shown


def wait_preview(qtbot, tab):
    with qtbot.waitSignal(tab.preview_done, timeout=60_000) as blocker:
        tab._debounce.stop()
        tab.request_preview()
    return blocker.args[0]


def test_picker_lists_tags_and_tiers_and_the_tag_filter_narrows(qtbot, corpus):
    tab = DatasetsTab(corpus)
    qtbot.addWidget(tab)
    assert [i.path.stem for i in tab.picker.selected()] == ["a1", "a2", "b1", "c1", "d1"]
    assert tab.picker.infos[0].tiers == ["activity"] and "imu" in tab.picker.infos[0].streams
    tab.picker.tag_filter.setText("subject=s01, subject=s02")
    assert [i.path.stem for i in tab.picker.selected()] == ["a1", "a2", "b1"]
    assert tab.spec_doc()["sessions"]["tags"] == ["subject=s01", "subject=s02"]
    tab.picker.tag_filter.setText("subject")  # not key=value: named, and no filter applied
    assert tab.picker.filter_error.isVisibleTo(tab) and "key=value" in tab.picker.filter_error.text()
    assert len(tab.picker.selected()) == 5
    # The form offers what the sessions hold.
    assert tab.form.tier.findText("activity") >= 0 and tab.form.split_by.findText("subject") >= 0


def test_spec_round_trips_through_toml(qtbot, corpus, tmp_path):
    tab = DatasetsTab(corpus)
    qtbot.addWidget(tab)
    fill_form(tab)
    tab.form.rule.setCurrentText("centre")
    tab.form.include.setText("walk, wave")
    tab.where.setText("duration >= 10")
    tab.picker.select([corpus / "a1.h5", corpus / "b1.h5", corpus / "c1.h5"])
    saved = tab.save_spec(tmp_path / "spec.toml")
    written = load_spec(saved)

    other = DatasetsTab(tmp_path)  # another folder: loading moves the picker to the spec's sessions
    qtbot.addWidget(other)
    other.load_spec(saved)
    assert other.picker.folder.resolve() == corpus.resolve()
    assert [i.path.stem for i in other.picker.selected()] == ["a1", "b1", "c1"]
    assert other.spec().model_dump() == written.model_dump()
    assert other.spec_doc() == tab.spec_doc()
    # kfold and leave-one-out keep their own keys.
    tab.form.method.setCurrentIndex(tab.form.method.findData("kfold"))
    tab.form.k.setValue(3)
    other.load_spec(tab.save_spec(tmp_path / "k.toml"))
    assert other.spec().split.method == "kfold" and other.spec().split.k == 3


def test_a_bad_value_is_one_line_naming_the_key(qtbot, corpus):
    tab = DatasetsTab(corpus)
    qtbot.addWidget(tab)
    fill_form(tab)
    tab.form.streams.item(0, 2).setText("fast")
    assert not tab.build(force=False)
    assert tab.spec_error.text().startswith("spec: streams.0.rate:")


def test_preview_equals_core_then_build_equals_cli_build(qtbot, corpus, tmp_path):
    tab = DatasetsTab(corpus)
    qtbot.addWidget(tab)
    fill_form(tab)
    result = wait_preview(qtbot, tab)
    spec = tab.spec()
    core = preview_counts(spec)
    assert result["per_session"] == core
    for cls in result["classes"]:  # the table shows the core's counts, summed per split
        for split in result["splits"]:
            assert tab.preview_cell(cls, split) == int(result["counts"][result["splits"].index(split), result["classes"].index(cls)])
        assert sum(tab.preview_cell(cls, s) for s in result["splits"]) == sum(c[cls] for c in core.values())
    assert result["counts"].sum() > 0 and "background" in result["classes"]

    out = tmp_path / "gui" / "imu.h5"
    tab.output.setText(str(out))
    with qtbot.waitSignal(tab.dataset_built, timeout=120_000):
        assert tab.build(force=False)
    assert tab.progress.value() == tab.progress.maximum() == 5
    # The same spec through the command line gives the same windows, labels and split.
    ref = tmp_path / "cli.h5"
    r = CliRunner().invoke(cli_app, ["dataset", "build", str(out.with_name("imu.spec.toml")), "-o", str(ref)])
    assert r.exit_code == 0, r.output
    with Dataset.open(out) as a, Dataset.open(ref) as b:
        assert a.classes == b.classes and len(a) == len(b) == result["counts"].sum()  # no gaps here: preview is exact
        np.testing.assert_array_equal(a.windows("imu", slice(None)), b.windows("imu", slice(None)))
        for col in ("label", "split", "start"):
            np.testing.assert_array_equal(a.column(col), b.column(col))
        assert a.attrs["content_hash"] == b.attrs["content_hash"]
    # The report panel shows the file's counts and the plots.
    qtbot.waitUntil(lambda: tab.report.report is not None, timeout=60_000)
    rep = tab.report.report
    j = rep.classes.index("walk")
    assert tab.report.cell("walk", "train").startswith(f"{rep.counts[rep.split_names.index('train'), j]} / ")
    assert set(tab.report.images) == {"class_balance", "examples"}
    assert not tab.report.images["examples"].pixmap().isNull()
    assert tab.train_button.isEnabled()


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "gone"


def _pause_mid_build(tab, out: Path, timeout: float = 120.0) -> bool:
    """Stop the build's process (SIGSTOP) once it is writing its temporary file, before the final
    rename; True when it was caught there. Polls the file system, not Qt's event loop, so a
    starved event loop cannot let the build run to its end first."""
    pid = tab.runner.pid
    tmp = out.with_name(f".{out.name}.{pid}.tmp")
    deadline = time.monotonic() + timeout
    while not tmp.exists():
        if time.monotonic() > deadline or _proc_state(pid) in ("Z", "gone"):
            return False
        time.sleep(0.001)
    os.kill(pid, signal.SIGSTOP)
    while _proc_state(pid) not in ("T", "t", "Z", "gone"):
        time.sleep(0.001)
    return _proc_state(pid) in ("T", "t") and tmp.exists() and not out.exists()


def test_cancel_leaves_no_partial_file(qtbot, tmp_path, corpus_factory):
    corpus = corpus_factory(tmp_path / "big", {f"s{i:02d}": f"p{i % 4}" for i in range(10)}, seconds=60.0)
    tab = DatasetsTab(corpus)
    qtbot.addWidget(tab)
    fill_form(tab)
    tab.form.hop.setValue(0.05)
    out = tmp_path / "out" / "big.h5"
    tab.output.setText(str(out))
    for _attempt in range(3):  # a build that outran the poll is retried, never judged
        with qtbot.waitSignal(tab.runner.finished, timeout=120_000) as blocker:
            # A studio started from a background shell job has SIGINT ignored, and its jobs
            # inherit that: Cancel must still reach the command (sensorlab.cli.main restores it).
            ignored = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                assert tab.build(force=True)
            finally:
                signal.signal(signal.SIGINT, ignored)
            caught = _pause_mid_build(tab, out)
            if caught:
                tab.cancel_button.click()  # SIGINT stays pending while the process is stopped
            os.kill(tab.runner.pid, signal.SIGCONT)
        if caught:
            break
        out.unlink(missing_ok=True)
    assert caught, "the build ended before it could be paused three times"
    assert blocker.args[0] == "cancelled", tab.log_view.toPlainText()
    log = tab.log_view.toPlainText()
    assert "interrupted; no dataset written" in log and "killed" not in log, log  # its own clean exit
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir()] == ["big.spec.toml"]  # no temporary file either
    assert tab.build_status.text().startswith("Cancelled: no dataset written")
    assert tab.build_button.isEnabled() and not tab.cancel_button.isEnabled()


def test_a_report_that_arrives_after_the_tab_was_deleted_is_dropped(qtbot, small_dataset):
    # Closing the window while a dataset's report is being read: the result comes back to a
    # deleted widget and used to raise "Internal C++ object already deleted" in the event loop.
    tab = DatasetsTab("")
    tab.open_dataset(small_dataset)
    worker = tab._report_worker
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        shiboken6.delete(tab)  # no event processed in between: the result is still queued
    qtbot.wait(50)  # deliver it; pytest-qt fails the test on any exception in the event loop


def test_dataset_build_json_lines_are_what_the_tab_reads(corpus, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(f'[sessions]\npaths = ["{corpus}/*.h5"]\n[[streams]]\nname = "imu"\n[labels]\ntier = "activity"\n[window]\nlength = 1.0\nhop = 0.5\n')
    r = CliRunner().invoke(cli_app, ["dataset", "build", str(spec), "-o", str(tmp_path / "d.h5"), "--json"])
    assert r.exit_code == 0, r.output
    import json

    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert [e["done"] for e in events if e["event"] == "progress"] == [0, 1, 2, 3, 4, 5]
    done = events[-1]
    assert done["event"] == "done" and done["sessions"] == 5 and done["path"] == str(tmp_path / "d.h5")
    with Dataset.open(tmp_path / "d.h5") as ds:
        assert done["windows"] == len(ds) and done["content_hash"] == ds.attrs["content_hash"]


def test_the_stream_box_is_a_choice_typing_does_not_change_it(qtbot, corpus):
    """Clicking the stream box and typing "i" once turned "camera" into "camerai"."""
    from PySide6.QtCore import Qt

    tab = DatasetsTab(corpus)
    qtbot.addWidget(tab)
    tab.show()
    box = tab.form.stream_choice
    qtbot.waitUntil(lambda: box.count() > 0, timeout=30_000)
    offered = [box.itemText(i) for i in range(box.count())]
    assert "imu" in offered and not box.isEditable()
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_I)  # a key selects an offered stream, never edits the name
    assert box.currentText() in offered
    qtbot.mouseClick(tab.form.add_stream_button, Qt.MouseButton.LeftButton)
    assert tab.form.stream_names() == [box.currentText()]


def test_a_split_with_no_windows_is_named_in_the_preview_and_after_the_build(qtbot, corpus_factory, tmp_path):
    """The preview showed every window in train and the build an empty val: both must name the empty split."""
    from sensorlab.labeling.annotations import AnnotationSet, Segment
    from sensorlab.labeling.store import save_annotations, sidecar_path
    from sensorlab.session.synthetic import T0

    folder = corpus_factory(tmp_path / "sessions", {"good": "s01", "late": "s02"})
    # The late session's labels start after its 20 s recording ended: it gets a split, but no window.
    late = folder / "late.h5"
    save_annotations(AnnotationSet([Segment("x", "activity", "walk", T0 + 40, T0 + 45)]), sidecar_path(late), session=late.name)
    tab = DatasetsTab(folder)
    qtbot.addWidget(tab)
    fill_form(tab, split_by="session", fractions=(0.5, 0.5, 0.0))
    result = wait_preview(qtbot, tab)
    empty = result["assignment"]["late.h5"]
    assert empty != result["assignment"]["good.h5"] and sum(tab.preview_cell(c, empty) for c in result["classes"]) == 0
    preview = tab.preview_status.text()
    assert f"split {empty!r} gets 0 windows" in preview and "late.h5" in preview
    assert f"{empty}: late.h5" in preview  # which session went where, as the build will put it

    build_and_wait_for_report(qtbot, tab, tmp_path / "ds.h5")
    assert f"split {empty!r} gets 0 windows" in tab.build_status.text()
    with Dataset.open(tmp_path / "ds.h5") as ds:
        assert {i["name"]: ds.split["assignment"][i["group"]] for i in ds.inputs} == result["assignment"]


def test_long_preview_and_build_messages_are_never_cut_off(qtbot, corpus):
    """A warning several lines long was cut at its last line: the whole text must be reachable."""
    tab = shown(qtbot, DatasetsTab(corpus), 1200, 700)
    long = "⚠ no usable sessions: " + "; ".join(f"session-{i}.h5: no stream 'camerai' (it has camera, imu, mic, radar, wrist)" for i in range(8))
    for label in (tab.preview_status, tab.build_status):
        label.setText(long)
    for label in (tab.preview_status, tab.build_status):
        # The label gets all the height its wrapped text needs (its box scrolls instead of clipping).
        qtbot.waitUntil(lambda lab=label: lab.height() >= lab.heightForWidth(lab.width()) > 0, timeout=10_000)
        assert label.width() <= label.parentWidget().width()  # wrapped, not cut on the right
