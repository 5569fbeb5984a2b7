"""The marker layer draws a scrolling plot from a layout it keeps between frames (lines and
texts shifted, texts pinned to an edge found by bisection): after every scroll step its pixels
must be those of a layout made afresh for that range, lines, texts, pinned and edge texts alike."""

from __future__ import annotations

from sensorlab.app.live.marker_layer import MarkerLayer
from tests.app.rendered import shown_events_panel

YELLOW, BLUE, GREEN, RED = "#ffd54f", "#4e9bf5", "#5ac85a", "#ef5350"


def test_scrolled_markers_are_drawn_as_a_fresh_layout_would_draw_them(qtbot, monkeypatch):
    panel = shown_events_panel(qtbot, width=560)
    # Texts close together (rows), long ones that pin at the left edge, lines without text,
    # colours mixed, and one marker added out of time order (a late event).
    marks = [(0.4, "speech", GREEN), (0.7, "clap", BLUE), (1.1, "", YELLOW), (1.3, "background", GREEN),
             (2.0, "walk", RED), (2.1, "clap start", BLUE), (2.4, "clap stop", BLUE), (4.0, "", RED),
             (5.5, "a long text for the row", YELLOW), (5.6, "x", GREEN), (8.0, "clap", BLUE),
             (3.0, "late", RED), (11.9, "background", GREEN), (12.2, "newest", BLUE)]  # fmt: skip
    for x, text, colour in marks:
        panel.add_marker(x, text, colour)
    layer = panel._marker_layer
    qtbot.waitUntil(lambda: layer.boundingRect().width() > 300, timeout=5_000)
    layouts = []
    original = MarkerLayer._lay_out
    monkeypatch.setattr(MarkerLayer, "_lay_out", lambda self, *a: layouts.append(1) or original(self, *a))
    steps = 0
    start = -1.0
    while start < 9.0:  # every text comes in at the right edge, crosses, pins at the left and leaves
        panel.plot.setXRange(start, start + 4.0, padding=0)
        kept = panel.graphics.grab().toImage()
        texts = layer.drawn_texts
        layer._drawn = None  # laid out afresh for this range
        fresh = panel.graphics.grab().toImage()
        assert kept == fresh, f"view from {start:.3f}: the kept layout drew other pixels"
        assert texts == layer.drawn_texts, start
        start += 0.0731
        steps += 1
    # Drawn from the kept layout in most steps (else this test would not test it).
    assert len(layouts) - steps < steps / 2, (len(layouts), steps)
