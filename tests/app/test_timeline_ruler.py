"""The labeling timeline's time ruler keeps work between frames (its tick spacing per zoom, its
grid pens, its bounds): after zooms and pans it must still show the ticks and texts of the
range on screen, the same as pyqtgraph's own axis would compute for it."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage, QPainter

from sensorlab.app.labeling.time_ruler import TimeRuler
from sensorlab.labeling.labelset import LabelSet
from sensorlab.session.synthetic import T0, write_synthetic_session

LABELS = LabelSet.from_names(["walk", "wave", "clap"])


@pytest.fixture(scope="module")
def session_path(tmp_path_factory):
    return write_synthetic_session(tmp_path_factory.mktemp("ruler") / "run.h5", 40.0, audio_rate=8000, frame_shape=(12, 16))


def test_tick_values_are_pyqtgraphs_through_zooms_and_pans(qtbot):
    """The ruler keeps its tick spacing while the span stays the same and computes the values
    in plain floats; through a zoom-in, pans at one zoom and a zoom back out they are
    exactly pyqtgraph's (the same spacing per level, the same values, a coarser level's
    ticks not repeated by the finer one)."""
    ruler, ref = TimeRuler(), pg.AxisItem("top")
    for axis in (ruler, ref):
        axis.setStyle(maxTickLevel=1)
    width = 916.0
    ranges = [(0.0, 3600.0), (1000.0, 1600.0), (1012.5, 1612.5), (1900.25, 2500.25), (1800.0, 1800.05),
              (1800.01, 1800.06), (123.456, 183.456), (-5.0, 3605.0), (0.0, 3600.0), (35999.0, 36000.0)]
    for x0, x1 in ranges:
        got = ruler.tickValues(x0, x1, width)
        want = ref.tickValues(x0, x1, width)
        assert [s for s, _ in got] == [s for s, _ in want], (x0, x1)
        assert [v for _, v in got] == [v for _, v in want], (x0, x1)


class _TextsPainter(QPainter):
    """A painter that records the texts drawn with `drawStaticText` (the ruler's tick texts)."""

    def __init__(self, device):
        super().__init__(device)
        self.texts: list[tuple[float, str]] = []

    def drawStaticText(self, pos, text):  # noqa: N802 - Qt name
        self.texts.append((round(pos.x(), 3), text.text()))
        super().drawStaticText(pos, text)


def _ruler_texts(timeline) -> list[tuple[float, str]]:
    ruler = timeline.plots[0].getAxis("top")
    image = QImage(timeline.viewport().size(), QImage.Format.Format_RGB32)
    p = _TextsPainter(image)
    try:
        ruler.paint(p)
    finally:
        p.end()
    return p.texts


def test_after_zooms_and_pans_the_ruler_shows_the_texts_of_the_range_on_screen(session_path, tmp_path, open_view):
    """Zoomed in, panned at that zoom (spacing and pens reused), zoomed out and in again: the
    ruler draws, at the same places, the texts a view opened straight at the final range
    draws, and they are pyqtgraph's tick strings of that range."""
    swept_path, fresh_path = tmp_path / "swept.h5", tmp_path / "fresh.h5"
    for p in (swept_path, fresh_path):
        p.write_bytes(session_path.read_bytes())
    swept, fresh = open_view(swept_path, LABELS), open_view(fresh_path, LABELS)
    tl = swept.timeline
    views = [(T0 + 10.0, T0 + 16.0), (T0 + 11.5, T0 + 17.5), (T0 + 13.25, T0 + 19.25), (T0 + 0.0, T0 + 40.0),
             (T0 + 20.0, T0 + 20.05), (T0 + 20.1, T0 + 20.15), (T0 + 12.0, T0 + 18.0)]
    before = None
    for a, b in views:
        tl.set_view(a, b)
        tl.viewport().repaint()
        texts = _ruler_texts(tl)
        assert texts and texts != before  # every range shows its own texts
        before = texts
    a, b = T0 + 21.7, T0 + 27.7  # the zoom of the first pans again, somewhere new
    tl.set_view(a, b)
    tl.viewport().repaint()
    fresh.timeline.set_view(a, b)
    fresh.timeline.viewport().repaint()
    got = _ruler_texts(tl)
    assert got == _ruler_texts(fresh.timeline)
    # ... and they are the major ticks' strings of 21.7–27.7 s as pyqtgraph would write them
    ref = pg.AxisItem("top")
    ref.setStyle(maxTickLevel=1)
    x0, x1 = a - tl.origin, b - tl.origin
    width = tl.plots[0].getAxis("top").geometry().width()
    spacing, values = ref.tickValues(x0, x1, width)[0]
    major = ref.tickStrings(values, 1.0, spacing)
    shown = [t for _, t in got]
    assert [t for t in shown if t in major] == major[: len([t for t in shown if t in major])]
    assert len([t for t in shown if t in major]) >= len(major) - 1  # (one at an edge may not fit)
    assert all(float(t) >= x0 - 1e-9 and float(t) <= x1 + 1e-9 for t in shown)
