"""The Datasets tab's session list, as a new user meets it: sessions recorded with the command
line and a dataset built beside them (`sensorlab dataset build imu.toml -o imu.h5`).

The list showed the dataset in red ("cannot read … open this file with the program that wrote
it"), ticked into the spec, and no session could be unticked: a click on its box did nothing."""

from __future__ import annotations

from PySide6.QtCore import Qt

from sensorlab.app.datasets.session_picker import SessionPicker
from sensorlab.datasets.dataset import SCHEMA
from tests.app.ml.conftest import datasets_tab_at, write_tiny_dataset


def _check_box_point(tree, row):
    """Where a user clicks to tick or untick row ``row``: the check box left of the name."""
    rect = tree.visualItemRect(tree.topLevelItem(row))
    return rect.topLeft() + type(rect.topLeft())(tree.style().pixelMetric(tree.style().PixelMetric.PM_IndicatorWidth) // 2 + 4, rect.height() // 2)


def test_a_click_unticks_a_session_and_a_dataset_beside_them_is_not_listed(qtbot, corpus_factory, tmp_path):
    folder = corpus_factory(tmp_path / "sessions", {"a1": "s01", "b1": "s02"})
    write_tiny_dataset(folder / "imu.h5", [0, 0, 1, 2])
    import h5py

    with h5py.File(folder / "imu.h5", "r") as f:
        assert f.attrs["schema"] == SCHEMA  # a real dataset file
    picker = SessionPicker(folder)
    qtbot.addWidget(picker)
    picker.resize(400, 300)
    picker.show()
    qtbot.waitExposed(picker)
    assert [i.path.name for i in picker.infos] == ["a1.h5", "b1.h5"]
    tree = picker.tree
    assert all(tree.topLevelItem(n).flags() & Qt.ItemFlag.ItemIsUserCheckable for n in range(2))
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=_check_box_point(tree, 1))
    qtbot.waitUntil(lambda: [i.path.name for i in picker.selected()] == ["a1.h5"], timeout=5_000)


def test_an_unreadable_file_is_shown_but_never_ticked(qtbot, corpus_factory, tmp_path):
    folder = corpus_factory(tmp_path / "sessions", {"a1": "s01"})
    (folder / "broken.h5").write_bytes(b"not hdf5")
    picker = SessionPicker(folder)
    qtbot.addWidget(picker)
    names = [i.path.name for i in picker.infos]
    assert names == ["a1.h5", "broken.h5"]
    broken = picker.tree.topLevelItem(1)
    assert broken.text(1).startswith("cannot read")
    assert not broken.flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert [i.path.name for i in picker.selected()] == ["a1.h5"]


def test_a_dataset_given_where_a_session_goes_is_named_as_a_dataset(tmp_path):
    from sensorlab.session.reader import Session

    write_tiny_dataset(tmp_path / "imu.h5", [0, 1])
    try:
        Session.open(tmp_path / "imu.h5")
    except Exception as e:  # noqa: BLE001 (the message is what the user reads)
        message = str(e)
    else:
        raise AssertionError("a dataset opened as a session")
    assert "is a sensorlab dataset" in message and "sensorlab dataset info" in message
    assert "the program that wrote it" not in message


def test_an_empty_folder_says_so_and_folder_button_lists_another(qtbot, corpus_factory, tmp_path):
    """Sessions recorded with `sensorlab record` sit in the shell's folder; the tab showed an
    empty list under "Sessions in ~/sensorlab-sessions" with no way to another folder."""
    empty = tmp_path / "studio-sessions"
    empty.mkdir()
    recorded = corpus_factory(tmp_path / "recorded", {"a1": "s01"})
    picker = SessionPicker(empty)
    qtbot.addWidget(picker)
    picker.show()
    assert picker.folder_label.text().startswith(f"No sessions in {empty}") and "Folder…" in picker.folder_label.text()
    assert picker.folder_button.isVisible() and picker.folder_button.text() == "Folder…"
    dialog = picker.choose_folder()
    dialog.setDirectory(str(recorded))
    dialog.accept()  # Choose, with the folder open
    assert picker.folder == recorded and [i.path.name for i in picker.infos] == ["a1.h5"]
    assert picker.folder_label.text() == f"Sessions in {recorded}"


def test_the_folder_button_leaves_the_build_pane_whole_at_the_first_start_size(qtbot, make_window, corpus):
    """The studio's first window on a 1280×800 screen is 1152×720. Folder… in the All / None /
    Refresh row widened the session pane's minimum by 86 px, and the Build pane's Workers box
    ran past the window's right edge."""
    from tests.app.ml.test_datasets_tab_laptop import _whole_on_screen

    w = make_window()
    tab = datasets_tab_at(qtbot, w, corpus, 1152, 720)
    for widget in (tab.workers, tab.progress, tab.picker.folder_button):
        assert _whole_on_screen(widget), (widget, widget.visibleRegion().boundingRect(), widget.size())
