"""A live-label button that is on (a span running) is filled with its label's colour: its text
must stay readable on that colour, as the idle buttons' text is on the dock.

Black text on the blue of the fifth default label ("noise", #0072B2) read at 3.6:1; the text
drawn must reach at least 4.5:1 (WCAG AA) against the fill, for every default colour.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from sensorlab.app.labeling.label_bar import DEFAULT_LABELS, LabelBar
from sensorlab.labeling.annotations import LabelSet
from sensorlab.labeling.labelset import DEFAULT_COLORS

from .rendered import shown


def _luminance(rgb) -> float:
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (v / 255 for v in rgb)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _drawn_text_contrast(button) -> float:
    """The best contrast between a pixel inside the button and its fill (read right of the text)."""
    image = button.grab().toImage()
    w, h = image.width(), image.height()
    fill = image.pixelColor(w - 12, h // 2)
    fill_rgb = (fill.red(), fill.green(), fill.blue())
    best = 1.0
    for x in range(8, w // 2):  # the text sits left ("1  clap"), after the 6 px colour edge
        for y in range(4, h - 4):
            c = image.pixelColor(x, y)
            best = max(best, _contrast((c.red(), c.green(), c.blue()), fill_rgb))
    return best


@pytest.mark.parametrize("index", range(len(DEFAULT_COLORS)))
def test_an_active_label_button_text_reads_on_its_colour(qtbot, index):
    names = [*DEFAULT_LABELS, "extra1", "extra2", "extra3"][: len(DEFAULT_COLORS)]
    bar = shown(qtbot, LabelBar(LabelSet.from_names(names)), 260, 360)
    name = names[index]
    button = bar.buttons[name]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # on: a span of it runs
    qtbot.waitUntil(lambda: name in bar._spanning, timeout=5000)
    fill = button.grab().toImage().pixelColor(button.width() - 12, button.height() // 2)
    expected = bar.labels.color_of(name).lower()
    assert fill.name() == expected, f"the button of {name} is not filled with its colour {expected} (got {fill.name()})"
    assert _drawn_text_contrast(button) >= 4.5, f"{name}'s text on {expected} is too dim to read"
