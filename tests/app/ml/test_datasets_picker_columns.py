"""The Datasets tab's session list shows each session's tiers readably at the studio's size."""

from __future__ import annotations

from sensorlab.app.datasets.tab import DatasetsTab
from tests.app.rendered import shown


def test_tiers_column_is_whole_and_in_view_at_the_studio_size(qtbot, corpus_factory, tmp_path):
    folder = corpus_factory(tmp_path / "sessions", {"walk_s01_morning_session": "s01", "walk_s02_evening_session": "s02"})
    tab = shown(qtbot, DatasetsTab(folder), 1370, 820)  # the tab in a 1400×900 studio window
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


def test_the_tier_offered_first_is_one_with_labels_not_the_suggestions(qtbot, corpus_factory, tmp_path):
    """A new user's walk: energy suggestions on the demo, all accepted (`labels accept`). The
    sidecar keeps an empty "suggestions" tier ahead of "default"; the form took it as its tier
    and the preview counted no labeled window. Only tiers with reviewed labels are offered."""
    from sensorlab.labeling.annotations import AnnotationSet, Segment
    from sensorlab.labeling.store import load_annotations, save_annotations, sidecar_path
    from sensorlab.labeling.suggestions import accept_suggestions
    from sensorlab.session.synthetic import T0

    folder = corpus_factory(tmp_path / "sessions", {"claps": "s01"})
    path = folder / "claps.h5"
    ann = AnnotationSet([Segment.create("suggestions", "clap", T0 + t, T0 + t + 0.05, suggested=True, source="suggest:energy:mic")
                         for t in (2.0, 4.0)])  # fmt: skip
    save_annotations(ann, sidecar_path(path), session=path.name)
    accept_suggestions(path)
    assert load_annotations(sidecar_path(path)).tier_names[0] == "suggestions"  # kept, empty

    tab = DatasetsTab(folder)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitUntil(lambda: tab.picker.tree.topLevelItemCount() == 1, timeout=30_000)
    assert tab.picker.infos[0].tiers == ["default"]
    qtbot.waitUntil(lambda: tab.form.tier.currentText() == "default", timeout=10_000)
    assert [tab.form.tier.itemText(i) for i in range(tab.form.tier.count())] == ["default"]
