"""Plot items of the live view whose bounds cost little Python work in each frame.

Qt asks every item it paints for its ``boundingRect`` two to four times a frame (to find
what is exposed, to build the style option, to cache it); for a pyqtgraph item that is a call
into Python each time, and pyqtgraph works the rectangle out anew: with the traces, the demo
rig's plots made ~245 such calls a frame, 4.2 of 30 ms of the GUI thread profiled
(docs/performance/live-view.md, "Live view, twelfth round"). The items here keep their bounds until
what they depend on changes, and `hollow` tells Qt that an item which only groups others
draws nothing, so it skips their bounds altogether (the traces: `traces.TraceGroup`).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView


def hollow(item: QGraphicsItem) -> None:
    """Mark ``item`` as drawing nothing itself (its children still draw): Qt then neither asks
    it for its bounds nor prepares a paint for it. Only for items whose ``paint`` draws
    nothing and that take no mouse events of their own (a `PlotItem` with its buttons hidden,
    a layout)."""
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)


def lean_view(view: pg.GraphicsView) -> None:
    """Paint ``view`` (a `QGraphicsView` of the live view) without Qt's work that draws nothing.

    - Its viewport is opaque: the view's background brush (solid) covers every pixel it
      paints, so the viewport's own background fill under it, once per paint, is left out.
    - The background is filled, not blitted from a cached pixmap of the whole viewport
      (pyqtgraph's ``CacheBackground``): a solid fill of the exposed rectangles writes the same
      pixels without reading a viewport-sized pixmap each frame.
    - The scene keeps no spatial index: every scrolling frame moves the plots' child groups,
      and Qt's BSP index then takes each of their items out of the tree and puts them back;
      painting walks the items anyway, and nothing asks the scene for items at a point
      except a mouse event (a few dozen items to look through).
    The viewport is made opaque only when the view's background brush is (the live view's
    theme colour): a see-through one would leave the last frame's pixels under this one."""
    view.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, view.backgroundBrush().isOpaque())
    view.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
    view.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)


def follow_shown_x_axes(plot: pg.PlotItem) -> None:
    """Link ``plot``'s shown x axes (bottom, top) to its view and unlink its hidden ones.

    Every x axis of a plot follows its view's range: a Python slot, a range and an update on
    every frame of a scrolling plot, ~14 a frame in the live view for axes never drawn (only
    the lowest plot shows its bottom axis, none its top). An axis linked again (shown under
    another plot) takes the view's range at once. Call after showing or hiding an x axis."""
    view = plot.getViewBox()
    for side in ("bottom", "top"):
        axis = plot.getAxis(side)
        if not axis.isVisibleTo(plot):
            if axis.linkedView() is not None:
                axis.unlinkFromView()
        elif axis.linkedView() is None:
            axis.linkToView(view)
            axis.linkedViewChanged(view)


class LiveViewBox(pg.ViewBox):
    """A `ViewBox` whose bounds and shape are kept from one resize to the next.

    pyqtgraph's are its geometry mapped into its own coordinates, widened by half a pixel,
    worked out through two Python levels on every call (~46 calls a frame in the live view);
    they change only when the box is resized (the plots of the view are not transformed). Its
    ``paint`` draws the border only when there is one (pyqtgraph strokes the shape with an
    invisible pen otherwise)."""

    def __init__(self, *args, **kwargs):
        self._bounds = QRectF()
        self._shape: QPainterPath | None = None
        super().__init__(*args, **kwargs)
        self._border_shown = self.border is not None and self.border.style() != Qt.PenStyle.NoPen

    def resizeEvent(self, ev) -> None:
        self._keep_bounds()
        super().resizeEvent(ev)

    def setGeometry(self, *args) -> None:
        super().setGeometry(*args)
        self._keep_bounds()

    def _keep_bounds(self) -> None:
        bounds = self.rect().adjusted(0, 0, 0.5, 0.5)
        if bounds != self._bounds:
            self.prepareGeometryChange()
            self._bounds = bounds
            self._shape = None

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            self._shape = QPainterPath()
            self._shape.addRect(self._bounds)
        return self._shape

    def setBorder(self, *args, **kwargs) -> None:
        super().setBorder(*args, **kwargs)
        self._border_shown = self.border is not None and self.border.style() != Qt.PenStyle.NoPen

    _border_shown = False

    def paint(self, p, *args) -> None:
        if self._border_shown:
            super().paint(p, *args)


class BoundsKeptAxis(pg.AxisItem):
    """An `AxisItem` whose bounds are worked out again only when its geometry or its plot's
    changes.

    With a grid, an axis draws its grid lines across the plot it belongs to, so its bounds are
    its own geometry united with that plot's; pyqtgraph works them out on every call (~23
    calls a frame, the costliest bounds of the view). Both lie in the same layout, so the
    bounds follow from the two geometries (and the grid and style): compared, not recomputed."""

    def __init__(self, *args, **kwargs):
        self._bounds_key: tuple | None = None
        self._bounds = QRectF()
        super().__init__(*args, **kwargs)

    def boundingRect(self) -> QRectF:
        view = self._linkedView() if self._linkedView is not None else None
        style = self.style
        key = (self.geometry(), view.geometry() if view is not None else None, view, self.grid,
               style["tickLength"], style["hideOverlappingLabels"])
        if key != self._bounds_key:
            self._bounds_key = key
            self._bounds = super().boundingRect()
        return self._bounds
