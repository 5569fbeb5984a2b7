"""The Training tab on a narrow window: every control and both plots stay on screen. With the
results' six controls in one row the tab could not be narrower than 885 px, so in a smaller
window (a laptop's half screen) the plots' right side and "Use in live view" were cut off."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect

from sensorlab.app.training.tab import TrainingTab
from tests.app.rendered import shown


def test_every_control_and_the_plots_are_inside_a_760_px_wide_tab(qtbot):
    tab = shown(qtbot, TrainingTab(), 760, 600)
    assert tab.minimumSizeHint().width() <= 760
    visible = QRect(QPoint(0, 0), tab.size())
    r = tab.results
    t = r.tflite
    for w in (r.export_button, r.quantize_button, r.prune_button, r.sparsity, r.model_choice, r.use_button, t.int8_button, t.fp32_button,
              t.c_button, t.folder_button, tab.plots, tab.train_button, tab.open_button):  # fmt: skip
        box = QRect(w.mapTo(tab, QPoint(0, 0)), w.size())
        assert visible.contains(box), f"{w.__class__.__name__} {getattr(w, 'text', lambda: '')()!r} at {box} outside the {visible} tab"
    # The buttons keep room for their whole text.
    for b in (r.export_button, r.quantize_button, r.prune_button, r.use_button, t.int8_button, t.fp32_button, t.c_button, t.folder_button):
        assert b.width() >= b.fontMetrics().horizontalAdvance(b.text())
