"""The newest event's text, at the live view's right edge, is drawn whole. Found using the
studio: the board's newest class ("background") was written right of its line, which is at
the right edge while it is new, and the plot cut it to "backg". Checked on the rendered pixels."""

from __future__ import annotations

from PySide6.QtCore import QPointF

from tests.app.rendered import columns_with, shown_events_panel

BLUE, GREEN = "#4e9bf5", "#5ac85a"


def _row_y(panel, layer, row: int) -> int:
    r = layer.boundingRect()
    return panel.graphics.mapFromScene(layer.mapToScene(QPointF(r.left(), r.top() + 1 + (row + 0.5) * layer._metrics.height()))).y()


def test_the_newest_text_ends_at_the_right_edge_whole_then_moves_with_its_line(qtbot):
    panel = shown_events_panel(qtbot)
    panel.add_marker(9.9, "background", GREEN)  # its line 1 % of the window from the right edge
    layer = panel._marker_layer
    qtbot.waitUntil(lambda: layer.boundingRect().width() > 300 and bool(layer.drawn_texts), timeout=5_000)
    width = layer._width("background")
    r = layer.boundingRect()
    right = panel.graphics.mapFromScene(layer.mapToScene(r.topRight())).x()
    panel.graphics.grab()
    (text, box), = layer.drawn_texts
    assert text == "background" and r.left() <= box.left() and box.right() <= r.right(), (box, r)
    green = columns_with(panel.graphics.grab().toImage(), _row_y(panel, layer, 0), GREEN)
    assert green and max(green) <= right, (green, right)
    assert max(green) - min(green) >= 0.75 * width, (green, width)  # the whole word, not "backg"
    # Scrolled so its line is well inside: the text is right of its line again, as any other.
    panel.plot.setXRange(5.0, 15.0, padding=0)
    panel.graphics.grab()
    (text, box), = layer.drawn_texts
    line_x = layer.x_to_px(9.9)
    assert abs(box.left() - (line_x + 3)) <= 1, (box, line_x)


def test_two_new_texts_at_the_edge_take_two_rows_instead_of_overprinting(qtbot):
    panel = shown_events_panel(qtbot)
    panel.add_marker(9.6, "clap", BLUE)
    panel.add_marker(9.9, "background", GREEN)
    layer = panel._marker_layer
    qtbot.waitUntil(lambda: layer.boundingRect().width() > 300 and len(layer.drawn_texts) == 2, timeout=5_000)
    panel.graphics.grab()
    r = layer.boundingRect()
    boxes = dict(layer.drawn_texts)
    assert all(r.left() <= b.left() and b.right() <= r.right() for b in boxes.values()), (boxes, r)
    assert not boxes["clap"].intersects(boxes["background"]), boxes
    image = panel.graphics.grab().toImage()
    rows = {t: int(round((b.top() - r.top() - 1) / layer._metrics.height())) for t, b in boxes.items()}
    assert columns_with(image, _row_y(panel, layer, rows["clap"]), BLUE)
    green = columns_with(image, _row_y(panel, layer, rows["background"]), GREEN)
    assert max(green) - min(green) >= 0.75 * layer._width("background")
