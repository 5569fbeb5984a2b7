"""Labels another program writes into the sidecar of a session open in a labeling window show
in the window within a second, and the tier box names the active tier while the session opens.

The window's autosave kept imported labels in the file, but the window showed them only after
reopening (the one notice was a log line on stderr), so a user who ran `sensorlab labels import`
beside the open window saw nothing arrive. And the tier box stayed empty until the overview
cache was built."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from sensorlab.labeling.cli_commands import import_labels, open_session_annotations
from sensorlab.labeling.commands import AddSegment
from sensorlab.labeling.annotations import Segment
from sensorlab.labeling.labelset import LabelSet
from sensorlab.session.synthetic import T0
from tests.app.test_labeling_unlabeled_session import unlabeled_session


def test_labels_imported_while_the_window_is_open_show_without_reopening(open_view, tmp_path, qtbot):
    path = unlabeled_session(tmp_path / "rig1.h5")
    v = open_view(path)
    mine = Segment.create(v.tier, "wave", T0 + 1.0, T0 + 2.0)
    v.annotation_view.push(AddSegment(mine))  # an edit of the window's own, autosaved

    csv = tmp_path / "words.csv"
    csv.write_text("tier,label,start,end\nwords,hello,4.0,5.5\nwords,bye,9.0,9.0\n")
    import_labels(path, csv)  # what `sensorlab labels import rig1.h5 words.csv` does

    qtbot.waitUntil(lambda: len(v.annotations.segments("words")) == 2, timeout=10_000)
    imported = {s.label: s for s in v.annotations.segments("words")}
    assert imported["hello"].start == T0 + 4.0 and imported["bye"].is_point
    assert "words" in v.annotation_view.lanes  # a lane for the new tier
    qtbot.waitUntil(lambda: all(s.id in v.annotation_view.items for s in imported.values()), timeout=5000)
    assert "2 label(s) added by another program" in v.status.text() and "'words'" in v.status.text()
    assert v.tier_box.findText("words") >= 0
    assert mine.id in v.annotations  # the window's own edit is untouched

    # Undoing the window's edit never deletes the imported labels, in the window or the file.
    v.stack.undo()
    assert mine.id not in v.annotations and len(v.annotations.segments("words")) == 2
    on_disk = open_session_annotations(path)
    assert mine.id not in on_disk and {s.label for s in on_disk.segments("words")} == {"hello", "bye"}
    assert v.sidecar_watch.check() == 0  # nothing shown twice


def test_the_tier_box_names_the_active_tier_while_the_session_opens(tmp_path, qtbot):
    from sensorlab.app.labeling.view import LabelingView

    path = unlabeled_session(tmp_path / "rig1.h5", seconds=60.0)  # no overview cache yet: built in a worker
    ini = QSettings(str(tmp_path / "labeling.ini"), QSettings.Format.IniFormat)
    v = LabelingView(path, LabelSet.from_names(["wave"]), play_audio=False, settings=ini)
    qtbot.addWidget(v)
    with qtbot.waitSignal(v.session_ready, timeout=30_000):
        v.show()
        assert v.timeline is None  # still opening
        assert v.tier and v.tier_box.currentText() == v.tier
    assert v.tier_box.currentText() == v.tier
    v.close_session()


def test_labels_another_program_deletes_leave_the_window_and_are_not_saved_back(open_view, tmp_path, qtbot):
    path = unlabeled_session(tmp_path / "rig1.h5")
    v = open_view(path)
    old = [Segment.create(v.tier, "wave", T0 + t, T0 + t + 0.5) for t in (1.0, 3.0)]
    for seg in old:
        v.annotation_view.push(AddSegment(seg))  # the window's own labels, autosaved

    csv = tmp_path / "words.csv"
    csv.write_text("tier,label,start,end\nwords,hello,4.0,5.5\n")
    import_labels(path, csv, merge=False)  # `sensorlab labels import --replace rig1.h5 words.csv`

    qtbot.waitUntil(lambda: not any(s.id in v.annotations for s in old), timeout=10_000)
    assert [s.label for s in v.annotations] == ["hello"]
    assert "2 label(s) deleted by another program" in v.status.text()
    qtbot.waitUntil(lambda: not any(s.id in v.annotation_view.items for s in old), timeout=5000)  # gone from the lanes

    v.annotation_view.push(AddSegment(Segment.create(v.tier, "clap", T0 + 8.0)))  # the next edit saves
    assert sorted(s.label for s in open_session_annotations(path)) == ["clap", "hello"]


def test_a_label_edited_in_the_window_survives_another_program_deleting_it(open_view, tmp_path, qtbot):
    from sensorlab.labeling.commands import MoveSegment
    from sensorlab.labeling.store import load_annotations, save_annotations, sidecar_path

    path = unlabeled_session(tmp_path / "rig1.h5")
    v = open_view(path)
    seg = Segment.create(v.tier, "wave", T0 + 1.0, T0 + 1.5)
    v.annotation_view.push(AddSegment(seg))
    v.sidecar_watch.timer.stop()  # the edit below lands before the window's next check
    theirs = load_annotations(sidecar_path(path))  # another labeling window deletes it
    theirs.remove(seg.id)
    save_annotations(theirs, sidecar_path(path))

    v.annotation_view.push(MoveSegment(seg.id, start=T0 + 2.0, end=T0 + 2.5))  # edited here meanwhile
    assert open_session_annotations(path)[seg.id].start == T0 + 2.0  # the window's edit is saved
    v.sidecar_watch.check()
    assert v.annotations[seg.id].start == T0 + 2.0
    assert "kept this window's edit of 1 label(s) (wave) that another program deleted" in v.status.text()
