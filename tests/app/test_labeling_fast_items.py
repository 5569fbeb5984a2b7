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
from sensorlab.session.synthetic import T0, write_synthetic_session

LABELS = LabelSet.from_names(["walk", "wave", "clap"])


@pytest.fixture(scope="module")
def session_path(tmp_path_factory):
    return write_synthetic_session(tmp_path_factory.mktemp("fast") / "run.h5", 40.0, audio_rate=8000, frame_shape=(12, 16))


@pytest.fixture
def view(session_path, tmp_path, open_view):
    p = tmp_path / "run.h5"
    p.write_bytes(session_path.read_bytes())
    return open_view(p, LABELS)


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


def test_scrolling_zoomed_in_to_samples_reads_no_timestamps_to_find_the_view_edges(session_path, tmp_path, qtbot):
    """Zoomed in to raw samples, each frame looked both view edges up in the file's timestamps
    (two small HDF5 reads per frame, a sixth of the frame); the pyramid's block times (in
    memory) now bound them, the only reads are the samples drawn (fewer than one a frame while
    panning: a margin around the view is drawn ahead), and every sample in view is drawn."""
    from sensorlab.app.labeling.tracks import SignalTrack
    from sensorlab.session.pyramid import Pyramid
    from sensorlab.session.reader import Session

    with Session.open(session_path) as s, Pyramid.open(s, tmp_path / "run.pyramid.h5") as pyramid:
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
    """What a signal track draws for one channel: group time → (min, max) of its stroke."""
    x, y = (np.asarray(a, dtype=np.float64) for a in track.curves[channel].getData())
    return {float(t): (float(min(a, b)), float(max(a, b))) for t, a, b in zip(x[0::2], y[0::2], y[1::2])}


def test_a_drag_scroll_reuses_the_drawn_envelope_and_draws_what_a_fresh_view_draws(session_path, tmp_path, qtbot):
    """Dragging the timeline moves the view a few pixels a frame. Each frame read the visible
    blocks from the pyramid again, merged them per pixel and handed every channel's polyline
    to Qt, though the drawing in data coordinates had not changed: the view's transform moves
    it. A pan that continues the last one now draws a margin beyond the view and the frames
    that follow reuse it; what is on screen is what a track drawing that range afresh shows,
    and a zoom draws anew."""
    from sensorlab.app.labeling.tracks import SignalTrack
    from sensorlab.session.pyramid import Pyramid
    from sensorlab.session.reader import Session

    with Session.open(session_path) as s, Pyramid.open(s, tmp_path / "run.pyramid.h5") as pyramid:
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
            assert min(want) + T0 <= t0 and max(want) + T0 >= t0 + span - 2 * span / px  # groups cover the view
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


def test_recorded_predictions_parse_each_distinct_text_once_and_keep_their_texts_and_colours(session_path, qtbot, monkeypatch):
    """A 10-hour session's 18,000 predictions (one every 2 s) repeat a few texts; parsing each
    one took a fifth of opening the view. Every event still gets its own text and colour."""
    from sensorlab.app.labeling.events_track import EventsTrack
    from sensorlab.session.reader import Session

    calls = []
    parse = EventsTrack._text
    monkeypatch.setattr(EventsTrack, "_text", staticmethod(lambda x: (calls.append(x), parse(x))[1]))
    with Session.open(session_path) as s:
        stream = s.streams["predictions"]
        raw = stream.read()
        track = EventsTrack(stream, T0, colors=lambda text: LABELS.color_of(text.split(" ")[0]))
    assert len(calls) == len(set(raw.data.tolist())) < len(raw.data) / 2
    order = np.argsort(raw.timestamps, kind="stable")
    assert track.texts == [parse(raw.data[i]) for i in order]
    names = sorted({LABELS.color_of(t.split(" ")[0]) for t in track.texts})
    colours = [names[i] for i in track.ticks.color_index]
    assert colours == [LABELS.color_of(t.split(" ")[0]) for t in track.texts]


def test_the_video_frame_waits_for_the_first_paint_then_shows_the_cursor_frame(session_path, tmp_path, qtbot):
    """Reading every frame's time and decoding a JPEG for the preview took 0.2–0.3 s of opening
    a 10-hour session before anything was drawn; now it follows the timeline's first paint."""
    from sensorlab.app.labeling.view import LabelingView
    from sensorlab.session.pyramid import Pyramid
    from sensorlab.session.reader import Session

    p = tmp_path / "run.h5"
    p.write_bytes(session_path.read_bytes())
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


def test_a_view_closed_before_its_first_paint_reads_nothing_from_the_closed_file(session_path, tmp_path, qtbot):
    """The preview's deferred read follows the first paint; a view closed before that paint
    (a user closing at once, a test tearing down under load) raised "Can't synchronously read
    data" from the closed file in the event loop."""
    from sensorlab.app.labeling.view import LabelingView
    from sensorlab.session.pyramid import Pyramid
    from sensorlab.session.reader import Session

    p = tmp_path / "run.h5"
    p.write_bytes(session_path.read_bytes())
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


def test_envelope_strokes_each_span_about_once_and_fills_every_column(view, qtbot):
    """Zoomed out, each channel is a min–max stroke per pixel column. Joined min → max → next
    min, Qt drew every span twice (the join back down is as long as the stroke), about half of
    a 10-hour session's scroll frame; strokes now alternate direction so joins are short. The
    envelope must still fill every column from its min to its max (no comb of empty columns)."""
    from sensorlab.app.labeling.tracks import PALETTE

    tl = view.timeline
    mic = next(t for t in tl.tracks if t.name == "mic")
    tl.set_view(T0 + 0.0, T0 + 40.0)
    assert mic.level > 0 and len(mic.curves) == 2
    vb = mic.viewbox
    (x0, x1), (y0, y1) = vb.viewRange()
    w, h = vb.width(), vb.height()
    x, y = (np.asarray(a, dtype=np.float64) for a in mic.curves[1].getData())
    px, py = (x - x0) * w / (x1 - x0), (y1 - y) * h / (y1 - y0)
    stroked = np.maximum(np.abs(np.diff(px)), np.abs(np.diff(py))).sum()  # pixels a 1-px line covers
    spans = np.abs(py[0::2] - py[1::2]).sum()
    assert spans > 20 * w  # a loud recording: tall spans, where drawing them twice costs
    assert stroked < 1.4 * spans + 2 * len(px), (stroked, spans)  # was ~2× (every join as long as a span)
    # On screen: every column between the first and the last group shows the top channel's
    # colour over at least most of that column's span.
    qtbot.waitUntil(lambda: tl.grab().toImage().width() > 0, timeout=5000)
    img = tl.grab().toImage()
    top_left = tl.mapFromScene(vb.mapToScene(vb.rect().topLeft()))
    colour = QColor(PALETTE[1]).rgb() & 0xFFFFFF
    short = []
    for c in range(int(px[0]) + 2, int(px[-1]) - 2):
        # The groups whose strokes fall in this column (the column between two groups
        # 2 px apart shares the join).
        near = np.flatnonzero(np.abs(px[0::2] - c) <= 1.0)
        if not len(near):
            continue
        lo_row = py[1::2][near].tolist() + py[0::2][near].tolist()
        want = min(max(lo_row) - min(lo_row), h - 2)
        got = sum(1 for r in range(int(h)) if img.pixel(top_left.x() + c, top_left.y() + r) & 0xFFFFFF == colour)
        if got < 0.3 * want - 2:
            short.append((c, got, round(want)))
    assert len(short) <= 3, short[:10]


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


def test_opening_draws_only_the_whole_session_not_its_first_second(session_path, tmp_path, open_view, monkeypatch):
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
    p.write_bytes(session_path.read_bytes())
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
