"""Scrolling the live view's time plots to a new x range every frame, lined up and cheaply.

While the view follows the newest data every time plot moves each frame. Through pyqtgraph's
x links each of the ~8 plots re-derived its range in a chain of signals (~1 ms a frame), and
pyqtgraph's `setRange` checks limits, aspect and auto range and emits four signals with ~50
Python slots per frame across the plots (~0.9 ms a frame more, docs/PERFORMANCE.md). So the
view gives each plot its range itself, links blocked meanwhile (`show_range`), through
`scroll_x`; where each plot's pixel columns lie against the master's is worked out once per
layout (`line_up`), not from every plot's screen geometry in every frame.
"""

from __future__ import annotations

from PySide6.QtGui import QTransform


def line_up(master, boxes: list) -> tuple[list[tuple], bool]:
    """Every ViewBox in ``boxes`` with where its pixel columns start and their count, both in
    the ``master`` ViewBox's widths (None: the master itself, or a plot not lined up with it),
    and whether that holds until a plot is resized (False while the master has no width yet).

    Plots that overlap the master by a third are lined up (pyqtgraph's rule)."""
    mg = master.screenGeometry()
    out = []
    for vb in boxes:
        sg = vb.screenGeometry() if mg is not None and mg.width() > 0 and vb is not master else None
        if sg is not None and min(sg.right(), mg.right()) - max(sg.left(), mg.left()) >= min(mg.width(), sg.width()) / 3:
            out.append((vb, (sg.x() - mg.x()) / mg.width(), sg.width() / mg.width()))
        else:
            out.append((vb, None, None))
    return out, mg is not None and mg.width() > 0


def show_range(aligned: list[tuple], x0: float, x1: float) -> None:
    """Show ``x0 … x1`` on the master plot, and on every other plot of ``aligned`` (`line_up`)
    the range that lines its pixel columns up with the master's (as pyqtgraph's x link does: a
    plot with no y axis, like the events panel, is wider and shows a little more to the left)."""
    span = x1 - x0
    for vb, _offset, _width in aligned:
        vb.blockLink(True)
    try:
        for vb, offset, width in aligned:
            if offset is None:
                scroll_x(vb, x0, x1)
            else:
                lo = x0 + offset * span
                scroll_x(vb, lo, lo + width * span)
    finally:
        for vb, _offset, _width in aligned:
            vb.blockLink(False)
    # Apply the new range now rather than in pyqtgraph's prepare-for-paint: there, the
    # axes it invalidates would schedule a second paint of every plot. (`scroll_x` has
    # done it already; this is for a plot that went through `setXRange`.)
    for vb, _offset, _width in aligned:
        vb.updateMatrix()


def scroll_x(vb, lo: float, hi: float) -> None:
    """``vb.setXRange(lo, hi, padding=0)`` for a plot that only scrolls: pyqtgraph's
    `setRange` checks limits, aspect and auto range, then emits four signals with ~50 Python
    slots per frame across the time plots; here only the range, the transform and the
    signals the axes and overlays follow. Falls back to `setXRange` while x is auto-ranged.

    The transform is pyqtgraph's `updateMatrix` (the view range's centre at the box's
    centre, scaled to its size, y up) as one `QTransform`, without its per-call objects."""
    st = vb.state
    limits = st["limits"]
    if st["autoRange"][0] is not False or st["aspectLocked"] or limits["xLimits"] != [-1e307, 1e307] or limits["xRange"] != [None, None]:
        vb.setXRange(lo, hi, padding=0)
        return
    if st["viewRange"][0] == [lo, hi]:
        return
    st["targetRange"][0] = [lo, hi]
    st["viewRange"][0] = [lo, hi]
    r = vb.rect()
    y0, y1 = st["viewRange"][1]
    if hi == lo or y1 == y0:
        vb._matrixNeedsUpdate = True
        vb.updateMatrix()  # pyqtgraph's own handling of an empty range
    else:
        sx, sy = r.width() / (hi - lo), r.height() / (y1 - y0)
        if not st["yInverted"]:
            sy = -sy
        if st["xInverted"]:
            sx = -sx
        c = r.center()
        vb.childGroup.setTransform(QTransform(sx, 0.0, 0.0, sy, c.x() - sx * 0.5 * (lo + hi), c.y() - sy * 0.5 * (y0 + y1)))
        vb._matrixNeedsUpdate = False
        vb.sigTransformChanged.emit(vb)
    vb.sigXRangeChanged.emit(vb, (lo, hi))
    vb.sigRangeChanged.emit(vb, st["viewRange"], [True, False])


__all__ = ["line_up", "scroll_x", "show_range"]
