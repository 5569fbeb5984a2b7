"""The labeling timeline's scroll/zoom frame on a slow machine (issue 14 §5, the sweep): every
row shows the range the user chose, and a frame does the range work once, not once per row."""

from __future__ import annotations

import pyqtgraph as pg
import pytest

from sensorlab.labeling.labelset import LabelSet
from sensorlab.session.synthetic import T0

from .conftest import SYNTHETIC_LABELS

LABELS = LabelSet.from_names(list(SYNTHETIC_LABELS))


@pytest.fixture
def view(synthetic_view):
    return synthetic_view


def _ranges(tl) -> list[list[float]]:
    return [list(p.getViewBox().viewRange()[0]) for p in tl.plots]


def test_a_view_change_sets_one_range_and_every_row_shows_it(view, qtbot, monkeypatch):
    """pyqtgraph's x-links passed a new range down a chain: each linked row recomputed it from
    both rows' screen geometry and went through `ViewBox.setRange` again (five range updates
    a frame for five rows, ~10 % of a frame). One range is set now and the other rows show
    exactly it."""
    tl = view.timeline
    qtbot.waitUntil(lambda: tl.grab().toImage().width() > 0, timeout=5000)
    assert len(tl.plots) >= 3  # tracks and an annotation lane
    calls = []
    original = pg.ViewBox.setRange

    def counting(vb, *args, **kwargs):
        calls.append(vb)
        return original(vb, *args, **kwargs)

    monkeypatch.setattr(pg.ViewBox, "setRange", counting)
    tl.set_view(T0 + 3.25, T0 + 9.5)
    assert len(calls) == 1
    want = [3.25 + T0 - tl.origin, 9.5 + T0 - tl.origin]
    for got in _ranges(tl):
        assert got == pytest.approx(want, abs=1e-9)
    assert tl.view_range == pytest.approx((T0 + 3.25, T0 + 9.5), abs=1e-9)


def test_scrolling_on_any_row_moves_every_row_and_redraws_the_tracks(view, qtbot):
    """The wheel over the lowest row (an annotation lane) zooms every row, and the tracks are
    drawn for the new range before the next paint."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    from sensorlab.app.labeling.tracks import SignalTrack

    tl = view.timeline
    tl.set_view(T0 + 2.0, T0 + 38.0)
    qtbot.waitUntil(lambda: tl.grab().toImage().width() > 0, timeout=5000)
    before, frames = tl.view_range, tl.frames
    low = tl.plots[-1]
    pos = tl.x_to_pixel(low, T0 + 20.0)
    QApplication.postEvent(tl.viewport(), QWheelEvent(
        QPointF(pos), QPointF(tl.viewport().mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False))
    qtbot.waitUntil(lambda: tl.frames > frames, timeout=10_000)
    t0, t1 = tl.view_range
    assert t1 - t0 < 0.95 * (before[1] - before[0])  # zoomed in
    first = _ranges(tl)[0]
    for got in _ranges(tl):
        assert got == pytest.approx(first, abs=1e-9)
    x0, x1 = t0 - tl.origin, t1 - tl.origin
    for t in tl.tracks:
        if isinstance(t, SignalTrack):
            xs = t.curves[0].getData()[0]
            # drawn for the new range: from about its start to about its end
            assert xs[0] <= x0 + 0.05 * (x1 - x0) and xs[-1] >= x1 - 0.05 * (x1 - x0), t.name
            assert xs[0] >= x0 - 0.6 * (x1 - x0) and xs[-1] <= x1 + 0.6 * (x1 - x0), t.name


def _pixels(widget):
    import numpy as np
    from PySide6.QtGui import QImage

    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)  # one paint
    return np.frombuffer(img.constBits(), np.uint32, img.sizeInBytes() // 4).copy()


def test_a_drag_by_whole_pixels_draws_the_kept_envelope_pixels_exactly(view, qtbot):
    """While the view is dragged, a signal track keeps its drawing; its envelope (once the
    largest, pixel-bound part of a frame) was drawn again every frame. Now it is filled once
    into an image and the frames that follow draw it moved by the pixels the view moved:
    the timeline's pixels are exactly those of filling it again every frame."""
    from sensorlab.app.labeling.tracks import SignalTrack

    tl = view.timeline
    tl.set_view(T0 + 5.0, T0 + 15.0)
    qtbot.waitUntil(lambda: tl.grab().toImage().width() > 0, timeout=5000)
    tracks = [t for t in tl.tracks if isinstance(t, SignalTrack)]
    assert tracks
    width = tl.plots[0].getViewBox().width()
    t0, t1 = tl.view_range
    step = 7 * (t1 - t0) / width  # 7 whole pixels a frame, as a mouse drag moves it
    before = [(t.layer.renders, t.layer.blits, t.layer.version) for t in tracks]
    for i in range(1, 13):
        tl.set_view(t0 + i * step, t1 + i * step)
        tl.viewport().repaint()
    for t, (renders, blits, version) in zip(tracks, before):
        drawings = (t.layer.version - version) // len(t.curves)
        assert drawings <= 3, t.name  # the drag reuses its drawing (a margin each side)
        assert t.layer.renders - renders <= drawings, t.name  # rendered at most once each
        assert t.layer.blits - blits >= 8, t.name  # most frames drew the kept pixels
    kept = _pixels(tl.viewport())
    assert all(t.layer.cached for t in tracks)
    for t in tracks:
        t.layer.changed()  # the next paint fills the image again
    stroked = _pixels(tl.viewport())
    assert not any(t.layer.cached for t in tracks)
    assert (kept != stroked).sum() == 0
    # and the signal is there: each track's first channel colour covers many pixels
    assert (stroked == (0xFF000000 | int(tracks[0].curves[0]._pen.color().rgb() & 0xFFFFFF))).sum() > 100


def test_each_row_maps_the_range_as_pyqtgraph_would_without_python_callbacks(view, qtbot):
    """Each frame every row's view transform is updated. Qt called two Python `itemChange`s
    per row for it, and pyqtgraph built `Point`/`QRectF` objects to compute it; the rows now
    compute the same transform from floats, with no callback."""
    import cProfile
    import pstats

    tl = view.timeline
    qtbot.waitUntil(lambda: tl.grab().toImage().width() > 0, timeout=5000)
    prof = cProfile.Profile()
    for a, b in ((3.0, 9.0), (3.5, 9.5), (0.25, 39.0), (20.0, 20.01)):
        prof.enable()
        tl.set_view(T0 + a, T0 + b)
        tl.viewport().repaint()
        prof.disable()
        for p in tl.plots:
            vb = p.getViewBox()
            mine = vb.childGroup.transform()
            vb._matrixNeedsUpdate = True
            pg.ViewBox.updateMatrix(vb)  # pyqtgraph's own
            assert vb.childGroup.transform() == mine
    # Python calls the frames made into the rows' child groups' itemChange
    from pyqtgraph.graphicsItems.ViewBox.ViewBox import ChildGroup

    code = ChildGroup.itemChange.__code__
    calls = {key: n for key, (_, n, *_r) in pstats.Stats(prof).stats.items()}
    # (two per row and frame before; the few left are annotation items added to a lane)
    assert calls.get((code.co_filename, code.co_firstlineno, code.co_name), 0) < 4 * len(tl.plots)


def test_after_a_sweep_every_row_shows_what_a_fresh_view_of_that_range_shows(synthetic_session, tmp_path, open_view, qtbot):
    """A sweep (zoom out to the whole session and in to 50 ms, pans) must leave nothing behind
    that a frame does not redraw: cached bounds, a cached background or a ruler drawn for an
    older range. After it, the timeline — ruler texts and grid, the signal envelopes, the
    spectrogram, the annotation strip and event ticks — is pixel for pixel that of a second
    view of the same file that was set straight to the final range."""
    import numpy as np

    swept_path, fresh_path = tmp_path / "swept.h5", tmp_path / "fresh.h5"
    for p in (swept_path, fresh_path):
        p.write_bytes(synthetic_session.read_bytes())
    swept, fresh = open_view(swept_path, LABELS), open_view(fresh_path, LABELS)
    # zoomed out from the last pan (6 s, event texts shown) to too many events for texts
    a, b = T0 + 1.7, T0 + 38.9
    tl = swept.timeline
    span, c = 40.0, T0 + 20.0
    views = [(c - span * 0.7**i / 2, c + span * 0.7**i / 2) for i in range(24)]  # 40 s → 0.1 s
    views += views[::-1] + [(T0 + 2 + 1.5 * i, T0 + 8 + 1.5 * i) for i in range(20)]
    for v0, v1 in views:
        tl.set_view(v0, v1)
        tl.viewport().repaint()
    tl.set_view(a, b)
    fresh.timeline.set_view(a, b)

    # What moves with the range: right of the left axes. The track names along the axes are
    # cached pixmaps drawn once, not per frame; two views in one test process were seen to
    # differ there by a few antialiased pixels of the rotated text.
    vb = tl.plots[0].getViewBox()
    left = tl.mapFromScene(vb.sceneBoundingRect().topLeft()).x()
    width = tl.viewport().width()

    def moving(view) -> np.ndarray:
        return _pixels(view.timeline.viewport()).reshape(-1, width)[:, left:]

    def same() -> bool:
        # both settled (the spectrogram is computed on a worker once the view rests)
        if any(getattr(t, "columns", 1) == 0 for v in (swept, fresh) for t in v.timeline.tracks):
            return False
        return bool((moving(swept) == moving(fresh)).all())

    try:
        qtbot.waitUntil(same, timeout=30_000)
    except Exception:  # say where the pictures differ (rows of which plot, columns)
        diff = np.flatnonzero(moving(swept) != moving(fresh))
        w = width - left
        rows = sorted(set((diff // w).tolist()))
        plots = [(round(p.geometry().top()), round(p.geometry().bottom())) for p in tl.plots]
        spectra = [getattr(t, "columns", None) for v in (swept, fresh) for t in v.timeline.tracks]
        raise AssertionError(f"{len(diff)} pixels differ, rows {rows[:3]}…{rows[-3:]}, columns {(diff % w).min() if len(diff) else None}–"
                             f"{(diff % w).max() if len(diff) else None}; plots' rows {plots}; spectrogram columns {spectra}") from None
    # ... and it is a picture: the ruler's texts, the envelopes and the segments are there
    img = _pixels(tl.viewport())
    assert len(np.unique(img)) > 50
    from sensorlab.app.labeling.tracks import SignalTrack

    track = next(t for t in tl.tracks if isinstance(t, SignalTrack))
    colour = 0xFF000000 | int(track.curves[-1]._pen.color().rgb() & 0xFFFFFF)
    assert (img == colour).sum() > 100


def test_zoomed_in_to_raw_samples_each_channel_is_drawn_in_its_colour(view, qtbot):
    """Zoomed in far enough, a signal track draws its raw samples as polylines (not the
    envelope's vertical strokes). Their paint once called itself without end, inside Qt's
    paint: the process crashed the first time a raw polyline was on screen."""
    from sensorlab.app.labeling.tracks import SignalTrack

    tl = view.timeline
    tl.set_view(T0 + 5.0, T0 + 5.2)
    track = next(t for t in tl.tracks if isinstance(t, SignalTrack))
    qtbot.waitUntil(lambda: all(c.drawn() and not c._segments for c in track.curves), timeout=10_000)
    image = tl.grab().toImage()
    top_left = track.viewbox.mapToScene(track.viewbox.rect().topLeft())
    bottom_right = track.viewbox.mapToScene(track.viewbox.rect().bottomRight())
    view_pos = tl.mapFromScene(top_left), tl.mapFromScene(bottom_right)
    ratio = image.devicePixelRatio()
    x0, y0 = int(view_pos[0].x() * ratio), int(view_pos[0].y() * ratio)
    x1, y1 = int(view_pos[1].x() * ratio), int(view_pos[1].y() * ratio)
    colours = {image.pixelColor(x, y).rgb() & 0xFFFFFF for x in range(x0 + 2, x1 - 2, 2) for y in range(y0 + 1, y1 - 1)}
    for c in track.curves:
        assert c._pen.color().rgb() & 0xFFFFFF in colours, f"no pixel of {c._pen.color().name()} in the track"
