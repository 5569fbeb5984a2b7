"""File → Label set…: what the table says when a row is wrong, and saving it."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QTableWidgetItem

from sensorlab.app.labeling.labelset_editor import LabelSetEditor
from sensorlab.labeling.labelset import LabelSet


def test_a_hotkey_that_is_not_a_digit_is_named_with_its_row_and_the_fix(qtbot, tmp_path):
    labels = LabelSet.from_names(["clap", "speech"])
    editor = LabelSetEditor(labels, tmp_path / "labels.toml")
    qtbot.addWidget(editor)
    editor.table.setItem(1, 2, QTableWidgetItem("s"))  # a letter where the digit goes
    with pytest.raises(ValueError) as e:
        editor.rows()
    # Was Python's "invalid literal for int() with base 10: 's'".
    assert str(e.value) == "row 2 (speech): the hotkey must be a digit 1–9, not 's'"


def test_ok_saves_the_edited_set_beside_the_session(qtbot, tmp_path):
    labels = LabelSet.from_names(["clap", "speech"])
    editor = LabelSetEditor(labels, tmp_path / "labels.toml")
    qtbot.addWidget(editor)
    editor.table.setItem(1, 2, QTableWidgetItem("5"))
    editor.apply()
    assert labels.by_hotkey(5).name == "speech"
    assert LabelSet.load(tmp_path / "labels.toml").by_hotkey(5).name == "speech"


def test_ok_with_a_bad_row_or_an_unwritable_file_says_so_under_the_table_and_changes_nothing(qtbot, tmp_path):
    labels = LabelSet.from_names(["clap", "speech"])
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the project folder should be")
    editor = LabelSetEditor(labels, blocker / "labels.toml")
    qtbot.addWidget(editor)
    editor.show()
    editor.table.setItem(1, 2, QTableWidgetItem("x"))
    editor.apply()  # was a modal message box over the table
    assert editor.error.text() == "⚠ row 2 (speech): the hotkey must be a digit 1–9, not 'x'"
    assert editor.isVisible()
    editor.table.setItem(1, 2, QTableWidgetItem("5"))
    editor.apply()
    assert editor.error.text().startswith(f"⚠ cannot save {blocker / 'labels.toml'}: ") and editor.error.text().endswith("Fix the folder or Cancel")
    assert editor.isVisible()
    assert labels.by_hotkey(5) is None and labels.by_hotkey(2).name == "speech"  # nothing half applied
