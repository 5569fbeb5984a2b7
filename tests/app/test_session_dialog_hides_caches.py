"""The "open a session" dialogs list recordings, not the overview caches beside them.

Found walking the studio: Label…'s dialog listed ``run1.pyramid.h5`` next to ``run1.h5`` as if
it were a recording of its own; picking it gave a message about a missing 'schema' attribute.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QListView

from sensorlab.session.pyramid import Pyramid, cache_path
from sensorlab.session.reader import Session, SessionError
from sensorlab.session.synthetic import write_synthetic_session


def _session_with_cache(folder):
    path = folder / "run1.h5"
    write_synthetic_session(path, 2.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0, frame_shape=(8, 8), predictions=False)
    with Session.open(path) as s:
        Pyramid.open(s).close()  # the labeling view's overview cache, as after labeling it once
    assert cache_path(path).exists()
    return path


def _listed(qtbot, dialog) -> list[str]:
    view = dialog.findChild(QListView, "listView")
    model = view.model()
    qtbot.waitUntil(lambda: model.rowCount(view.rootIndex()) > 0, timeout=10_000)  # the folder is read in a thread
    root = view.rootIndex()
    return sorted(model.index(r, 0, root).data() for r in range(model.rowCount(root)))


def test_label_dialog_offers_the_session_not_its_cache(qtbot, make_window, tmp_path):
    folder = tmp_path / "sessions"
    folder.mkdir()
    _session_with_cache(folder)
    w = make_window()
    w.session_form.folder.setText(str(folder))
    w.label_action.trigger()
    qtbot.waitUntil(lambda: w.label_dialog is not None and w.label_dialog.isVisible(), timeout=5_000)
    assert _listed(qtbot, w.label_dialog) == ["run1.h5"]
    w.label_dialog.reject()


def test_labeling_window_open_offers_the_session_not_its_cache(qtbot, tmp_path):
    from sensorlab.app.labeling.main import LabelingWindow

    path = _session_with_cache(tmp_path)
    w = LabelingWindow(path, play_audio=False)
    qtbot.addWidget(w)
    w._ask_open()
    qtbot.waitUntil(lambda: w.open_dialog.isVisible(), timeout=5_000)
    assert _listed(qtbot, w.open_dialog) == ["run1.h5"]
    w.open_dialog.reject()


def test_cache_opened_by_hand_names_the_session_to_open(tmp_path, capsys):
    """`sensorlab info|label run1.pyramid.h5` says what the file is and which one to open."""
    from typer.testing import CliRunner

    from sensorlab.app.labeling.main import main as label_main
    from sensorlab.cli import app

    path = _session_with_cache(tmp_path)
    cache = cache_path(path)
    result = CliRunner().invoke(app, ["info", str(cache)])
    assert result.exit_code != 0
    assert f"overview cache of run1.h5, not a session: open {path} instead" in result.output
    assert "schema" not in result.output
    with pytest.raises(SessionError, match=f"overview cache of run1.h5, not a session: open {path} instead"):
        Session.open(cache)
    assert label_main([str(cache)]) == 1
    assert f"sensorlab label: {cache} is the labeling view's overview cache of run1.h5" in capsys.readouterr().err


def test_the_dialogs_columns_show_size_type_and_date_whole(qtbot, tmp_path):
    # Seen under Xvfb: the dialog opened 632 px wide with "39....MiB" and "HDF...ent" in its columns.
    from PySide6.QtWidgets import QTreeView

    from sensorlab.app.common.session_dialog import session_file_dialog

    _session_with_cache(tmp_path)
    dialog = session_file_dialog(None, "Open a session to label", tmp_path)
    qtbot.addWidget(dialog)
    dialog.open()
    # As wide as the screen allows up to 960 px: a long session name and its Size, Type and Date.
    screen = dialog.screen().availableGeometry()
    assert dialog.width() >= min(960, int(0.9 * screen.width())), (dialog.width(), screen.width())
    tree = dialog.findChild(QTreeView, "treeView")
    model = tree.model()
    qtbot.waitUntil(lambda: model.rowCount(tree.rootIndex()) > 0, timeout=10_000)
    root = tree.rootIndex()
    qtbot.waitUntil(lambda: model.index(0, 1, root).data() not in (None, ""), timeout=10_000)  # sizes are read in a thread
    fm = tree.fontMetrics()

    def cut() -> list[str]:
        out = []
        for column in range(model.columnCount(root)):
            text = str(model.index(0, column, root).data())
            if fm.horizontalAdvance(text) > tree.columnWidth(column) - 6:  # the item's margins
                out.append(f"{text!r} in {tree.columnWidth(column)} px")
        return out

    def fits() -> None:
        assert not cut(), cut()

    qtbot.waitUntil(fits, timeout=5_000)  # the file's details arrive from a thread: the columns follow them
    dialog.reject()
