"""The studio fits a 1280 × 800 laptop screen, Datasets tab included.

Found walking the quick start at 1280 × 800: the Datasets tab's Preview and Build boxes asked
for ~540 px, and a tab's minimum counts on every tab, so the studio could not be shorter than
863 px; the window grew past the screen's bottom edge (status bar and stream health out of
sight) the next time its layout was redone ("Use in live view"). And the Spec column got less
than the form needs: the streams' Remove button sat under a sideways scroll bar.
"""

from __future__ import annotations

from PySide6.QtCore import QRect

from tests.app.ml.conftest import datasets_tab_at

# 800 px of screen, less a title bar and a desktop panel.
LAPTOP_HEIGHT = 740


def _whole_on_screen(widget) -> bool:
    """Every pixel of ``widget`` is inside its window and not hidden by a scroll area."""
    shown = widget.visibleRegion().boundingRect()
    return shown == QRect(0, 0, widget.width(), widget.height())


def test_the_studio_fits_a_laptop_screen_on_every_tab(qtbot, make_window, corpus):
    w = make_window()
    w.session_form.folder.setText(str(corpus))
    w.resize(1280, 800)
    for index in (1, 2, 0):  # Datasets, Training, then Live with its docks
        w.main_tabs.setCurrentIndex(index)
        qtbot.wait(100)
        assert w.minimumSizeHint().height() <= LAPTOP_HEIGHT, (w.main_tabs.tabText(w.main_tabs.currentIndex()), w.minimumSizeHint())
    # A layout request (as a new live panel makes) keeps the window on the screen.
    w.centralWidget().updateGeometry()
    qtbot.wait(200)
    assert w.height() == 800


def test_the_spec_form_is_whole_beside_sessions_and_preview_at_1280_px(qtbot, make_window, corpus):
    w = make_window()
    tab = datasets_tab_at(qtbot, w, corpus, 1280, 800)
    scroll = tab.form.parentWidget().parentWidget()  # the form's QScrollArea (viewport, then area)
    assert not scroll.horizontalScrollBar().isVisible()
    for button in (tab.form.add_stream_button, tab.form.remove_stream_button):
        assert _whole_on_screen(button), (button.text(), button.visibleRegion().boundingRect(), button.size())
    # Preview and Build are whole at this size (they scroll only in a shorter window).
    assert _whole_on_screen(tab.build_button) and _whole_on_screen(tab.train_button)


def test_the_preview_shows_its_totals_row_for_four_classes_and_background(qtbot, tmp_path):
    """The preview table has a fixed height (Build must not move); with Qt's 30 px rows, the
    walk's clap, speech, walk, gesture and background hid the "all" row below the fold."""
    import numpy as np

    from sensorlab.app.datasets.tab import DatasetsTab

    tab = DatasetsTab(tmp_path)
    qtbot.addWidget(tab)
    tab.resize(1280, 760)
    tab.show()
    qtbot.waitExposed(tab)
    table = tab.preview_table
    classes = ["clap", "speech", "walk", "gesture", "background"]
    table.show_counts(classes, ["train", "val", "test"], np.arange(15).reshape(3, 5))
    qtbot.wait(50)
    last = table.visualRect(table.model().index(table.rowCount() - 1, 0))
    assert table.item(table.rowCount() - 1, 0).text() == "all"
    assert last.bottom() < table.viewport().height() and not table.verticalScrollBar().isVisible()
