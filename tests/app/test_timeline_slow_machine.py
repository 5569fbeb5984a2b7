"""The labeling timeline on a slow machine (issue 14 §5): what each frame paints stays the same
while the costs that did not scale with the machine (Qt's threaded blending of translucent
grid lines, range work repeated for input events that arrive faster than frames) are gone."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor

from sensorlab.labeling.labelset import LabelSet
from sensorlab.session.synthetic import T0, write_synthetic_session

LABELS = LabelSet.from_names(["walk", "wave", "clap"])


@pytest.fixture(scope="module")
def session_path(tmp_path_factory):
    return write_synthetic_session(tmp_path_factory.mktemp("slow") / "run.h5", 40.0, audio_rate=8000, frame_shape=(12, 16))


@pytest.fixture
def view(session_path, tmp_path, open_view):
    p = tmp_path / "run.h5"
    p.write_bytes(session_path.read_bytes())
    return open_view(p, LABELS)


def test_the_signal_is_painted_over_the_ruler_grid_lines_in_its_own_colour(view, qtbot):
    """The ruler's grid lines cross the first track. They used to be translucent and painted
    over the signal: every envelope pixel in a grid column was tinted, and Qt blended each
    line's pixel rows on its thread pool (a frame's wall time waited for it). Now the grid is
    beneath the signal, opaque, and as faint as before where the background shows."""
    from sensorlab.app.labeling.tracks import PALETTE, SignalTrack

    tl = view.timeline
    track, plot = tl.tracks[0], tl.plots[0]
    assert isinstance(track, SignalTrack) and len(track.curves) >= 1
    tl.set_view(T0 + 2.0, T0 + 38.0)
    ruler = plot.getAxis("top")
    vb = plot.getViewBox()
    (x0, x1), _ = vb.viewRange()
    qtbot.waitUntil(lambda: tl.grab().toImage().width() > 0, timeout=5000)
    img = tl.grab().toImage()
    top = tl.mapFromScene(vb.mapToScene(vb.rect().topLeft())).y()
    height = int(vb.height())
    background = QColor(tl.backgroundBrush().color()).rgb() & 0xFFFFFF
    colour = QColor(PALETTE[len(track.curves) - 1]).rgb() & 0xFFFFFF  # the top channel, drawn last

    def column_of(value: float) -> int | None:
        """The image column the grid line at ``value`` is in: the one whose empty top row is not
        the background."""
        x = tl.x_to_pixel(plot, value + tl.origin).x()
        for c in (x, x - 1, x + 1):
            if img.pixel(c, top + 1) & 0xFFFFFF != background:
                return c
        return None

    palette = {QColor(c).rgb() & 0xFFFFFF for c in PALETTE}
    values = ruler.tickValues(x0, x1, vb.width())[0][1]
    checked = 0
    for v in values:
        c = column_of(v)
        assert c is not None, f"no grid line drawn at {v} s"
        grid = QColor(img.pixel(c, top + 1))
        assert grid.lightness() > QColor(background).lightness()  # still a visible, faint line
        assert grid.lightness() < 110
        pixels = [img.pixel(c, top + r) & 0xFFFFFF for r in range(height)]
        signal = [px for px in pixels if px != grid.rgb() & 0xFFFFFF]
        if len(signal) < 10:
            continue  # a quiet stretch: too little envelope in this column to compare
        checked += 1
        # Every pixel of the column that is not the grid line is a channel's own colour.
        tinted = sorted({f"#{px:06x}" for px in signal if px not in palette})
        assert not tinted, (v, tinted[:5])
    assert checked >= 1
