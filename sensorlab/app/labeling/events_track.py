"""`EventsTrack`: an events stream (markers, recorded predictions) on the labeling timeline.

Ticks at the events, painted by one `EventTicks` overlay (at most one per pixel column), and
the events' texts when few are in view. See `tracks.py` for the track interface.
"""

from __future__ import annotations

import json

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter

from sensorlab.app.labeling.tracks import AXIS_WIDTH, Track
from sensorlab.app.live.traces import ViewOverlay
from sensorlab.session.reader import StreamReader


class EventsTrack(Track):
    """An events stream (markers, recorded predictions) as ticks, with text when few are visible.

    The ticks are painted by one `EventTicks` overlay, at most one per pixel column: a
    scatter item with a spot per event took seconds to build for a 10-hour session's
    predictions (one every 2 s) and painted every one of them each frame.
    """

    stretch = -34
    MAX_TEXTS = 40

    def __init__(self, stream: StreamReader, origin: float, colors=None):
        super().__init__(stream.name, origin)
        chunk = stream.read()
        # Sorted by time (events may be recorded out of order): ranges are then searched.
        order = np.argsort(np.asarray(chunk.timestamps, dtype=np.float64), kind="stable")
        self.times = np.asarray(chunk.timestamps, dtype=np.float64)[order]
        colors = colors or (lambda label: "#ffd54f")
        # Recorded predictions repeat a few texts (label and score): each distinct one is parsed
        # and coloured once. Parsing all 18,000 of a 10-hour session took a fifth of opening it.
        seen: dict = {}
        self.texts, tick_colors = [], []
        for i in order:
            raw = chunk.data[i]
            if raw not in seen:
                text = self._text(raw)
                seen[raw] = (text, colors(text))
            text, color = seen[raw]
            self.texts.append(text)
            tick_colors.append(color)
        self.ticks = EventTicks(self.viewbox, self.times - origin, tick_colors)
        self.plot.setYRange(0, 1, padding=0)
        self._name_axis(stream.name)
        self._labels: list[pg.TextItem] = []
        self._shown = 0  # labels visible (the first ones of `_labels`)

    def _name_axis(self, name: str) -> None:
        """Name the lane with its axis' one tick text, elided to the axis' width.

        The lane is too short for the rotated label the other tracks carry, and the axis hides a
        tick text wider than itself (``hideOverlappingLabels``), so "clap_pred_events" showed no
        name at all. The full name is in the axis' tooltip.
        """
        axis = self.plot.getAxis("left")
        font = QFont()
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.0))
        axis.setStyle(tickFont=font)
        axis.setTicks([[(0.5, fit_name(name, QFontMetricsF(font), AXIS_WIDTH - 10))]])
        axis.setToolTip(name)

    @staticmethod
    def _text(x) -> str:
        s = x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x)
        try:
            d = json.loads(s)
        except (json.JSONDecodeError, TypeError):
            return s
        if isinstance(d, dict) and "label" in d:
            score = d.get("score")
            return f"{d['label']} {score:.2f}" if isinstance(score, (int, float)) else str(d["label"])
        return s

    def update_range(self, t0: float, t1: float, pixels: int) -> None:
        i0, i1 = int(np.searchsorted(self.times, t0, "left")), int(np.searchsorted(self.times, t1, "right"))
        show = range(i0, i1) if i1 - i0 <= min(self.MAX_TEXTS, pixels // 90) else range(0)
        while len(self._labels) < len(show):
            item = pg.TextItem(color=QColor("#d0d3d8"), anchor=(0, 0.5))
            self.plot.addItem(item)
            self._labels.append(item)
        for item, i in zip(self._labels, show):
            item.setText(self.texts[i])
            item.setPos(self.times[i] - self.origin, 0.68)
            item.setVisible(True)
        # Only the ones shown last frame: hiding a hidden `TextItem` still recomputed its
        # transform (pyqtgraph's `setVisible`), for every label on every scroll frame.
        for item in self._labels[len(show):self._shown]:
            item.setVisible(False)
        self._shown = len(show)


def fit_name(name: str, metrics: QFontMetricsF, width: float) -> str:
    """``name`` in at most two lines of ``width`` pixels: broken after an underscore where one
    fits ("clap_pred_" / "events"), else elided in the middle."""
    if metrics.horizontalAdvance(name) <= width:
        return name
    cuts = [i + 1 for i, c in enumerate(name) if c in "_-. " and metrics.horizontalAdvance(name[: i + 1]) <= width]
    if cuts:
        first, rest = name[: cuts[-1]], name[cuts[-1]:]
        return first + "\n" + metrics.elidedText(rest, Qt.TextElideMode.ElideMiddle, width)
    return metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, width)


class EventTicks(ViewOverlay):
    """Square ticks at sorted data x positions, one colour each, at most one per pixel column.

    Painted as one image row (one colour per pixel column) stretched to the ticks' height: a
    ``fillRect`` per tick from Python cost ~1 ms a frame with a 10-hour session's predictions
    zoomed out (one tick in every pixel column).
    """

    SIZE = 7
    #: Height of the ticks' centre, fraction of the plot from the bottom.
    HEIGHT = 0.3

    def __init__(self, viewbox: pg.ViewBox, x: np.ndarray, colors: list[str]):
        super().__init__(viewbox, z=10.0)
        self.x = np.asarray(x, dtype=np.float64)
        names = sorted(set(colors))
        self._argb = np.array([0xFF000000 | (QColor(c).rgb() & 0xFFFFFF) for c in names], np.uint32)
        index = {c: i for i, c in enumerate(names)}
        self.color_index = np.array([index[c] for c in colors], dtype=np.int32)
        self.drawn = 0  # ticks painted last time (tests, benchmarks)
        self._row = None  # the pixels the image reads (alive as long as it)

    def paint(self, p: QPainter, *_args) -> None:
        (x0, x1), _ = self.viewbox.viewRange()
        i0, i1 = np.searchsorted(self.x, [x0, x1])
        i0 = max(0, int(i0) - 1)
        i1 = int(i1) + 1
        r = self._rect
        width = round(r.width())
        if i1 <= i0 or not len(self.x) or width <= 0:
            self.drawn = 0
            return
        px = np.asarray(self.x_to_px(self.x[i0:i1])) - r.left()
        col = np.floor(px).astype(np.int64)
        # One tick per pixel column (the first event in it): more cannot be told apart.
        keep = np.flatnonzero(np.diff(col, prepend=col[0] - 1) != 0)
        self.drawn = len(keep)
        s = self.SIZE
        # Each tick covers SIZE columns centred on its event; a later tick is drawn over an
        # earlier one where they overlap (assignment order), as painting them one by one did.
        cols = (np.floor(px[keep] - s / 2).astype(np.int64)[:, None] + np.arange(s)).ravel()
        colour = np.repeat(self._argb[self.color_index[i0 + keep]], s)
        on = (cols >= 0) & (cols < width)
        row = np.zeros(width, np.uint32)
        row[cols[on]] = colour[on]
        self._row = row
        image = QImage(row.data, width, 1, width * 4, QImage.Format.Format_ARGB32)
        y = r.bottom() - self.HEIGHT * r.height() - s / 2
        p.drawImage(QRectF(r.left(), round(y), width, s), image)


__all__ = ["EventTicks", "EventsTrack"]
