"""What the live view's marker layer and image previews put on screen: lines where their
times are, in their colours, and camera frames in their own colours (checked on the pixels
Qt renders, not on the items' state)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.app.live.image import ImagePanel
from tests.app.rendered import columns_with, shown, shown_events_panel

YELLOW, BLUE, GREEN = "#ffd54f", "#4e9bf5", "#5ac85a"


def test_marker_lines_are_drawn_at_their_times_in_their_colours(qtbot):
    panel = shown_events_panel(qtbot)
    panel.add_marker(-3.0, "", YELLOW)  # left of the view: not drawn
    panel.add_marker(2.0, "", YELLOW)
    panel.add_marker(5.0, "", BLUE)
    panel.add_marker(7.5, "", YELLOW)
    panel.add_marker(12.0, "", BLUE)  # right of the view: not drawn
    layer = panel._marker_layer
    qtbot.waitUntil(lambda: layer.boundingRect().width() > 300, timeout=5_000)

    def on_screen(x: float) -> int:
        px = float(layer.x_to_px(x))
        return panel.graphics.mapFromScene(layer.mapToScene(QPointF(px, layer.boundingRect().bottom() - 2))).x()

    # Below the text rows (there are no texts here anyway), half way down the plot.
    y = panel.graphics.mapFromScene(layer.mapToScene(layer.boundingRect().center())).y()
    image = panel.graphics.grab().toImage()
    yellow, blue = columns_with(image, y, YELLOW), columns_with(image, y, BLUE)
    assert yellow and blue
    assert all(min(abs(c - on_screen(x)) for x in (2.0, 7.5)) <= 1 for c in yellow)
    assert {min(range(2), key=lambda i: abs(c - on_screen((2.0, 7.5)[i]))) for c in yellow} == {0, 1}
    assert all(abs(c - on_screen(5.0)) <= 1 for c in blue)
    # A marker's text is written right of its line, in its colour, in the top text row.
    panel.add_marker(9.0, "clap", GREEN)
    qtbot.waitUntil(lambda: len(layer.text_rects()) == 1, timeout=5_000)
    _m, box = layer.text_rects()[0]
    text_y = panel.graphics.mapFromScene(layer.mapToScene(box.center())).y()
    line_x = on_screen(9.0)
    green = columns_with(panel.graphics.grab().toImage(), text_y, GREEN)
    assert any(c > line_x + 2 for c in green), green  # glyph pixels, not just the line
    assert all(line_x - 1 <= c <= line_x + 3 + box.width() for c in green)
    # Pruned markers are gone from the screen too.
    layer.prune(3.0)
    qtbot.waitUntil(lambda: not any(abs(c - on_screen(2.0)) <= 1 for c in columns_with(panel.graphics.grab().toImage(), y, YELLOW)),
                    timeout=5_000)


def test_the_camera_preview_shows_the_frames_colours(qtbot):
    ring = ChunkRing(seconds=1.0, max_samples=4)
    info = StreamInfo("camera", StreamKind.VIDEO, 30.0, channel_names=("b", "g", "r"), dtype="uint8", sample_shape=(48, 64, 3))
    panel = ImagePanel(info, ring, 0.0, window=10.0)
    qtbot.addWidget(panel)
    frame = np.zeros((1, 48, 64, 3), dtype=np.uint8)
    frame[..., :] = (10, 100, 200)  # BGR, as cameras deliver it
    frame[0, :24, :32] = (250, 0, 0)  # a blue top-left quarter
    ring.append(Chunk(frame, np.array([1.0])))
    assert panel.refresh()
    q = panel.image.qimage
    assert q.pixelColor(40, 40) == QColor(200, 100, 10)
    assert q.pixelColor(5, 5) == QColor(0, 0, 250)
    # on screen too, and a wide frame at half resolution, every other pixel of the newest frame
    panel.resize(400, 300)
    panel.show()
    qtbot.waitUntil(lambda: QColor(0, 0, 250).rgb() in set(panel.graphics.grab().toImage().convertToFormat(QImage.Format.Format_RGB32).pixel(x, y)
                                                              for x in range(0, 400, 7) for y in range(0, 280, 7)), timeout=5_000)
    big = np.random.default_rng(1).integers(0, 256, size=(1, 480, 640, 3), dtype=np.uint8)
    ring.append(Chunk(big, np.array([2.0])))
    assert panel.refresh()
    q = panel.image.qimage
    assert (q.width(), q.height()) == (320, 240)
    for x, y in [(0, 0), (319, 239), (123, 45)]:
        b, g, r = big[0, 2 * y, 2 * x]
        assert q.pixelColor(x, y) == QColor(int(r), int(g), int(b))


def test_the_radar_map_shows_its_values_through_the_colour_bars_map(qtbot):
    """A map's bins are drawn in the colour map's colour for their value between the levels
    (the panel colours them itself now): the lowest value at the map's first colour, the
    highest at its last, a value halfway at the colour the bar shows halfway up."""
    import pyqtgraph as pg

    ring = ChunkRing(seconds=1.0, max_samples=4)
    info = StreamInfo("radar", StreamKind.FRAMES, 20.0, units=("a.u.",), sample_shape=(4, 8))
    panel = ImagePanel(info, ring, 0.0, window=10.0)
    qtbot.addWidget(panel)
    frame = np.full((1, 4, 8), 5.0, dtype=np.float32)
    frame[0, 0, 0], frame[0, 3, 7] = 1.0, 9.0  # the first image sets the levels to (1, 9)
    ring.append(Chunk(frame, np.array([1.0])))
    assert panel.refresh()
    assert panel._levels == (1.0, 9.0)
    q = panel.image.qimage
    lut = pg.colormap.get("viridis").getLookupTable(nPts=256, mode="byte", alpha=False)
    assert q.pixelColor(0, 0) == QColor(*map(int, lut[0]))  # column 0, row 0 (drawn at the bottom)
    assert q.pixelColor(7, 3) == QColor(*map(int, lut[255]))
    assert q.pixelColor(4, 1) == QColor(*map(int, lut[128]))  # 5.0 is halfway: (5 - 1) * 256 / 8
    # And the same pixels as pyqtgraph's own colouring of the values at those levels.
    ref = pg.ImageItem(axisOrder="row-major")
    ref.setColorMap(pg.colormap.get("viridis"))
    ref.setImage(frame[0], autoLevels=False, levels=panel._levels)
    ref.render()
    assert all(q.pixelColor(x, y) == ref.qimage.pixelColor(x, y) for x in range(8) for y in range(4))


RED = "#ef5350"


def test_board_events_stay_on_their_panel_and_live_labels_cross_every_plot(qtbot):
    """A board printing its class (or a model's class changes) is drawn on its own events panel
    only: copied onto every plot it buried the signals in lines. A live label (hotkey) is the
    user's own mark of a moment: it is drawn across every time plot."""
    import threading

    from sensorlab.acquisition.emulated.signal import SignalSource
    from sensorlab.acquisition.hub import Acquisition
    from sensorlab.app.live.view import LiveView

    t0 = 50.0
    gate = threading.Event()  # the sources hold their samples until the view's rings exist

    def said(ts):  # a class change every 0.5 s
        gate.wait(60)
        return np.where((np.asarray(ts) * 2).astype(int) % 2 == 0, "clap", "background").astype(object)

    board = SignalSource("board", kind=StreamKind.EVENTS, rate=2, pattern=said, realtime=False, max_samples=8, chunk_size=1, t0=t0)
    imu = SignalSource("imu", rate=100, realtime=False, max_samples=400, chunk_size=10, t0=t0,
                       pattern=lambda ts: (gate.wait(60), np.zeros((len(ts), 1)))[1])
    acq = Acquisition([board, imu])
    acq.open()
    acq.start()
    try:
        view = shown(qtbot, LiveView(acq, window=10.0), 900, 500)
        events, series = view.panels["board"], view.panels["imu"]
        gate.set()
        qtbot.waitUntil(lambda: events.count == 8 and series.newest >= t0 + 3.98, timeout=20_000)
        view.set_paused(True)  # nothing moves while the pixels are read

        def columns(panel, colour: str) -> list[int]:
            # Near the plot's bottom: below the marker texts and away from the flat curve.
            vb = panel.plot.getViewBox()
            r = vb.boundingRect()
            y = panel.graphics.mapFromScene(vb.mapToScene(QPointF(r.center().x(), r.bottom() - 3))).y()
            return columns_with(panel.graphics.grab().toImage(), y, colour)

        qtbot.waitUntil(lambda: len(columns(events, YELLOW)) >= 8, timeout=5_000)
        assert columns(series, YELLOW) == []  # no board lines across the signal
        view.add_marker(t0 + 2.25, "A", RED)
        qtbot.waitUntil(lambda: bool(columns(series, RED) and columns(events, RED)), timeout=5_000)
        assert len(columns(series, RED)) <= 2  # one line, where the label is
        view.shutdown()
    finally:
        acq.close()


def test_scrolling_moves_the_markers_without_laying_them_out_again(qtbot, monkeypatch):
    """Scrolling moves every marker by the same number of pixels: their lines and texts are
    laid out once and shifted (laid out in every frame, ~50 markers cost ~0.5 ms a plot). They
    are still drawn where their times are after each scroll, texts included."""
    from sensorlab.app.live.marker_layer import MarkerLayer

    panel = shown_events_panel(qtbot)
    for x, text in ((3.0, ""), (5.0, "clap"), (7.0, "")):
        panel.add_marker(x, text, YELLOW if text == "" else GREEN)
    layer = panel._marker_layer
    qtbot.waitUntil(lambda: layer.boundingRect().width() > 300, timeout=5_000)
    panel.graphics.grab()  # laid out here, once
    layouts = []
    original = MarkerLayer.text_rects
    monkeypatch.setattr(MarkerLayer, "text_rects", lambda self, *a: layouts.append(1) or original(self, *a))
    y = panel.graphics.mapFromScene(layer.mapToScene(layer.boundingRect().center())).y()

    def on_screen(x: float) -> int:
        return panel.graphics.mapFromScene(layer.mapToScene(QPointF(float(layer.x_to_px(x)), 0.0))).x()

    for shift in (0.25, 0.5, 1.0, 1.5):
        panel.plot.setXRange(shift, 10.0 + shift, padding=0)
        image = panel.graphics.grab().toImage()
        yellow = columns_with(image, y, YELLOW)
        assert {min((3.0, 7.0), key=lambda x: abs(c - on_screen(x))) for c in yellow} == {3.0, 7.0}
        assert all(min(abs(c - on_screen(x)) for x in (3.0, 7.0)) <= 1 for c in yellow), (shift, yellow)
        (_m, box), = original(layer)
        text_y = panel.graphics.mapFromScene(layer.mapToScene(box.center())).y()
        green = columns_with(image, text_y, GREEN)
        assert any(c > on_screen(5.0) + 2 for c in green) and all(on_screen(5.0) - 1 <= c <= on_screen(5.0) + 3 + box.width() for c in green)
    assert layouts == []


def test_a_marker_text_stays_whole_and_readable_as_its_line_scrolls_off_the_left(qtbot):
    """Found using the studio: as a live label's line left the plot, its text went on being
    drawn where it was, right of the line, and the plot's edge cut it to a stub ("ech" of
    "speech"). Now it stays whole at the left edge until the next text of its row needs the
    room; checked on the rendered pixels."""
    panel = shown_events_panel(qtbot)
    panel.add_marker(1.0, "speech", GREEN)
    layer = panel._marker_layer
    qtbot.waitUntil(lambda: layer.boundingRect().width() > 300, timeout=5_000)
    width = layer._width("speech")
    px_per_s = layer.boundingRect().width() / 10.0
    r = layer.boundingRect()
    text_y = panel.graphics.mapFromScene(layer.mapToScene(QPointF(r.left(), r.top() + 1 + layer._metrics.height() / 2))).y()
    edge = panel.graphics.mapFromScene(layer.mapToScene(r.topLeft())).x()
    # Its line a third of the text's width left of the plot, then two thirds.
    for off in (width / 3, 2 * width / 3):
        start = 1.0 + off / px_per_s
        panel.plot.setXRange(start, start + 10.0, padding=0)
        green = columns_with(panel.graphics.grab().toImage(), text_y, GREEN)
        assert green and min(green) >= edge, (off, green)
        assert max(green) - min(green) >= 0.75 * width, (off, green, width)  # the whole word, not a stub
        (text, box), = layer.drawn_texts
        assert text == "speech" and r.left() <= box.left() and box.right() <= r.right()
    # A later text in the same row takes the room: the pinned one is left out, not cut.
    panel.add_marker(1.0 + (width + 20) / px_per_s, "clap", BLUE)
    qtbot.waitUntil(lambda: not panel.graphics.grab().isNull() and [t for t, _b in layer.drawn_texts] == ["clap"], timeout=5_000)
    assert columns_with(panel.graphics.grab().toImage(), text_y, GREEN) == []
