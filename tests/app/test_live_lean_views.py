"""The live view's time panels paint without Qt's work that draws nothing (issue 14 §4,
`plot_items.lean_view`: opaque viewports, the background filled rather than blitted from a
cache, no spatial index in their scenes), and what the user sees does not change.

Frames are driven by hand on the real small rig; "on screen" is the window's backing store as
Qt's repaint manager left it after painting only what each frame marked dirty, compared with a
fresh full paint of the same widgets (``grab()``)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QGraphicsScene, QGraphicsView

from tests.app.conftest import scroll_live_view


def _pyqtgraphs_defaults(g) -> None:
    g.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
    g.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
    g.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)


def test_time_panels_paint_what_pyqtgraphs_defaults_paint(qtbot, live_view):
    from sensorlab.app.live.plot_items import lean_view

    live_view.set_paused(True)  # the same frame for both renders
    for panel in live_view.time_panels:
        g = panel.graphics
        assert g.viewport().testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent), panel.info.name
        assert g.scene().itemIndexMethod() is QGraphicsScene.ItemIndexMethod.NoIndex, panel.info.name
        assert g.backgroundBrush().isOpaque(), panel.info.name  # what makes the opaque viewport safe
        lean = g.grab().toImage()
        _pyqtgraphs_defaults(g)
        default = g.grab().toImage()
        lean_view(g)
        assert lean == default, panel.info.name


def _on_screen(widget):
    """What the window shows of ``widget``: its rectangle of the window's backing store."""
    top = widget.window()
    at = widget.mapTo(top, QPoint(0, 0))
    shot = top.screen().grabWindow(top.winId()).toImage()
    return shot.copy(at.x(), at.y(), widget.width(), widget.height())


def _paint_pending() -> None:
    """Let Qt's repaint manager paint what the last refresh marked dirty into the backing store."""
    for _ in range(3):
        QApplication.processEvents()


@pytest.mark.parametrize("with_marker", [False, True])
def test_scrolled_frames_on_screen_equal_a_fresh_full_paint(qtbot, live_view, with_marker):
    """Each frame repaints only the exposed part of each opaque view over what the last frame
    left there; a part left unpainted (a background not filled under an item that moved) would
    keep the old pixels on screen and differ from a full paint."""
    _paint_pending()
    if with_marker:
        live_view.add_marker(max(p.newest for p in live_view.time_panels) - 0.5, "clap")
    for _ in range(8):
        newest = max(p.newest for p in live_view.time_panels)
        qtbot.waitUntil(lambda: any(r.snapshot() is not None and r.snapshot().timestamps[-1] > newest
                                    for r in live_view._rings.values()), timeout=10_000)
        live_view.refresh()
        _paint_pending()
    live_view.set_paused(True)
    # The events panel too: where a marker's text ran over the next marker's line (two
    # markers ~0.5 s apart, as the fake rig's events fall), the window's repaint and a fresh
    # paint drew one glyph of the text differently (a 7 x 7 px difference, about one run in
    # four) until the marker layer drew its texts on whole device pixels.
    assert "markers" in [p.info.name for p in live_view.time_panels]
    for panel in live_view.time_panels:
        g = panel.graphics

        def shown_as_painted(g=g) -> bool:
            # A repaint Qt still has queued on a busy machine (three passes of the event loop
            # are not always enough) lands on the next pass; stale pixels never go away.
            _paint_pending()
            return _on_screen(g).convertToFormat(g.grab().toImage().format()) == g.grab().toImage()

        qtbot.waitUntil(shown_as_painted, timeout=5_000)


def test_frames_scroll_with_the_lean_views(qtbot, live_view):
    """The views still follow the data (the scene without an index still paints every item)."""
    ranges = scroll_live_view(qtbot, live_view, 3)
    assert ranges[-1][0] > ranges[0][0]
