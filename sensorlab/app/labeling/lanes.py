"""Which lane of the labeling timeline draws a segment: one per tier, one per suggestion source.

Unreviewed suggestions get a lane of their own for each source (a model, a method on a
stream), named after it, below the tiers. When two models' suggestions shared the tier's
lane, overlapping spans were drawn one over the other with the same hatching, the text of
the one underneath showed through, and a click on that text selected the other model's
suggestion (the one stacked on top): A or R then reviewed a suggestion the user had not
pointed at. In lanes of their own nothing of one source covers another's, so what a click
lands on is what is drawn there. An accepted suggestion is a label and moves to its tier's lane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF

from sensorlab.app.labeling.events_track import fit_name
from sensorlab.app.labeling.segment_strip import SegmentStrip
from sensorlab.app.labeling.tracks import AXIS_WIDTH, TimeViewBox
from sensorlab.app.live.plot_items import BoundsKeptAxis
from sensorlab.labeling.annotations import Segment

if TYPE_CHECKING:  # the view imports this module
    from sensorlab.app.labeling.annotation_view import AnnotationView

LANE_HEIGHT = 30

#: A lane's key: the tier's name, or ``(tier, source)`` for the unreviewed suggestions of a source.
LaneKey = str | tuple[str, str]


def lane_key(seg: Segment) -> LaneKey:
    """The lane ``seg`` is drawn in."""
    return (seg.tier, seg.source) if seg.suggested else seg.tier


def source_name(source: str) -> str:
    """A suggestion source as a person names it: ``model:clap.onnx`` → ``clap.onnx``,
    ``suggest:energy:mic`` → ``energy on mic``."""
    if source.startswith("model:"):
        return source.removeprefix("model:")
    if source.startswith("suggest:"):
        method, _, stream = source.removeprefix("suggest:").partition(":")
        return f"{method} on {stream}" if stream else method
    return source or "suggestions"


def lane_title(key: LaneKey) -> tuple[str, str]:
    """The name a lane's axis shows and its tooltip (the whole name)."""
    if isinstance(key, str):
        return key, f"tier {key!r}"
    tier, source = key
    return f"? {source_name(source)}", (f"suggestions of {source_name(source)} ({source or 'no source'}) on tier {tier!r}: "
                                        "click one to select it, A accept · R reject")  # fmt: skip


class LaneViewBox(TimeViewBox):
    """A lane's ViewBox: left-drag on empty space draws a new segment (others pan/zoom)."""

    def __init__(self, lane: Lane):
        super().__init__()
        self.lane = lane

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802 - pyqtgraph override
        if ev.button() != Qt.MouseButton.LeftButton or self.lane.source is not None:  # a suggestions lane: pans
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        x0 = self.mapSceneToView(ev.buttonDownScenePos()).x()
        x1 = self.mapSceneToView(ev.scenePos()).x()
        self.lane.preview(x0, x1, finish=ev.isFinish())


class Lane:
    """One tier, or one source's unreviewed suggestions (`lane_key`): a thin plot whose
    left axis names it."""

    def __init__(self, view: AnnotationView, key: LaneKey):
        self.view = view
        self.key = key
        self.tier, self.source = (key, None) if isinstance(key, str) else key
        self.viewbox = LaneViewBox(self)
        self.plot = pg.PlotItem(viewBox=self.viewbox, axisItems={"left": BoundsKeptAxis("left")})  # (see tracks.Track)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setYRange(0, 1, padding=0)
        axis = self.plot.getAxis("left")
        axis.setWidth(AXIS_WIDTH)
        name, tip = lane_title(key)
        if self.source is None:
            axis.setTicks([[(0.5, name)]])
        else:  # a model's file name is wider than the axis: smaller, in two lines, as events lanes
            font = QFont()
            font.setPointSizeF(max(7.0, font.pointSizeF() - 1.0))
            axis.setStyle(tickFont=font)
            axis.setTicks([[(0.5, fit_name(name, QFontMetricsF(font), AXIS_WIDTH - 10))]])
        axis.setToolTip(tip)
        axis.setStyle(tickLength=0)
        self.plot.showAxis("bottom", False)
        self._preview = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(255, 255, 255, 40),
                                            pen=pg.mkPen("#ffffff", width=1, style=Qt.PenStyle.DashLine))
        self._preview.setVisible(False)
        self.plot.addItem(self._preview, ignoreBounds=True)
        self.strip = SegmentStrip(self)
        self.dense = False  # too many segments in view for items: the strip draws them all

    def preview(self, x0: float, x1: float, finish: bool) -> None:
        self._preview.setRegion(sorted((x0, x1)))
        self._preview.setVisible(not finish)
        if finish:
            self.view.create_from_drag(self.tier, x0, x1)

    def holds(self, seg: Segment) -> bool:
        return lane_key(seg) == self.key


__all__ = ["LANE_HEIGHT", "Lane", "LaneKey", "LaneViewBox", "lane_key", "lane_title", "source_name"]
