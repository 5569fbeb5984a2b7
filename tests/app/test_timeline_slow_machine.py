"""The labeling timeline on a slow machine (issue 14 §5): what each frame paints stays the same
while the costs that did not scale with the machine (Qt's threaded blending of translucent
grid lines, range work repeated for input events that arrive faster than frames) are gone."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor

from sensorlab.labeling.labelset import LabelSet
from sensorlab.session.synthetic import T0

from .conftest import SYNTHETIC_LABELS

LABELS = LabelSet.from_names(list(SYNTHETIC_LABELS))


@pytest.fixture
def view(synthetic_view):
    return synthetic_view


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


def test_the_spectrogram_is_drawn_in_its_colour_map_from_an_opaque_image(view, qtbot):
    """pyqtgraph hands a colour-mapped image to Qt as 8-bit indexed; drawn scaled, Qt converted
    and blended it row by row on its thread pool every frame (~1.7 ms of a frame's wall
    time). The spectrogram is now an opaque RGB32 picture with the same colours."""
    import numpy as np
    import pyqtgraph as pg

    from sensorlab.app.labeling.spectrogram_track import SpectrogramTrack

    tl = view.timeline
    spec = next(t for t in tl.tracks if isinstance(t, SpectrogramTrack))
    tl.set_view(T0 + 2.0, T0 + 38.0)
    qtbot.waitUntil(lambda: spec.columns > 0, timeout=20_000)  # computed on a worker once settled
    qtbot.waitUntil(lambda: spec.image.qimage is not None or tl.grab().isNull(), timeout=5000)
    img = tl.grab().toImage()
    assert spec.image.qimage.format() == spec.image.qimage.Format.Format_RGB32
    lut = pg.colormap.get("inferno").getLookupTable(nPts=256, mode="byte", alpha=False)
    inferno = {(int(r) << 16) | (int(g) << 8) | int(b) for r, g, b in lut}
    vb = spec.viewbox
    corner = tl.mapFromScene(vb.mapToScene(vb.rect().topLeft()))
    w, h = int(vb.width()), int(vb.height())
    cells = [img.pixel(corner.x() + x, corner.y() + y) & 0xFFFFFF
             for x in np.linspace(5, w - 5, 12).astype(int) for y in np.linspace(5, h - 5, 6).astype(int)]
    assert sum(c in inferno for c in cells) >= 0.9 * len(cells), [f"#{c:06x}" for c in cells if c not in inferno][:5]
    assert len(set(cells)) > 3  # a picture, not one flat colour


def test_track_names_are_drawn_beside_their_tracks_from_a_cache(view, qtbot):
    """A track's name and rate (an HTML label beside its axis) used to be laid out and drawn
    again every scroll frame (~7 % of a frame's painting); each label is now drawn once into
    a cache and still shows, at the same place, while the view moves."""
    from PySide6.QtWidgets import QGraphicsItem

    tl = view.timeline
    qtbot.waitUntil(lambda: tl.grab().toImage().width() > 0, timeout=5000)
    background = QColor(tl.backgroundBrush().color()).rgb() & 0xFFFFFF

    def label_pixels(img, plot) -> int:
        label = plot.getAxis("left").label
        r = tl.mapFromScene(label.mapToScene(label.boundingRect())).boundingRect()
        return sum(1 for x in range(r.left(), r.right()) for y in range(r.top(), r.bottom())
                   if img.pixel(x, y) & 0xFFFFFF != background)

    tracks = [t for t in tl.tracks if t.plot.getAxis("left").label.isVisible()]
    assert tracks
    before = tl.grab().toImage()
    for tr in tracks:
        assert tr.plot.getAxis("left").label.cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache
        assert label_pixels(before, tr.plot) > 20, tr.name
    tl.set_view(T0 + 5.0, T0 + 15.0)
    after = tl.grab().toImage()
    for tr in tracks:
        assert label_pixels(after, tr.plot) == label_pixels(before, tr.plot), tr.name


def test_a_burst_of_wheel_events_is_drawn_once_at_its_final_range(view, qtbot):
    """When frames are slow, a mouse wheel delivers several events before the next paint. Each
    one used to redraw every track for a range no frame showed; the tracks now draw once,
    before the paint, for the range the last event left, exactly as zooming there at once."""
    from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    from sensorlab.app.labeling.tracks import SignalTrack

    tl = view.timeline
    tl.set_view(T0 + 2.0, T0 + 38.0)
    qtbot.waitUntil(lambda: tl.grab().toImage().width() > 0, timeout=5000)

    class Paints(QObject):
        n = 0

        def eventFilter(self, obj, ev):  # noqa: N802
            if ev.type() == QEvent.Type.Paint:
                self.n += 1
            return False

    paints = Paints()
    tl.viewport().installEventFilter(paints)
    frames, before = tl.frames, tl.view_range
    pos = tl.x_to_pixel(tl.plots[0], T0 + 20.0)
    for _ in range(4):  # queued together, as a busy GUI thread finds them
        QApplication.postEvent(tl.viewport(), QWheelEvent(
            QPointF(pos), QPointF(tl.viewport().mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 120),
            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False))
    qtbot.waitUntil(lambda: paints.n >= 1 and tl.frames > frames, timeout=10_000)
    t0, t1 = tl.view_range
    assert t1 - t0 < 0.7 * (before[1] - before[0])  # all four zoomed in
    assert tl.frames == frames + 1  # one range drawn for the four events
    drawn = {t.name: [c.getData()[0].copy() for c in t.curves] for t in tl.tracks if isinstance(t, SignalTrack)}
    # What was drawn is what a single jump to that range draws.
    tl.set_view(before[0], before[1])
    tl.set_view(t0, t1)
    for t in tl.tracks:
        if isinstance(t, SignalTrack):
            for got, c in zip(drawn[t.name], t.curves):
                assert got.tolist() == c.getData()[0].tolist(), t.name


def test_a_range_change_not_yet_drawn_when_the_session_closes_reads_nothing(view, qtbot):
    """A range change waits for the next paint to be drawn; a session closed in between (the
    window closes while the user scrolls) must not have that paint read the closed file."""
    tl = view.timeline
    qtbot.waitUntil(lambda: tl.grab().toImage().width() > 0, timeout=5000)
    tl.plots[0].getViewBox().setXRange(5.0, 15.0, padding=0)  # as a wheel or drag does
    frames = tl.frames
    view.close_session()
    tl.repaint()  # a paint after closing (an exception in it fails the test)
    img = tl.grab().toImage()
    assert img.width() > 0 and tl.frames == frames
