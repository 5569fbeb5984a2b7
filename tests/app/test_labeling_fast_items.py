"""The labeling timeline's one-item-per-plot drawing (issue 14 §5): annotation lanes with many
segments in view, and segments that scrolled into view, are painted by the lane's strip with
their label colours; interactive items come once the view settles on a few; event ticks are
painted where the events are."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor

from sensorlab.app.labeling.annotation_view import MAX_ITEMS
from sensorlab.labeling.annotations import Segment
from sensorlab.labeling.commands import AddSegment, CompoundCommand
from sensorlab.labeling.labelset import LabelSet
from sensorlab.session.synthetic import T0

from .conftest import SYNTHETIC_LABELS

LABELS = LabelSet.from_names(list(SYNTHETIC_LABELS))


@pytest.fixture
def view(synthetic_view):
    return synthetic_view


def _pixel(tl, plot, t: float) -> QColor:
    img = tl.grab().toImage()
    pt = tl.x_to_pixel(plot, t)
    return QColor(img.pixel(pt.x(), pt.y()))


def _closer_to(c: QColor, target: str, than: QColor) -> bool:
    t = QColor(target)
    d = lambda a: (a.red() - t.red()) ** 2 + (a.green() - t.green()) ** 2 + (a.blue() - t.blue()) ** 2  # noqa: E731
    return d(c) < d(than)


def test_dense_lane_is_painted_by_its_strip_and_gets_items_when_zoomed_in(view, qtbot):
    tl, av = view.timeline, view.annotation_view
    n = MAX_ITEMS + 20
    segs = [Segment.create("dense", "wave", T0 + 0.5 + i * 0.45, T0 + 0.5 + i * 0.45 + 0.3) for i in range(n)]
    av.push(CompoundCommand([AddSegment(s) for s in segs], f"Add {n}"))
    tl.show_all()
    tl.refresh()  # settled on the whole session: too many for items
    lane = av.lanes["dense"]
    assert lane.dense and not any(s.id in av.items for s in segs)
    # Zoomed out, wide enough segments still show their label colour; the gaps do not.
    tl.set_view(T0, T0 + 12)
    tl.refresh()
    assert lane.dense is False and segs[3].id in av.items  # few in view: interactive again
    tl.set_view(T0 + 20, T0 + 32)  # moving: what scrolled in has no item yet ...
    inside = next(s for s in segs if s.start > T0 + 25)
    assert inside.id not in av.items
    on, gap = _pixel(tl, lane.plot, inside.start + 0.15), _pixel(tl, lane.plot, inside.end + 0.07)
    assert _closer_to(on, LABELS.color_of("wave"), than=gap)  # ... but the strip paints it
    qtbot.waitUntil(lambda: inside.id in av.items, timeout=10_000)  # settled: an item to drag
    region = av.items[inside.id].getRegion()
    assert region == pytest.approx((inside.start - tl.origin, inside.end - tl.origin))


def test_a_segment_scrolled_into_view_keeps_its_selection_colour_in_the_strip(view):
    tl, av = view.timeline, view.annotation_view
    seg = Segment.create("dense", "clap", T0 + 30.0, T0 + 34.0)
    av.push(AddSegment(seg))
    tl.set_view(T0, T0 + 10)
    tl.refresh()
    av.select(seg.id)
    tl.set_view(T0 + 28, T0 + 38)  # not settled: drawn by the strip
    assert seg.id not in av.items
    lane = av.lanes["dense"]
    img = tl.grab().toImage()
    left = tl.x_to_pixel(lane.plot, seg.start)
    edge = [QColor(img.pixel(left.x() + dx, left.y())) for dx in (-1, 0, 1)]
    assert any(c.red() > 240 and c.green() > 240 and c.blue() > 240 for c in edge)  # white edge: selected


def test_event_ticks_are_painted_at_the_events_one_per_pixel_column(view):
    tl = view.timeline
    track = next(t for t in tl.tracks if t.name == "predictions")
    tl.show_all()
    tl.refresh()
    tl.grab()
    x = track.times - tl.origin
    (x0, x1), _ = track.viewbox.viewRange()
    in_view = x[(x >= x0) & (x <= x1)]
    cols = np.unique(np.floor(track.ticks.x_to_px(in_view)).astype(int))
    assert track.ticks.drawn == len(cols) > 5
    t = track.times[len(track.times) // 2]
    pt = tl.x_to_pixel(track.plot, t)
    rect = track.ticks.boundingRect()
    y = int(track.viewbox.mapToScene(0, rect.bottom() - track.ticks.HEIGHT * rect.height()).y())
    img = tl.grab().toImage()
    colour = QColor(img.pixel(pt.x(), tl.mapFromScene(0, y).y()))
    assert colour == QColor(LABELS.color_of(track.texts[len(track.times) // 2].split(" ")[0]))


def test_scrolling_zoomed_in_to_samples_reads_no_timestamps_to_find_the_view_edges(synthetic_session, tmp_path, qtbot):
    """Zoomed in to raw samples, each frame looked both view edges up in the file's timestamps
    (two small HDF5 reads per frame, a sixth of the frame); the pyramid's block times (in
    memory) now bound them, the only reads are the samples drawn (fewer than one a frame while
    panning: a margin around the view is drawn ahead), and every sample in view is drawn."""
    from sensorlab.app.labeling.tracks import SignalTrack
    from sensorlab.session.pyramid import Pyramid
    from sensorlab.session.reader import Session

    with Session.open(synthetic_session) as s, Pyramid.open(s, tmp_path / "run.pyramid.h5") as pyramid:
        stream = s.streams["imu"]
        track = SignalTrack(stream, pyramid, T0)
        times = np.asarray(stream.timestamps)
        reads = []
        read = stream.read_index
        stream.read_index = lambda i0=0, i1=None, **kw: (reads.append((i0, i1)), read(i0, i1, **kw))[1]
        frames = 12
        for k in range(frames):  # a slow pan over 0.2 s in view (200 samples at 1 kHz, 1000 px)
            t0 = T0 + 10.0 + 0.002 * k
            track.update_range(t0, t0 + 0.2, 1000)
            assert track.level == 0
            x = np.asarray(track.curves[0].getData()[0]) + T0
            in_view = times[(times >= t0) & (times <= t0 + 0.2)]
            assert x[0] <= in_view[0] and x[-1] >= in_view[-1]  # every sample in view is drawn
        assert 1 <= len(reads) < frames, reads  # only the samples drawn, and not every frame


def _groups(track, channel: int = 0) -> dict[float, tuple[float, float]]:
    """What a signal track draws for one channel: pixel column time (to the µs: strokes are at
    column centres, computed from the view's start) → (min, max) of its stroke."""
    x, y = (np.asarray(a, dtype=np.float64) for a in track.curves[channel].getData())
    return {round(float(t), 6): (float(min(a, b)), float(max(a, b))) for t, a, b in zip(x[0::2], y[0::2], y[1::2])}


def test_a_drag_scroll_reuses_the_drawn_envelope_and_draws_what_a_fresh_view_draws(synthetic_session, tmp_path, qtbot):
    """Dragging the timeline moves the view a few pixels a frame. Each frame read the visible
    blocks from the pyramid again, merged them per pixel and handed every channel's polyline
    to Qt, though the drawing in data coordinates had not changed: the view's transform moves
    it. A pan that continues the last one now draws a margin beyond the view and the frames
    that follow reuse it; what is on screen is what a track drawing that range afresh shows,
    and a zoom draws anew."""
    from sensorlab.app.labeling.tracks import SignalTrack
    from sensorlab.session.pyramid import Pyramid
    from sensorlab.session.reader import Session

    with Session.open(synthetic_session) as s, Pyramid.open(s, tmp_path / "run.pyramid.h5") as pyramid:
        stream = s.streams["mic"]
        span, px, frames = 8.0, 500, 30

        def track():
            tr = SignalTrack(stream, pyramid, T0, y_range=(-1.0, 1.0))
            tr.viewbox.resize(px, 100)  # the plot area is `px` pixels wide
            return tr

        dragged = track()
        asked = []
        blocks = pyramid.blocks
        pyramid.blocks = lambda *a: (asked.append(a), blocks(*a))[1]
        for k in range(frames):  # a mouse drag: 10 whole pixels a frame
            t0 = T0 + 5.0 + 10 * k * span / px
            dragged.update_range(t0, t0 + span, px)
            assert dragged.level > 0
            drawn = _groups(dragged, 1)
            fresh = track()
            fresh.update_range(t0, t0 + span, px)
            want = _groups(fresh, 1)
            # strokes cover the view (each at its pixel column's centre)
            assert min(want) + T0 <= t0 + span / px and max(want) + T0 >= t0 + span - 2 * span / px
            assert {t: drawn.get(t) for t in want} == want  # the same groups, the same strokes
        n_track = len(asked) - frames  # the fresh tracks asked once a frame
        assert n_track <= 4, n_track  # was one read per frame (30)
        n = len(asked)
        dragged.update_range(T0 + 5.0, T0 + 5.0 + span / 2, px)  # zoom in: drawn anew
        assert len(asked) == n + 1
        fresh = track()
        fresh.update_range(T0 + 5.0, T0 + 5.0 + span / 2, px)
        assert _groups(dragged, 1) == _groups(fresh, 1)
        dragged.update_range(T0 + 5.3, T0 + 5.3 + span / 2, px)  # a pan by a fraction of a pixel
        assert len(asked) == n + 3  # drawn anew (after the fresh track's read): its strokes fall in other columns


def test_recorded_predictions_parse_each_distinct_text_once_and_keep_their_texts_and_colours(synthetic_session, qtbot, monkeypatch):
    """A 10-hour session's 18,000 predictions (one every 2 s) repeat a few texts; parsing each
    one took a fifth of opening the view. Every event still gets its own text and colour."""
    from sensorlab.app.labeling.events_track import EventsTrack
    from sensorlab.session.reader import Session

    calls = []
    parse = EventsTrack._text
    monkeypatch.setattr(EventsTrack, "_text", staticmethod(lambda x: (calls.append(x), parse(x))[1]))
    with Session.open(synthetic_session) as s:
        stream = s.streams["predictions"]
        raw = stream.read()
        track = EventsTrack(stream, T0, colors=lambda text: LABELS.color_of(text.split(" ")[0]))
    assert len(calls) == len(set(raw.data.tolist())) < len(raw.data) / 2
    order = np.argsort(raw.timestamps, kind="stable")
    assert track.texts == [parse(raw.data[i]) for i in order]
    names = sorted({LABELS.color_of(t.split(" ")[0]) for t in track.texts})
    colours = [names[i] for i in track.ticks.color_index]
    assert colours == [LABELS.color_of(t.split(" ")[0]) for t in track.texts]


def test_the_video_frame_waits_for_the_first_paint_then_shows_the_cursor_frame(synthetic_session, tmp_path, qtbot):
    """Reading every frame's time and decoding a JPEG for the preview took 0.2–0.3 s of opening
    a 10-hour session before anything was drawn; now it follows the timeline's first paint."""
    from sensorlab.app.labeling.view import LabelingView
    from sensorlab.session.pyramid import Pyramid
    from sensorlab.session.reader import Session

    p = tmp_path / "run.h5"
    p.write_bytes(synthetic_session.read_bytes())
    with Session.open(p) as s:
        Pyramid.open(s).close()  # cache built: the view opens synchronously
    v = LabelingView(p, LABELS, play_audio=False)
    qtbot.addWidget(v)
    (preview,) = v.previews
    assert v.timeline is not None and preview._times is None and preview.frame_index == -1
    v.resize(1200, 800)
    v.show()
    qtbot.waitUntil(lambda: preview.frame_index == 0, timeout=20_000)
    assert "frame 0 · 0.000 s" in preview.title.text()
    v.close()


def test_a_view_closed_before_its_first_paint_reads_nothing_from_the_closed_file(synthetic_session, tmp_path, qtbot):
    """The preview's deferred read follows the first paint; a view closed before that paint
    (a user closing at once, a test tearing down under load) raised "Can't synchronously read
    data" from the closed file in the event loop."""
    from sensorlab.app.labeling.view import LabelingView
    from sensorlab.session.pyramid import Pyramid
    from sensorlab.session.reader import Session

    p = tmp_path / "run.h5"
    p.write_bytes(synthetic_session.read_bytes())
    with Session.open(p) as s:
        Pyramid.open(s).close()
    v = LabelingView(p, LABELS, play_audio=False)
    qtbot.addWidget(v)
    (preview,) = v.previews
    tl = v.timeline
    v.close_session()
    tl.first_painted.emit()  # the paint that was queued before the close
    tl.cursor_moved.emit(tl.cursor)
    assert preview._times is None and preview.frame_index == -1
    v.close()


def test_a_zoomed_out_lane_writes_no_label_over_segments_it_does_not_name(view):
    """Zoomed out over a dense lane, "clap clap clap" was written across walks, waves and claps
    alike; a text now stands only where no other segment starts under it."""
    tl, av = view.timeline, view.annotation_view
    segs = []
    for i in range(60):  # a point, then a span, every 0.6 s
        t = T0 + 1.0 + 0.6 * i
        segs.append(Segment.create("dense", "clap", t, t) if i % 2 else Segment.create("dense", "walk", t, t + 0.3))
    av.push(CompoundCommand([AddSegment(s) for s in segs], "Add 60"))
    tl.show_all()
    tl.refresh()  # settled on the whole session: too many for items, the strip draws them all
    strip = av.lanes["dense"].strip
    _, texts = strip.render(0.0, 40.0, 400, 30)  # 0.6 s is 6 px: a text would cover others ...
    assert strip.drawn == 60 and [t for _, t, _ in texts] == ["clap"]  # ... but the last one's
    _, texts = strip.render(1.0, 4.0, 900, 30)  # 0.6 s is 180 px: each segment named
    assert [t for _, t, _ in texts] == ["walk", "clap"] * 3  # 1.0 … 4.0 s, both ends included


def _plot_image(tl, vb):
    """The timeline as drawn (one paint) and the top-left pixel of ``vb``'s plot area in it."""
    from PySide6.QtGui import QImage

    img = tl.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint32, img.sizeInBytes() // 4).reshape(img.height(), -1).copy() & 0xFFFFFF
    top_left = tl.mapFromScene(vb.mapToScene(vb.rect().topLeft()))
    return a, top_left.x(), top_left.y()


def test_each_pixel_column_is_one_stroke_from_the_min_to_the_max_of_its_samples(view, qtbot):
    """Zoomed out, each channel is one vertical stroke per pixel column, from the lowest to the
    highest value of the pyramid blocks starting in that column (a zig-zag through them before:
    every span about twice with its joins, and groups 2 px apart left the column between
    them half empty). On screen the top channel's colour fills each column's stroke, and the
    strokes hold the recorded samples' extremes: every sample of a column lies within the
    strokes of that column and the two before it (a block is at most two columns long), and
    no stroke reaches beyond the samples of its own column, the one before and the next two."""
    from sensorlab.app.labeling.tracks import PALETTE

    tl = view.timeline
    mic = next(t for t in tl.tracks if t.name == "mic")
    tl.set_view(T0 + 0.0, T0 + 40.0)
    qtbot.waitUntil(lambda: tl.grab().toImage().width() > 0, timeout=5000)
    assert mic.level > 0 and len(mic.curves) == 2
    vb = mic.viewbox
    (x0, x1), (y0, y1) = vb.viewRange()
    w, h = vb.width(), vb.height()
    x, y = (np.asarray(a, dtype=np.float64) for a in mic.curves[1].getData())  # the top channel: never cut
    cols = np.floor((x[0::2] - x0) * w / (x1 - x0)).astype(int)
    lo, hi = np.minimum(y[0::2], y[1::2]), np.maximum(y[0::2], y[1::2])
    order = np.argsort(cols)
    cols, lo, hi = cols[order], lo[order], hi[order]
    assert (np.diff(cols) == 1).all()  # one stroke per column, none skipped
    assert cols[0] <= 1 and cols[-1] >= w - 2  # across the whole plot
    # the samples, by the column they are in
    chunk = mic.stream.read_index(0, None)
    t = chunk.timestamps - tl.origin
    v = np.asarray(chunk.data, dtype=np.float64).reshape(len(t), -1)[:, 1]
    c = np.floor((t - x0) * w / (x1 - x0)).astype(int)
    ok = (c >= cols[0]) & (c <= cols[-1])
    c, v = c[ok], v[ok]
    at = np.flatnonzero(np.r_[True, np.diff(c) > 0])
    s_col, s_lo, s_hi = c[at], np.minimum.reduceat(v, at), np.maximum.reduceat(v, at)
    drawn_lo = dict(zip(cols.tolist(), lo.tolist()))
    drawn_hi = dict(zip(cols.tolist(), hi.tolist()))
    checked = 0
    for k, col in enumerate(s_col.tolist()):
        if col - 2 < cols[0] or col + 2 > cols[-1]:
            continue
        before = [col - 2, col - 1, col]
        assert min(drawn_lo[i] for i in before) <= s_lo[k] + 1e-6 and max(drawn_hi[i] for i in before) >= s_hi[k] - 1e-6, col
        if k >= 1 and k + 2 < len(s_col) and s_col[k - 1] == col - 1 and s_col[k + 2] == col + 2:
            near = slice(k - 1, k + 3)  # this column, the one before (a column no block starts in
            # shows the block it lies in) and the two after (the blocks starting here reach into them)
            assert drawn_lo[col] >= s_lo[near].min() - 1e-6 and drawn_hi[col] <= s_hi[near].max() + 1e-6, col
        checked += 1
    assert checked > 0.8 * w
    # On screen: each column's stroke in the top channel's colour, from its max to its min row
    img, left, top = _plot_image(tl, vb)
    colour = QColor(PALETTE[1]).rgb() & 0xFFFFFF
    short = []
    for col, a, b in zip(cols.tolist(), lo.tolist(), hi.tolist()):
        if not 0 <= col < int(w):
            continue
        r0, r1 = int((y1 - b) * h / (y1 - y0)), int((y1 - a) * h / (y1 - y0))
        rows = np.arange(max(0, r0 + 1), min(int(h), r1))  # the stroke's rows (± one at its ends)
        missing = int((img[top + rows, left + col] != colour).sum())
        if missing > 1:  # (the cursor line or a grid line crosses a row or so)
            short.append((col, missing, len(rows)))
    assert len(short) <= 3, short[:10]


def test_a_tracks_channels_are_one_image_with_the_same_pixels_compiled_or_in_numpy(view, qtbot, monkeypatch):
    """A signal track's channels were stroked by Qt one 1-px line per column (most of a sweep
    frame); now they are filled into one image per track, by the C extension when it is built
    and by NumPy otherwise. Both paint the same picture of every track at every zoom, with each
    channel's colour in it, and the Qt strokes are gone from the frame."""
    from functools import partial

    from sensorlab.app.labeling import envelope_layer
    from sensorlab.app.labeling import tracks as tracks_mod
    from sensorlab.plotting.raster import compiled_raster, envelope_image

    tl = view.timeline
    signal = [t for t in tl.tracks if isinstance(t, tracks_mod.SignalTrack)]
    assert {t.name for t in signal} >= {"imu", "mic"}

    def draw(a, b):
        tl.set_view(a, b - 1.0)  # (setting the view it shows would draw nothing)
        tl.viewport().repaint()
        tl.set_view(a, b)
        tl.viewport().repaint()
        return [_plot_image(tl, t.viewbox)[0] for t in signal]

    strokes = []
    original = envelope_layer.EnvelopeTrace.stroke
    monkeypatch.setattr(envelope_layer.EnvelopeTrace, "stroke", lambda tr, p: (strokes.append(tr), original(tr, p))[1])
    for a, b in ((0.0, 40.0), (3.0, 12.0), (10.0, 14.0)):
        renders = [t.layer.renders for t in signal]
        compiled = draw(T0 + a, T0 + b)
        assert all(t.level > 0 for t in signal)
        assert all(t.layer.renders > r for t, r in zip(signal, renders))  # drawn as its image
        with monkeypatch.context() as m:
            m.setattr(envelope_layer, "envelope_image", partial(envelope_image, compiled=False))
            fallback = draw(T0 + a, T0 + b)
        for t, img_c, img_n in zip(signal, compiled, fallback):
            assert (img_c != img_n).sum() == 0, (t.name, a, b, compiled_raster)
    assert not strokes  # no channel was stroked by Qt
    for t, img in zip(signal, compiled):  # every channel's colour is in its track
        for c in t.curves:
            assert (img == (c._pen.color().rgb() & 0xFFFFFF)).sum() > 10, (t.name, c._pen.color().name())


def test_the_envelope_fills_every_column_wherever_the_view_starts_within_a_pixel(view, qtbot):
    """Groups of pyramid blocks are 1–2 px apart; a group one column right of the one before
    is stroked the other way (short joins). Which groups were "one column apart" was counted
    from the first group, not from the screen's pixel columns, so in about half the views
    (depending on where the view started within a pixel) every join between groups 2 px apart
    ran max → max and left the column between them empty: a comb instead of an envelope,
    flickering on and off while dragging."""
    from sensorlab.app.labeling.tracks import PALETTE

    tl = view.timeline
    mic = next(t for t in tl.tracks if t.name == "mic")
    vb = mic.viewbox
    combed = []
    for phase in np.linspace(0.0, 0.9, 6):  # view starts a fraction of a pixel apart
        t0 = T0 + 3.0 + phase * 9.0 / vb.width()
        tl.set_view(t0, t0 + 9.0)  # 72,000 samples, level 2: groups ~1.5 px apart
        assert mic.level > 0 and mic.group > 1
        img = tl.grab().toImage()
        top_left = tl.mapFromScene(vb.mapToScene(vb.rect().topLeft()))
        (x0, x1), (y0, y1) = vb.viewRange()
        x, y = (np.asarray(a, dtype=np.float64) for a in mic.curves[1].getData())  # drawn on top
        px = (x[0::2] - x0) * vb.width() / (x1 - x0)
        # The middle row of the plot lies inside every loud group's span.
        row = int(top_left.y() + vb.height() / 2)
        loud = np.flatnonzero(np.minimum(y[0::2], y[1::2]) < -0.2)
        cols = {int(np.floor(p)) for p in px[loud] if 2 <= p < vb.width() - 2}
        gaps = [c + 1 for c in cols if c + 2 in cols and c + 1 not in cols]  # the column between
        colour = QColor(PALETTE[1]).rgb() & 0xFFFFFF
        empty = [c for c in gaps if img.pixel(top_left.x() + c, row) & 0xFFFFFF != colour]
        combed.append(len(empty) / max(1, len(gaps)))
    assert max(combed) < 0.1, combed


def test_opening_draws_only_the_whole_session_not_its_first_second(synthetic_session, tmp_path, open_view, monkeypatch):
    """Rows were added to the timeline at pyqtgraph's default range (0–1 s), so each signal
    track drew the first second while the window was built; for a 10-hour session that loaded
    the audio's finest stored level (72 MB of block times, ~0.15 s) before the first paint,
    which shows the whole session."""
    from sensorlab.app.labeling.tracks import SignalTrack

    asked: list[tuple[str, float, float]] = []
    draw = SignalTrack.update_range
    monkeypatch.setattr(SignalTrack, "update_range",
                        lambda self, t0, t1, px: (asked.append((self.name, t0, t1)), draw(self, t0, t1, px))[1])
    p = tmp_path / "run.h5"
    p.write_bytes(synthetic_session.read_bytes())
    v = open_view(p, LABELS)
    t_begin, t_end = v.timeline.t_begin, v.timeline.t_end
    assert {name for name, *_ in asked} == {"mic", "imu"}
    assert all(t0 <= t_begin + 0.5 and t1 >= t_end - 0.5 for _, t0, t1 in asked), [a for a in asked if a[2] - a[1] < 30][:4]


def test_the_ruler_of_a_ten_hour_timeline_counts_plain_seconds(qtbot):
    """pyqtgraph picks an SI prefix for the current range even while turning the prefix off:
    with the whole range set first, a 10-hour ruler read "ks" and 5, 10, 15 for 5,000 s …"""
    import pyqtgraph as pg

    from sensorlab.app.labeling.timeline import Timeline

    tl = Timeline(origin=1000.0, t_begin=1000.0, t_end=1000.0 + 36_000.0)
    qtbot.addWidget(tl)
    tl.add_plot(pg.PlotItem(), 2)
    ruler = tl.plots[0].getAxis("top")
    assert (ruler.autoSIPrefixScale, ruler.labelUnitPrefix) == (1.0, "")
    assert "(s)" in ruler.labelString() and tl.view_range == pytest.approx((1000.0, 37_000.0))


def test_a_strip_without_hatching_draws_one_row_stretched_pixel_for_pixel_as_the_whole_image(qtbot, view, monkeypatch):
    """With no suggestion in view, every row of a lane's strip is the same: it makes one row and
    draws it stretched over the lane. The lane must look exactly as when the whole image is
    drawn (edges, the selected one's white edges, fills, texts); a suggestion in view (hatched,
    dashed) gets the whole image again."""
    from sensorlab.app.labeling.segment_strip import SegmentStrip

    tl, av = view.timeline, view.annotation_view
    # The view settles once after its first paint (the other lanes get their items): wait
    # for it, or what the lanes hold, and so what the strip draws, depends on the machine's load.
    qtbot.waitUntil(lambda: not tl._settle_after_paint and not tl._settle.isActive(), timeout=10_000)
    n = MAX_ITEMS + 20
    segs = [Segment.create("dense", ("wave", "clap")[i % 2], T0 + 0.5 + i * 0.45, T0 + 0.5 + i * 0.45 + 0.3) for i in range(n)]
    segs.append(Segment.create("dense", "clap", T0 + 20.1))  # a point: a 2-px line
    av.push(CompoundCommand([AddSegment(s) for s in segs], f"Add {n + 1}"))
    av.select(segs[7].id)
    lane = av.lanes["dense"]
    render = SegmentStrip.render

    def whole(self, *args, **kwargs):  # the whole image, as before the one-row cut
        img, texts = render(self, *args, **kwargs)
        return np.ascontiguousarray(img), texts

    def lane_pixels() -> np.ndarray:
        img = tl.grab().toImage()
        img = img.convertToFormat(img.Format.Format_RGB32)
        r = lane.plot.getViewBox().sceneBoundingRect()
        top_left, bottom_right = tl.mapFromScene(r.topLeft()), tl.mapFromScene(r.bottomRight())
        a = np.frombuffer(img.constBits(), np.uint32, img.height() * img.bytesPerLine() // 4).reshape(img.height(), -1)
        return a[top_left.y():bottom_right.y(), top_left.x():bottom_right.x()].copy()

    # The strip draws suggestions only where their lane (one per source) is dense (over
    # MAX_ITEMS segments in view): in a sparse range a segment gets an interactive item of its own.
    for a, b, suggested in ((T0, T0 + 40, False), (T0 + 2, T0 + 9, False), (T0 + 1, T0 + 31, True)):
        if suggested:
            sugg = [Segment.create("dense", "wave", T0 + 1.2 + i * 0.6, T0 + 1.5 + i * 0.6, suggested=True, source="model:m.onnx")
                    for i in range(MAX_ITEMS + 5)]  # fmt: skip
            av.push(CompoundCommand([AddSegment(s) for s in sugg], "Suggest"))
            lane = av.lanes[("dense", "model:m.onnx")]
        tl.set_view(a, b)  # not settled: drawn by the strip
        stretched = lane_pixels()
        assert lane.strip.drawn > 0
        assert (lane.strip._image.height() == 1) is (not suggested)
        with monkeypatch.context() as m:
            m.setattr(SegmentStrip, "render", whole)
            tl.viewport().repaint()
            full = lane_pixels()
        assert stretched.shape == full.shape and (stretched != full).sum() == 0, (a - T0, b - T0, suggested)
        assert len(np.unique(stretched)) > 3  # fills, edges and the background: something drawn
