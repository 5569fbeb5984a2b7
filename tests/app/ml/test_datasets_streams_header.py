"""The Datasets tab's streams table shows its column titles whole, also with a stream selected.

Found at 1280 × 800: after Add (which selects the new row) or editing a rate, the titles read
"hannels (empty: all" and "ate Hz (empty: own": three equal columns, and the selected row's
column titles drawn bold, so wider than their columns, cut on both sides."""

from __future__ import annotations

from PySide6.QtGui import QFontMetrics

from tests.app.ml.conftest import datasets_tab_at


def _title_room(table) -> list[tuple[str, int, int]]:
    """(title, the width its text needs as drawn, its column's width) per column."""
    header = table.horizontalHeader()
    selected = {i.column() for i in table.selectedIndexes()}
    out = []
    for col in range(table.columnCount()):
        font = header.font()
        # Qt draws the titles of a selected row's columns bold when sections are highlighted.
        font.setBold(header.highlightSections() and col in selected)
        text = table.horizontalHeaderItem(col).text()
        out.append((text, QFontMetrics(font).horizontalAdvance(text), header.sectionSize(col)))
    return out


def test_stream_titles_are_whole_with_a_row_selected(qtbot, make_window, corpus):
    w = make_window()
    tab = datasets_tab_at(qtbot, w, corpus, 1280, 800)
    table = tab.form.streams
    tab.form.add_stream("imu")
    item = table.item(0, 2)
    table.setCurrentItem(item)
    item.setText("100")  # the user's target rate: the row stays selected
    qtbot.wait(100)
    assert table.selectedIndexes()
    for text, needs, has in _title_room(table):
        assert needs < has, f"{text!r} needs {needs} px, its column has {has}"
    assert table.horizontalHeader().sectionSize(0) >= 60  # the stream name keeps room too
