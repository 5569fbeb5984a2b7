"""Which texts an annotation lane's items show: none printed over another.

The interactive items of a lane (`SegmentItem`, `PointItem` in ``annotation_view.py``) each
carry a text. Spans that began left of the view all pin their text to its edge, and a short
span's or a point's text is wider than its segment: at the start of a session a model's
suggestions printed "? clap" over "? background". The strip that draws dense lanes
(``segment_strip.py``) keeps only texts that clear the one before; the items follow the same
rule here. The selected segment's text always shows; the others in time order, each only
where it clears the ones kept (a span's text moves right, inside its span, to clear the one
before when it fits there); zooming in brings them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF

from sensorlab.app.labeling.lanes import lane_key

if TYPE_CHECKING:  # annotation_view imports this module
    from sensorlab.app.labeling.annotation_view import AnnotationView

#: Pixels kept free between two texts of a lane.
TEXT_GAP_PX = 4


def layout_lane_texts(view: AnnotationView) -> None:
    """Show or hide the text of each of ``view``'s items (one pass per lane, in time order)."""
    from sensorlab.app.labeling.annotation_view import SegmentItem

    per_lane: dict = {}  # lane key → its texts
    scale: dict = {}  # per lane: scene x = a + b * view x
    for sid, item in view.items.items():
        seg = view.annotations.get(sid)
        key = lane_key(seg) if seg is not None else None
        lane = view.lanes.get(key)
        if lane is None:
            continue
        if key not in scale:
            x0 = lane.viewbox.mapViewToScene(QPointF(0.0, 0.5)).x()
            scale[key] = (x0, lane.viewbox.mapViewToScene(QPointF(1.0, 0.5)).x() - x0)
        a, b = scale[key]
        if isinstance(item, SegmentItem):
            item._place_text()  # at its start (or the view's edge): a text moved on before may fit there again
            text, x, end = item.text, item.text.pos().x(), a + b * item.getRegion()[1]
        else:
            text, x, end = item.label, item.value(), None  # a point's text cannot move off its line
        per_lane.setdefault(key, []).append((sid == view.selected, a + b * x, text.textItem.boundingRect().width(), text, end, (a, b)))
    for entries in per_lane.values():
        entries.sort(key=lambda e: e[1])
        chosen = next(((e[1], e[1] + e[2]) for e in entries if e[0]), None)

        def clears(left: float, right: float) -> bool:
            return left >= last_right + TEXT_GAP_PX and (
                chosen is None or left >= chosen[1] + TEXT_GAP_PX or right + TEXT_GAP_PX <= chosen[0])

        last_right = -np.inf
        for selected, left, width, text, end, (a, b) in entries:
            clear = clears(left, left + width)
            if not clear and not selected and end is not None and np.isfinite(last_right) and last_right + TEXT_GAP_PX + width <= end:
                # A span that starts under the text before it (a model's overlapping windows:
                # "? speech" began under "? gesture") shows its text after that one, inside its
                # own span, rather than not at all.
                moved = last_right + TEXT_GAP_PX
                if clears(moved, moved + width):
                    text.setPos((moved - a) / b, 0.5)
                    left, clear = moved, True
            text.setVisible(selected or clear)
            if clear and not selected:
                last_right = left + width


__all__ = ["TEXT_GAP_PX", "layout_lane_texts"]
