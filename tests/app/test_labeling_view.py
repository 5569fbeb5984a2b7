"""Labeling view on a generated session: gestures and keys become commands, edits survive a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from sensorlab.labeling.cli_commands import open_session_annotations
from sensorlab.labeling.store import sidecar_path
from sensorlab.session.pyramid import Pyramid, cache_path
from sensorlab.session.reader import Session
from sensorlab.session.synthetic import T0, write_synthetic_session


@pytest.fixture(scope="module")
def session_path(tmp_path_factory):
    """A 40 s session of every kind: video, stereo audio, 6-ch IMU, live labels, predictions."""
    return write_synthetic_session(tmp_path_factory.mktemp("lab") / "run.h5", 40.0, audio_rate=16000, frame_shape=(24, 32))


@pytest.fixture
def fresh(session_path, tmp_path):
    """A private copy of the session (each test gets its own sidecar)."""
    p = tmp_path / "run.h5"
    p.write_bytes(session_path.read_bytes())
    return p


def drag(qtbot, widget, a: QPoint, b: QPoint) -> None:
    """A real mouse drag (press, several moves, release) through qtbot."""
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=a)
    for f in np.linspace(0, 1, 6)[1:]:
        qtbot.mouseMove(widget, QPoint(int(a.x() + f * (b.x() - a.x())), a.y()))
        qtbot.wait(20)  # pyqtgraph rate-limits move events
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=b)


def test_first_open_builds_the_pyramid_in_a_worker_and_draws_every_stream(fresh, open_view):
    assert not cache_path(fresh).exists()
    v = open_view(fresh)
    assert cache_path(fresh).exists()
    names = [t.name for t in v.timeline.tracks]
    assert sorted(names) == ["imu", "mic", "mic spectrum", "predictions"]  # "labels" became the labels tier
    imu = next(t for t in v.timeline.tracks if t.name == "imu")
    px = v.timeline.pixels()
    assert 0 < imu.points <= 2 * px * 6  # at most 2 vertices per pixel per channel
    assert "default" in v.annotation_view.lanes  # recorded live labels became the labels tier
    assert [p.stream.name for p in v.previews] == ["cam"]
    v.timeline.set_view(T0 + 10, T0 + 10.05)  # zoom to single samples: raw level
    assert imu.level == 0


def test_drag_undo_redo_relabel_and_reopen_after_kill(fresh, open_view, qtbot):
    v = open_view(fresh)
    tl = v.timeline
    tl.set_view(T0 + 0, T0 + 20)
    lane = v.annotation_view.lanes["default"]
    a, b = tl.x_to_pixel(lane.plot, T0 + 6.0), tl.x_to_pixel(lane.plot, T0 + 10.0)
    n0 = len(v.annotations)
    drag(qtbot, tl.viewport(), a, b)
    assert len(v.annotations) == n0 + 1
    seg = v.annotations[v.annotation_view.selected]
    assert seg.tier == "default" and seg.label == "walk"
    assert seg.start == pytest.approx(T0 + 6.0, abs=0.1) and seg.end == pytest.approx(T0 + 10.0, abs=0.1)
    assert v.stack.history[-1] == "Add walk"
    assert seg.id in v.annotation_view.items  # drawn

    qtbot.keyClick(v, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert seg.id not in v.annotations and seg.id not in v.annotation_view.items
    assert seg.id not in open_session_annotations(fresh)  # autosaved after the undo too
    qtbot.keyClick(v, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert v.annotations[seg.id] == seg
    v.annotation_view.select(seg.id)
    qtbot.keyClick(v, Qt.Key.Key_2)  # hotkey 2 = wave
    assert v.annotations[seg.id].label == "wave"
    assert v.history.count() == 1 + len(v.stack.history)  # "Opened" + commands

    # Dragging the right edge previews, then commits exactly one MoveSegment on release. It
    # changed the span's length: the History panel and undo/redo say "Resize" (it said "Move").
    item = v.annotation_view.items[seg.id]
    edge = tl.x_to_pixel(lane.plot, seg.end)
    depth = v.stack.index
    drag(qtbot, tl.viewport(), edge, edge + QPoint(60, 0))
    assert v.stack.index == depth + 1 and v.history.item(v.history.count() - 1).text() == "Resize wave"
    assert v.stack.undo_text == "Resize wave"
    moved = v.annotations[seg.id]
    assert moved.end > seg.end + 0.5 and moved.start == seg.start
    v.stack.undo()
    assert v.stack.redo_text == "Resize wave"
    v.stack.redo()
    # What is drawn is the stored span, and the pre-drag item is gone from the lane.
    drawn = v.annotation_view.items[seg.id]
    assert drawn.getRegion() == pytest.approx((moved.start - tl.origin, moved.end - tl.origin))
    assert drawn is item or item.getViewBox() is None

    # Dragging the middle moves the whole span, keeping its length: "Move". The dragged span is
    # then the selection, so a digit relabels it (it added a point at the cursor instead).
    v.annotation_view.select("")
    middle = tl.x_to_pixel(lane.plot, (moved.start + moved.end) / 2)
    drag(qtbot, tl.viewport(), middle, middle + QPoint(40, 0))
    shifted = v.annotations[seg.id]
    assert shifted.start > moved.start and shifted.end - shifted.start == pytest.approx(moved.end - moved.start, abs=0.05)
    assert v.history.item(v.history.count() - 1).text() == "Move wave"
    assert v.annotation_view.selected == seg.id
    n = len(v.annotations)
    qtbot.keyClick(v, Qt.Key.Key_1)
    assert len(v.annotations) == n and v.annotations[seg.id].label != "wave"
    assert v.stack.history[-1].startswith("Relabel wave →")
    qtbot.keyClick(v, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)

    # "Kill": drop the view without any close/save call; a new view reads the sidecar.
    expected = v.annotations.to_dict()
    v.annotation_view.disconnect_model()
    v2 = open_view(fresh)
    assert v2.annotations.to_dict() == expected
    assert v2.annotations[seg.id].label == "wave"


def test_keys_split_merge_delete_point_and_review(fresh, open_view, qtbot):
    from sensorlab.labeling.annotations import Segment
    from sensorlab.labeling.commands import AddSegment

    v = open_view(fresh)
    tl = v.timeline
    sugg = Segment.create("suggestions", "walk", T0 + 30.0, T0 + 31.0, suggested=True, source="suggest:energy:mic")
    v.annotation_view.push(AddSegment(sugg))
    tl.set_view(T0 + 25, T0 + 35)
    assert v.annotation_view.items[sugg.id].brush.style() == Qt.BrushStyle.BDiagPattern  # drawn hatched
    tl.set_cursor(T0 + 30.5)
    v.annotation_view.select("")
    qtbot.keyClick(v, Qt.Key.Key_S)  # split the span under the cursor (tier = active tier)
    v.tier = "suggestions"
    qtbot.keyClick(v, Qt.Key.Key_S)
    halves = v.annotations.segments("suggestions")
    assert [(s.start, s.end) for s in halves] == [(T0 + 30.0, T0 + 30.5), (T0 + 30.5, T0 + 31.0)]
    v.annotation_view.select(halves[0].id)
    qtbot.keyClick(v, Qt.Key.Key_M)
    assert [(s.start, s.end) for s in v.annotations.segments("suggestions")] == [(T0 + 30.0, T0 + 31.0)]
    qtbot.keyClick(v, Qt.Key.Key_A)  # accept the selected suggestion with one key
    assert not v.annotations[halves[0].id].suggested
    qtbot.keyClick(v, Qt.Key.Key_Delete)
    assert halves[0].id not in v.annotations
    # A point at the cursor with a hotkey (nothing selected, not playing), then reject a suggestion.
    tl.set_cursor(T0 + 33.0)
    qtbot.keyClick(v, Qt.Key.Key_3)
    pt = v.annotations[v.annotation_view.selected]
    assert pt.is_point and pt.label == "clap" and pt.start == pytest.approx(T0 + 33.0)
    s2 = Segment.create("suggestions", "wave", T0 + 34.0, T0 + 35.0, suggested=True)
    v.annotation_view.push(AddSegment(s2))
    v.annotation_view.select("")
    qtbot.keyClick(v, Qt.Key.Key_R)
    assert s2.id not in v.annotations


def test_scrubbing_moves_the_video_frame_and_n_p_jump_between_labels(fresh, open_view, qtbot):
    v = open_view(fresh)
    tl, cam = v.timeline, v.previews[0]
    tl.set_view(T0, T0 + 40)
    tl.set_cursor(T0 + 5.0)
    first = cam.frame_index
    img1 = cam.image.image.copy()
    # Click on the imu track: the cursor moves there, and the frame follows.
    imu = next(t for t in tl.tracks if t.name == "imu")
    qtbot.mouseClick(tl.viewport(), Qt.MouseButton.LeftButton, pos=tl.x_to_pixel(imu.plot, T0 + 20.0))
    assert tl.cursor == pytest.approx(T0 + 20.0, abs=0.1)
    assert cam.frame_index == pytest.approx(20.0 * 30, abs=4) and cam.frame_index != first
    assert not np.array_equal(cam.image.image, img1)
    qtbot.keyClick(v, Qt.Key.Key_Right)
    assert tl.cursor == pytest.approx(T0 + 20.4, abs=0.05)
    # Jump to the next/previous label.
    tl.set_cursor(T0)
    starts = sorted(s.start for s in v.annotations)
    qtbot.keyClick(v, Qt.Key.Key_N)
    assert tl.cursor == starts[0] and v.annotations[v.annotation_view.selected].start == starts[0]
    qtbot.keyClick(v, Qt.Key.Key_N)
    assert tl.cursor == starts[1]
    qtbot.keyClick(v, Qt.Key.Key_P)
    assert tl.cursor == starts[0]
    # Zoom keys.
    span = np.subtract(*tl.view_range[::-1])
    qtbot.keyClick(v, Qt.Key.Key_Plus)
    assert np.subtract(*tl.view_range[::-1]) == pytest.approx(span / 2, rel=0.05)
    qtbot.keyClick(v, Qt.Key.Key_Minus)
    assert np.subtract(*tl.view_range[::-1]) == pytest.approx(span, rel=0.05)


def _play_and_start_a_walk(v, qtbot) -> None:
    """Play from 2 s into the session and press 1 (walk): a span starts while the cursor moves."""
    v.timeline.set_cursor(T0 + 2.0)
    qtbot.keyClick(v, Qt.Key.Key_Space)
    assert v.playback.playing
    qtbot.keyClick(v, Qt.Key.Key_1)


def _walks_labeled_here(v) -> list:
    """The walk spans labeled in the view (not the walk recorded live with the session)."""
    return [s for s in v.annotations if s.label == "walk" and s.tier == v.tier and s.source != "live"]


def test_playback_without_audio_device_moves_cursor_and_spans_with_hotkeys(fresh, open_view, qtbot):
    v = open_view(fresh)
    tl = v.timeline
    _play_and_start_a_walk(v, qtbot)
    pressed_by = v.playback.current
    qtbot.waitUntil(lambda: tl.cursor > T0 + 2.3, timeout=5000)
    qtbot.keyClick(v, Qt.Key.Key_1)  # stop it
    qtbot.keyClick(v, Qt.Key.Key_Space)
    assert not v.playback.playing
    spans = _walks_labeled_here(v)
    # The span runs from where the cursor was at the first press (played on from 2.0 s by the
    # time the key was handled, however loaded the machine) to past 2.3 s.
    assert len(spans) == 1 and T0 + 2.0 <= spans[0].start <= pressed_by and spans[0].end > T0 + 2.3


def test_sigkill_right_after_an_edit_keeps_it(fresh, tmp_path):
    """A separate process edits through the view, is SIGKILLed, and the edit is in the sidecar."""
    with Session.open(fresh) as s:
        Pyramid.open(s).close()  # the child opens without a worker
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QApplication
        from PySide6.QtTest import QTest
        app = QApplication([])
        from sensorlab.app.labeling.view import LabelingView
        v = LabelingView({str(fresh)!r}, play_audio=False)
        v.resize(900, 600); v.show(); app.processEvents()
        v.timeline.set_cursor({T0 + 12.5})
        QTest.keyClick(v, Qt.Key.Key_1)
        print("edited", flush=True)
        app.exec()
    """))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "edited"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    ann = open_session_annotations(fresh)
    assert any(s.is_point and s.start == T0 + 12.5 for s in ann)
    assert sidecar_path(fresh).exists()


def test_label_without_a_display_prints_one_line_instead_of_aborting(session_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    code = "import sys; from sensorlab.app.labeling.main import main; sys.exit(main([sys.argv[1]]))"
    proc = subprocess.run([sys.executable, "-c", code, str(session_path)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr  # not Qt's abort (134)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "sensorlab labels export|import|suggest" in lines[0] and "xvfb-run sensorlab label FILE" in lines[0]
    assert "xcb" not in proc.stderr


def test_tick_labels_of_stacked_tracks_do_not_overlap(fresh, open_view):
    from PySide6.QtGui import QImage, QPainter

    v = open_view(fresh)
    v.timeline.refresh()
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    boxes = []  # (track, scene rect of one drawn tick label)
    try:
        for tr in v.timeline.tracks:
            axis = tr.plot.getAxis("left")
            _, _, texts = axis.generateDrawSpecs(painter)
            boxes += [(tr.name, axis.mapRectToScene(rect), text) for rect, _, text in texts]
    finally:
        painter.end()
    mic = [text for name, _, text in boxes if name == "mic"]
    assert "1.0" in mic and "-1.0" in mic  # the audio range keeps its extreme labels (margin)
    for i, (na, ra, ta) in enumerate(boxes):
        for nb, rb, tb in boxes[i + 1:]:
            if na != nb:
                assert not ra.intersects(rb), f"{na} {ta!r} overlaps {nb} {tb!r}"


def test_selection_hint_is_shown_once_with_session_times(fresh, open_view):
    from PySide6.QtWidgets import QLabel

    v = open_view(fresh)
    seg = next(s for s in v.annotations if not s.is_point)
    v.annotation_view.select(seg.id)
    v._update_position()
    shown = [w.text() for w in v.findChildren(QLabel) if w.isVisible() and "S split" in w.text()]
    assert len(shown) == 1, shown
    m, sec = divmod(seg.start - T0, 60)
    assert f"{int(m):02d}:{sec:06.3f}–" in shown[0]


def test_suggest_again_replaces_the_previous_run_in_one_undo_step(fresh, open_view, qtbot):
    v = open_view(fresh)
    done = []
    v.message.connect(done.append)
    for _ in range(2):
        n = len(done)
        v.suggest("mic", "energy")
        qtbot.waitUntil(lambda n=n: any("suggestion" in m for m in done[n:]), timeout=20_000)
    mine = [s for s in v.annotations if s.suggested and s.source == "suggest:energy:mic"]
    assert mine and len(mine) == len({(s.start, s.end) for s in mine})  # not piled up twice
    assert any("replacing" in m for m in done), done
    v.stack.undo()  # the second run is one step: undo brings the first run's back
    assert sorted((s.start, s.end) for s in v.annotations if s.source == "suggest:energy:mic") == sorted((s.start, s.end) for s in mine)


def test_every_channel_draws_its_own_recorded_values_at_every_zoom(tmp_path, open_view):
    """Each channel's curve holds the min/max of that channel's raw samples (or the raw samples).

    Checked against the recorded data read directly from the session, not against the pyramid,
    at zoom levels that use the stored overview levels, the on-the-fly level and raw samples.
    Also: about one min/max pair per pixel, never far fewer (a ramp drawn from 8-px blocks
    looks like a staircase the data does not have).
    """
    from sensorlab.app.labeling.envelope_columns import column_envelope
    from sensorlab.session.pyramid import BLOCK_FACTOR

    path = write_synthetic_session(tmp_path / "fast.h5", 40.0, audio_rate=8000, imu_rate=4000, frame_shape=(8, 8))
    v = open_view(path)
    tl = v.timeline
    stream = v.session.streams["imu"]
    times = np.asarray(stream.timestamps)
    raw = np.asarray(stream.read_index(0, len(times)).data, dtype=np.float32).reshape(len(times), -1)
    imu = next(t for t in tl.tracks if t.name == "imu")
    assert len(imu.curves) == raw.shape[1] == 6
    levels = set()
    for t0, span in [(0.0, 40.0), (10.0, 8.0), (10.0, 1.0), (10.0, 0.5), (10.0, 0.1), (10.0, 0.02)]:
        tl.set_view(T0 + t0, T0 + t0 + span)
        levels.add(imu.level)
        px = tl.pixels()
        drawn = []
        for ch, curve in enumerate(imu.curves):
            x, y = (np.asarray(a) for a in curve.getData())
            assert len(x) > 10
            if imu.level == 0 and imu.group == 1:  # raw samples as a polyline
                idx = np.searchsorted(times, x + tl.origin - 1e-9)
                np.testing.assert_array_equal(y, raw[idx, ch])
            else:
                # The recorded samples' min/max over the blocks starting in each pixel column
                # (blocks of the level, aligned to sample indices: no shimmer while panning).
                bs = BLOCK_FACTOR**imu.level
                left, width = imu._device_x()
                x0, x1 = imu.viewbox.viewRange()[0]
                starts = np.arange(0, len(times), bs)
                rec_lo = np.minimum.reduceat(raw[:, ch], starts)
                rec_hi = np.maximum.reduceat(raw[:, ch], starts)
                col, lo, hi = column_envelope(times[starts], rec_lo[:, None], rec_hi[:, None],
                                              x0 + tl.origin, width / (x1 - x0), left)
                lo, hi = dict(zip(col.tolist(), lo[:, 0].tolist())), dict(zip(col.tolist(), hi[:, 0].tolist()))
                seg_col = np.floor((x[0::2] - x0) * width / (x1 - x0) + left).astype(int)
                pairs = np.c_[y[0::2], y[1::2]]
                seg_lo, seg_hi = pairs.min(axis=1), pairs.max(axis=1)
                if ch == len(imu.curves) - 1:  # drawn on top: one whole stroke per column
                    assert len(set(seg_col.tolist())) == len(seg_col)
                    # one per pixel column of the plot (and of the blocks that begin before its
                    # edges: clipped)
                    assert px - 2 <= len(seg_col) <= 1.1 * px, (len(seg_col), px)
                checked = 0
                for c, a, b in zip(seg_col.tolist(), seg_lo.tolist(), seg_hi.tolist()):
                    near = [lo.get(c + d) for d in (-1, 0, 1)]
                    if None in near:
                        continue  # an edge column
                    # within the recorded values of the column and its neighbours (a stroke
                    # reaches half way to a neighbour that does not overlap it) ...
                    assert a >= min(near) - 1e-6 and b <= max(hi[c + d] for d in (-1, 0, 1)) + 1e-6, (ch, span, c)
                    if ch == len(imu.curves) - 1:  # ... and the top one holds the column's own
                        assert a <= lo[c] + 1e-6 and b >= hi[c] - 1e-6, (ch, span, c)
                    checked += 1
                assert checked >= 0.5 * len(seg_col) > 0, (ch, span)
            drawn.append(y)
        # The channels differ in the recording, so they must differ on screen too.
        assert all(not np.array_equal(drawn[0], d) for d in drawn[1:])
    assert {0, 1} < levels and max(levels) >= 2, levels  # raw, on-the-fly and stored overview levels


def test_suggest_that_finds_nothing_says_so_with_the_hint(tmp_path, open_view, qtbot):
    """The result line stays on screen: the worker's end-of-work signal must not blank it."""
    quiet = write_synthetic_session(tmp_path / "quiet.h5", 0.9, audio_rate=16000, frame_shape=(24, 32))  # noise only
    v = open_view(quiet)
    width = v.width()
    v.suggest("mic", "energy")
    qtbot.waitUntil(lambda: not v.runner.busy, timeout=20_000)
    qtbot.wait(50)  # let any signal queued behind the result arrive: it must not overwrite it
    assert v.status.text().startswith("0 suggestions from energy on mic"), v.status.text()
    assert "in Suggest ▾ → Settings… try Minimum length 0.005 s" in v.status.text()  # the fix in the window, not a command
    assert not v.progress.isVisible()
    # The long line wraps, readable in full, instead of widening the window off the screen.
    qtbot.waitUntil(lambda: v.status.height() >= v.status.heightForWidth(v.status.width()), timeout=5000)
    assert v.width() == width and v.play_button.geometry().right() <= v.width()
    assert not [s for s in v.annotations if s.suggested]


def test_position_line_follows_a_relabel_and_the_tier_box_and_time_axis_read_fully(fresh, open_view, qtbot):
    from sensorlab.labeling.annotations import Segment
    from sensorlab.labeling.commands import AddSegment

    v = open_view(fresh)
    seg = Segment.create("live", "walk", T0 + 6.0, T0 + 8.0)
    v.annotation_view.push(AddSegment(seg))
    v.annotation_view.select(seg.id)
    assert "selected: walk [live]" in v.position_label.text()
    qtbot.keyClick(v, Qt.Key.Key_2)  # relabel to wave
    assert v.annotations[seg.id].label == "wave"
    assert "selected: wave [live]" in v.position_label.text(), v.position_label.text()
    qtbot.keyClick(v, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo: back to walk
    assert "selected: walk [live]" in v.position_label.text(), v.position_label.text()

    # A tier that appears after the window is shown is readable in full in the tier box.
    v.annotation_view.push(AddSegment(Segment.create("suggestions", "walk", T0 + 30.0, T0 + 31.0, suggested=True)))
    v.tier_box.setCurrentText("suggestions")
    qtbot.wait(10)
    edit = v.tier_box.lineEdit()
    assert edit.text() == "suggestions"
    assert edit.width() >= edit.fontMetrics().horizontalAdvance("suggestions") + 4, edit.width()

    # The time ruler says what its numbers are.
    ruler = v.timeline.plots[0].getAxis("top")
    assert ruler.label.isVisible() and "(s)" in ruler.label.toPlainText(), ruler.label.toPlainText()


def test_pausing_with_a_span_started_ends_it_there_instead_of_dropping_it(fresh, open_view, qtbot):
    # Watching: 1 where the walk starts, then Space where it ends (the natural gesture). The span
    # was dropped without a word when playback paused.
    v = open_view(fresh)
    tl = v.timeline
    _play_and_start_a_walk(v, qtbot)
    started = v.open_spans[1]
    qtbot.waitUntil(lambda: tl.cursor > started + 0.3, timeout=10_000)
    qtbot.keyClick(v, Qt.Key.Key_Space)  # pause: ends it
    qtbot.waitUntil(lambda: not v.playback.playing, timeout=5000)
    spans = _walks_labeled_here(v)
    assert len(spans) == 1 and spans[0].start == started and spans[0].end > started + 0.3
    assert spans[0].end == pytest.approx(tl.cursor, abs=0.05)  # where playback paused
    assert v.status.text().startswith("walk: ") and "ended at the pause" in v.status.text()
    assert not v.open_spans
