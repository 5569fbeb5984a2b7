"""The Datasets tab's session list shows each session's tiers readably at the studio's size."""

from __future__ import annotations

from sensorlab.app.datasets.tab import DatasetsTab


def test_tiers_column_is_whole_and_in_view_at_the_studio_size(qtbot, corpus_factory, tmp_path):
    folder = corpus_factory(tmp_path / "sessions", {"walk_s01_morning_session": "s01", "walk_s02_evening_session": "s02"})
    tab = DatasetsTab(folder)
    qtbot.addWidget(tab)
    tab.resize(1370, 820)  # the tab in a 1400×900 studio window
    tab.show()
    qtbot.waitExposed(tab)
    tree = tab.picker.tree
    qtbot.waitUntil(lambda: tree.topLevelItemCount() == 2, timeout=30_000)
    header = tree.headerItem()
    col = next(c for c in range(tree.columnCount()) if header.text(c) == "Tiers")
    metrics = tree.fontMetrics()
    view_w = tree.viewport().width()
    for n in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(n)
        assert item.text(col) == "activity"
        # The text fits its column, and the column lies inside the list without scrolling.
        assert metrics.horizontalAdvance(item.text(col)) + 6 <= tree.columnWidth(col), (tree.columnWidth(col), item.text(col))
        assert tree.header().sectionViewportPosition(col) + tree.columnWidth(col) <= view_w, (
            tree.header().sectionViewportPosition(col), tree.columnWidth(col), view_w)
        # Long tags are cut to keep the list readable; the whole text is the cell's tooltip.
        tags = next(c for c in range(tree.columnCount()) if header.text(c) == "Tags")
        assert item.toolTip(tags) == item.text(tags) and "location=lab" in item.text(tags)
