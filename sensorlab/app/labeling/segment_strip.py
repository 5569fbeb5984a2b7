"""`SegmentStrip`: the segments of one annotation lane that have no interactive item, painted
as one image per frame.

While the timeline scrolls or zooms, and whenever a lane holds more than a few dozen segments
in view, its segments are drawn by this one item rather than by a pyqtgraph region each
(docs/PERFORMANCE.md). Zoomed out over ten hours a lane holds thousands of segments: a
``fillRect`` and two ``drawLine`` calls per segment from Python cost ~4 ms of a ~14 ms frame.
Here the lane is rendered with NumPy into one ARGB image the size of the lane in pixels
(columns × rows, ~30 × 900) and drawn with one ``drawImage`` (one row drawn stretched, when no
segment in view is hatched or dashed: the rows are then all alike); only the label texts are
drawn one by one, and only those that fit (a few dozen at most).

What it draws, as the pyqtgraph items did: a span is a translucent fill of its label colour
with a 1-px edge at each end, a point a 2-px line; the selected segment has white, wider
edges and is drawn on top; a suggestion is hatched (``/``) with dashed edges, its text
prefixed "? ". The lane's segments, ids, labels and flags are turned into arrays once per
change of the annotations (`AnnotationSet.sorted_index` returns a new tuple after a change).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from sensorlab.app.live.traces import ViewOverlay

if TYPE_CHECKING:  # the lane imports this module
    from sensorlab.app.labeling.lanes import Lane

#: Alpha of a span's fill (plain, suggested), as `SegmentItem` fills it.
FILL_ALPHA, SUGGESTED_ALPHA = 70, 150
#: Qt's cosmetic dash line: 4 px on, 2 px off; BDiagPattern: one "/" line every 8 px.
DASH_ON, DASH_PERIOD, HATCH_PERIOD = 4, 6, 8
#: Spans narrower than this many pixels get no text.
MIN_TEXT_PX = 24
TEXT_COLOR, SELECTED_COLOR = "#e8eaed", "#ffffff"


class LaneArrays(NamedTuple):
    """One lane's segments as arrays, sorted by start."""

    starts: np.ndarray
    ends: np.ndarray
    point: np.ndarray  # bool
    suggested: np.ndarray  # bool
    label: np.ndarray  # index into `labels`
    labels: list[str]
    segs: list  # the `Segment`s, same order
    at: dict[str, int]  # segment id → its position


def _argb(color: str, alpha: int = 255) -> int:
    c = QColor(color)
    return (alpha << 24) | (c.red() << 16) | (c.green() << 8) | c.blue()


def _ranges(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns ``a[i] … b[i]`` (inclusive) of every range, and the range each belongs to."""
    n = np.maximum(b - a + 1, 0)
    owner = np.repeat(np.arange(len(a)), n)
    first = np.repeat(np.cumsum(n) - n, n)
    return a[owner] + (np.arange(len(owner)) - first), owner


class SegmentStrip(ViewOverlay):
    """The segments of ``lane`` without an interactive item, in one item below those items."""

    def __init__(self, lane: Lane):
        super().__init__(lane.viewbox, z=-10.0)
        self.lane = lane
        self._index_key = None
        self._arrays: LaneArrays | None = None
        self._image: QImage | None = None
        self._keep = None  # the array the image reads (alive as long as the image)
        self.drawn = 0  # segments in the last painted image (tests, benchmarks)
        self._pattern_size: tuple[int, int] | None = None
        self._pattern: tuple[np.ndarray, np.ndarray] | None = None
        self._colors: tuple[str, ...] | None = None  # label colours `_argbs` was made for
        self._argbs: tuple[np.ndarray, np.ndarray, np.ndarray] = ()

    def arrays(self) -> LaneArrays:
        """The lane's segments as arrays (rebuilt only after the annotations changed)."""
        annotations = self.lane.view.annotations
        index = annotations.sorted_index()
        if index is not self._index_key:
            segs = [s for s in index[2] if self.lane.holds(s)]
            labels = sorted({s.label for s in segs})
            at = {name: i for i, name in enumerate(labels)}
            n = len(segs)
            self._arrays = LaneArrays(
                np.fromiter((s.start for s in segs), np.float64, n), np.fromiter((s.end for s in segs), np.float64, n),
                np.fromiter((s.is_point for s in segs), bool, n), np.fromiter((s.suggested for s in segs), bool, n),
                np.fromiter((at[s.label] for s in segs), np.int64, n), labels, segs, {s.id: i for i, s in enumerate(segs)},
            )  # fmt: skip
            self._index_key = index
        return self._arrays

    def render(self, x0: float, x1: float, width: int, height: int, char_w: float = 7.0) -> tuple[np.ndarray, list[tuple[float, str, bool]]]:
        """The lane over session seconds ``x0 … x1`` as a ``height × width`` ARGB32 array (a
        read-only view of one row repeated when nothing in view is hatched or dashed), and
        the texts to draw as ``(pixel x, text, selected)``: each where it clears the one
        before it (``char_w``: average character width). No Qt painting (tests call it)."""
        view = self.lane.view
        arr = self.arrays()
        img = np.zeros((height, width), np.uint32)
        t0, t1 = x0 + view.origin, x1 + view.origin
        end = int(np.searchsorted(arr.starts, t1, "right"))
        idx = np.flatnonzero(arr.ends[:end] >= t0)
        own = [arr.at[sid] for sid in view.items if sid in arr.at]
        if own and len(idx):  # segments with an interactive item draw themselves
            idx = idx[~np.isin(idx, own)]
        self.drawn = len(idx)
        if not len(idx) or width <= 0 or height <= 0:
            return img, []
        selected = np.zeros(len(idx), bool)
        sel = arr.at.get(view.selected, -1) if view.selected else -1
        k = int(np.searchsorted(idx, sel)) if sel >= 0 else len(idx)
        if k < len(idx) and idx[k] == sel:  # the selected segment is drawn last, on top
            idx = np.r_[np.delete(idx, k), sel]
            selected[-1] = True
        scale = width / (x1 - x0 or 1.0)
        a = (arr.starts[idx] - t0) * scale
        b = (arr.ends[idx] - t0) * scale
        point, sugg = arr.point[idx], arr.suggested[idx]
        lab = arr.label[idx]
        plain_argb, sugg_argb, edge_argb = self._label_argb(tuple(view.labels.color_of(name) for name in arr.labels))
        fill_plain, fill_sugg, edge = plain_argb[lab], sugg_argb[lab], edge_argb[lab]
        edge[selected] = _argb(SELECTED_COLOR)
        # Per column: fill colour, hatched or not; edge colour, dashed or not. Later segments
        # (and the selected one, last) overwrite earlier ones where they share a column.
        fill = np.zeros(width, np.uint32)
        hatched = np.zeros(width, bool)
        line = np.zeros(width, np.uint32)
        dashed = np.zeros(width, bool)
        span = ~point
        ca = np.clip(np.floor(a), -1, width).astype(np.int64)
        cb = np.clip(np.floor(b), -1, width).astype(np.int64)
        cols, owner = _ranges(np.maximum(ca[span], 0), np.minimum(cb[span], width - 1))
        which = np.flatnonzero(span)[owner]
        fill[cols] = np.where(sugg[which], fill_sugg[which], fill_plain[which])
        hatched[cols] = sugg[which]
        # Edges: a span's two ends (1 px, 2 selected), a point's line (2 px, 3 selected); a
        # start scrolled out on the left has none.
        wide = (point | selected).astype(np.int64)
        lo = ca - point - (point & selected)
        # np.concatenate, not np.r_: the same arrays, without np.r_'s Python parsing of its
        # index (a tenth of this function's time, every frame).
        starts = np.concatenate((lo, cb[span]))
        stops = np.concatenate((ca + wide, cb[span] + wide[span]))
        who = np.concatenate((np.arange(len(idx)), np.flatnonzero(span)))
        keep = (stops >= 0) & (starts < width) & np.concatenate((point | (a >= 0), np.ones(int(span.sum()), bool)))
        cols, owner = _ranges(np.maximum(starts[keep], 0), np.minimum(stops[keep], width - 1))
        which = who[keep][owner]
        order = np.argsort(which, kind="stable")  # draw order is segment order
        line[cols[order]] = edge[which[order]]
        dashed[cols[order]] = sugg[which[order]]
        if not hatched.any() and not dashed.any():
            # No hatching or dashes (a lane of labels, no suggestions): every row is the same,
            # so one row is made and the image is that row repeated (a view: no copy), which
            # `paint` draws stretched; the full image's where-per-pixel cost ~1.7 ms a frame.
            img = np.broadcast_to(np.where(line != 0, line, fill), (height, width))
        else:
            diagonal, dash = self._patterns(width, height)
            img[:] = np.where(hatched & ~diagonal, 0, fill) if hatched.any() else fill
            on = (line != 0) & (~dashed | dash)
            img[:] = np.where(on, line, img)
        # Texts: a point's right of its line, a span's from its visible start if it is wide
        # enough; each only where it clears the text before it (found by bisection, so a
        # zoomed-out lane's thousands of candidates cost a few dozen steps).
        vis_a = np.maximum(a, -2.0)
        text_x = np.where(point, a + 4, vis_a + 2)
        # ... and only if no other segment starts under it: zoomed out over hours, a text
        # would stand for the dozens of segments it covers ("clap clap clap" over a lane of
        # walks, waves and claps).
        text_w = char_w * (np.array([len(name) + 1 for name in arr.labels])[lab] + 2 * sugg)
        starts_sorted = np.sort(a)
        after = np.searchsorted(starts_sorted, a, "right")
        next_start = np.where(after < len(a), starts_sorted[np.minimum(after, len(a) - 1)], np.inf)
        alone = next_start >= text_x + text_w
        cand = np.flatnonzero(alone & (point | (np.minimum(b, width + 2) - vis_a >= MIN_TEXT_PX)))
        cand = cand[np.argsort(text_x[cand], kind="stable")]
        xs = text_x[cand]
        texts = []
        j = 0
        while j < len(cand):
            k = cand[j]
            text = ("? " if sugg[k] else "") + arr.segs[idx[k]].label
            texts.append((float(xs[j]), text, bool(selected[k])))
            j = max(j + 1, int(np.searchsorted(xs, xs[j] + char_w * (len(text) + 1), "left")))
        return img, texts

    def _label_argb(self, colors: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each label's fill (plain, suggested) and edge as ARGB32, parsed once per set of
        label colours rather than three `QColor`s per label every frame."""
        if colors != self._colors:
            self._colors = colors
            self._argbs = tuple(np.array([_argb(c, alpha) for c in colors], np.uint32) for alpha in (FILL_ALPHA, SUGGESTED_ALPHA, 255))
        return self._argbs

    def _patterns(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """The hatching's "/" pixels (height × width) and the dash's "on" rows (height × 1) for
        this size, made once per size rather than with an integer modulo per pixel each frame."""
        if self._pattern_size != (width, height):
            ys = np.arange(height)[:, None]
            self._pattern = ((np.arange(width)[None, :] + ys) % HATCH_PERIOD == 0, (ys % DASH_PERIOD) < DASH_ON)
            self._pattern_size = (width, height)
        return self._pattern

    def paint(self, p: QPainter, *_args) -> None:
        r = self._rect
        (x0, x1), _ = self.viewbox.viewRange()
        width, height = round(r.width()), round(r.height())
        metrics = p.fontMetrics()
        img, texts = self.render(x0, x1, width, height, metrics.averageCharWidth())
        if not self.drawn:
            return
        rows = 1 if img.strides[0] == 0 else height  # one row repeated (`render`): drawn stretched
        self._keep = img = img[:rows]
        self._image = QImage(img.data, width, rows, width * 4, QImage.Format.Format_ARGB32)
        p.drawImage(QRectF(r.left(), r.top(), width, height), self._image)
        plain, white = QColor(TEXT_COLOR), QColor(SELECTED_COLOR)
        y = r.center().y() + metrics.ascent() / 2 - 1
        for x, text, selected in texts:
            p.setPen(white if selected else plain)
            p.drawText(QPointF(x + r.left(), y), text)


__all__ = ["SegmentStrip"]
