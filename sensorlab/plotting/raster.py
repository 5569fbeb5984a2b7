"""Min/max envelopes of several channels filled into one ARGB image, without Qt.

A plot of a long signal shows, in each pixel column, the span between the smallest and the
largest sample that falls in it. Qt strokes such a span as a 1-px vertical line and sets each
of its pixels on its own (most of a labeling sweep frame; docs/performance/labeling.md). Here every
channel's spans go into one premultiplied ARGB32 buffer (``uint32``, rows of pixels, Qt's
``Format_ARGB32_Premultiplied``) as vertical runs of its colour, the channels in their painting
order; the caller wraps the buffer in one image and draws it.

`envelope_image` takes the envelope in data coordinates and the affine map to the buffer's
pixels: point ``i`` lies in pixel column ``floor(x[i] * x_scale + x_offset)`` and value ``v``
in row ``floor(v * y_scale + y_offset)``. Neighbouring columns (exactly one apart) are joined
as a line through the samples would join them (`join_columns`); columns further apart (a gap
in the recording) are not; NaN spans and hidden channels (colour 0) are left empty; rows
beyond the buffer are clipped. The work runs in the optional C extension `_raster.c` when it
is built (setup.py) and in NumPy otherwise, with the same pixels (tests/plotting).
"""

from __future__ import annotations

import numpy as np

from sensorlab.optional_extension import load_optional_extension

_RASTER = load_optional_extension("sensorlab.plotting._raster", "envelope raster", "NumPy")
compiled_raster = _RASTER.module
# The live view's two functions, None in a build older than them (a tree updated but not rebuilt:
# the NumPy code then runs, with the same pixels, until `python setup.py build_ext --inplace`).
_trace_image = getattr(compiled_raster, "trace_image", None)
_rgb32_preview = getattr(compiled_raster, "rgb32_preview", None)


def raster_path() -> str:
    """Which code fills the envelopes of the labeling view and the live view's dense traces, in words."""
    return _RASTER.which_runs()


def premultiplied(rgba: tuple[int, int, int, int]) -> int:
    """A colour's pixel value in a premultiplied ARGB32 buffer (0 is "not drawn")."""
    r, g, b, a = rgba
    return (a << 24) | ((r * a + 127) // 255) << 16 | ((g * a + 127) // 255) << 8 | ((b * a + 127) // 255)


def join_columns(col: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spans widened so that neighbouring columns meet: where a column's span lies wholly above
    or below the next one's, both reach the middle of the step between them (as a line
    through the samples would join them). Columns with a gap between them are not joined."""
    if len(col) < 2:
        return lo, hi
    l0, h0, l1, h1 = lo[:-1], hi[:-1], lo[1:], hi[1:]
    up = l1 > h0  # the next column is above this one
    down = h1 < l0  # ... below it
    if not (up.any() or down.any()):  # zoomed out, neighbouring spans overlap
        return lo, hi
    adj = ((col[1:] - col[:-1]) == 1.0)[:, None]
    up &= adj
    down &= adj
    lo, hi = lo.copy(), hi.copy()
    m_up, m_down = 0.5 * (h0 + l1), 0.5 * (l0 + h1)
    hi[:-1] = np.maximum(hi[:-1], np.where(up, m_up, h0))
    lo[1:] = np.minimum(lo[1:], np.where(up, m_up, l1))
    lo[:-1] = np.minimum(lo[:-1], np.where(down, m_down, l0))
    hi[1:] = np.maximum(hi[1:], np.where(down, m_down, h1))
    return lo, hi


def envelope_image(out: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, colours: np.ndarray,
                   x_scale: float, x_offset: float, y_scale: float, y_offset: float, join: bool = True,
                   compiled: bool = True) -> np.ndarray:
    """Fill the channels' joined column spans into ``out`` (``(rows, columns)`` uint32,
    C-contiguous; pixels no span covers are left as they are) and return it.

    ``x``: (n,) float64 data x of the columns; ``lo``/``hi``: (n, channels) float64 spans;
    ``colours``: (channels,) uint32 premultiplied ARGB (`premultiplied`), 0 for a channel not
    drawn. ``join=False`` skips `join_columns` for spans whose neighbours meet already (those
    of `polyline_spans`: joining them would change no pixel). ``compiled=False`` runs the
    NumPy code even when the C extension is built (tests).
    """
    if compiled and compiled_raster is not None:
        compiled_raster.envelope_image(out, x, lo, hi, colours, float(x_scale), float(x_offset), float(y_scale), float(y_offset), join)
        return out
    return _envelope_image_numpy(out, x, lo, hi, colours, x_scale, x_offset, y_scale, y_offset, join)


def _envelope_image_numpy(out, x, lo, hi, colours, x_scale, x_offset, y_scale, y_offset, join) -> np.ndarray:
    h, w = out.shape
    if not len(x) or not h or not w:
        return out
    col = np.floor(x * x_scale + x_offset)
    if join:
        lo, hi = join_columns(col, lo, hi)
    with np.errstate(invalid="ignore", over="ignore"):
        ra, rb = lo * y_scale + y_offset, hi * y_scale + y_offset
        top, bottom = np.floor(np.minimum(ra, rb)), np.floor(np.maximum(ra, rb))
        drawn = (bottom >= 0) & (top <= h - 1) & ((col >= 0) & (col < w))[:, None]  # (NaN: False)
    r0 = np.clip(np.where(drawn, top, 0), 0, h - 1).astype(np.intp)
    r1 = np.clip(np.where(drawn, bottom, 0), 0, h - 1).astype(np.intp)
    c_all = np.where((col >= 0) & (col < w), col, 0).astype(np.intp)
    row = np.arange(h)
    for k, colour in enumerate(np.asarray(colours, dtype=np.uint32).tolist()):
        pts = np.flatnonzero(drawn[:, k]) if colour else ()
        if not len(pts):
            continue
        c, a, b = c_all[pts], r0[pts, k], r1[pts, k]
        if len(c) > 1 and not (c[1:] > c[:-1]).all():
            # several points in one column: their runs are merged first (the union of the
            # runs, as the C code's writes give); in column order, one row of runs per column
            order = np.argsort(c, kind="stable")
            c, a, b = c[order], a[order], b[order]
            first = np.flatnonzero(np.concatenate(([True], c[1:] != c[:-1])))
            on = np.zeros((len(first), h), bool)
            which = np.cumsum(np.concatenate(([False], c[1:] != c[:-1])))
            np.logical_or.at(on, which, (row >= a[:, None]) & (row <= b[:, None]))
            c = c[first]
        else:
            on = (row >= a[:, None]) & (row <= b[:, None])  # (points, rows): the run of each
        cols = out[:, c]
        cols[on.T] = colour
        out[:, c] = cols
    return out


def polyline_spans(px: np.ndarray, ys: np.ndarray, first: int, last: int,
                   compiled: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polylines through the points ``(px[i], ys[k, i])`` as column spans for `envelope_image`.

    ``px``: (n,) float64 device x, increasing (point ``i`` lies in pixel column
    ``floor(px[i])``, column ``c`` spans x ``c..c+1``); ``ys``: (channels, n) values, one
    polyline a row. Returns the centres (``column + 0.5``) of the columns ``first..last``
    (and one beyond each edge) the lines cross, and each one's span ``(columns, channels)``
    float64: the range of the line within the column, that is of the points in it and of
    the line's values at its two edges. Neighbouring spans share their edge's value, so the
    columns are connected as the line connects them, also where it steps over a column
    without a point in it (an envelope's min/max pairs are a pixel or more apart), and
    `envelope_image` need not join them (``join=False``). In C when
    built (the same arithmetic: NumPy's gathers and reductions cost as much as Qt's strokes
    they replace), else NumPy; ``compiled=False`` runs the NumPy code (tests).
    """
    k = ys.shape[0]
    col = np.floor(px)
    # The points in the columns, and one beyond each end (the line to it crosses the edge).
    a = max(int(col.searchsorted(first, "left")) - 1, 0)
    b = min(int(col.searchsorted(last, "right")) + 1, len(col))
    if b - a < 1:
        return np.zeros(0), np.zeros((0, k)), np.zeros((0, k))
    px, col, ys = px[a:b], col[a:b], ys[:, a:b].astype(np.float64)
    c0, c1 = max(float(col[0]), first - 1.0), min(float(col[-1]), last + 1.0)
    edges = np.arange(c0, c1 + 2.0)  # the columns' left edges and the last one's right edge
    if compiled and len(px) > 1 and compiled_raster is not None:
        lo, hi = np.empty((len(edges) - 1, k)), np.empty((len(edges) - 1, k))
        compiled_raster.polyline_spans(np.ascontiguousarray(px, np.float64), ys, c0, lo, hi)
        return edges[:-1] + 0.5, lo, hi
    if len(px) > 1:
        j = np.clip(px.searchsorted(edges, "right"), 1, len(px) - 1)
        x0, x1 = px[j - 1], px[j]
        f = np.clip((edges - x0) / np.where(x1 > x0, x1 - x0, 1.0), 0.0, 1.0)  # (beyond the ends: the end)
        at_edge = ys[:, j - 1] + (ys[:, j] - ys[:, j - 1]) * f
    else:
        at_edge = np.repeat(ys, len(edges), axis=1)
    lo = np.minimum(at_edge[:, :-1], at_edge[:, 1:])
    hi = np.maximum(at_edge[:, :-1], at_edge[:, 1:])
    inside = (col >= c0) & (col <= c1)
    if inside.any():  # the points widen their columns' spans
        col, ys = col[inside], ys[:, inside]
        starts = np.flatnonzero(np.concatenate(([True], col[1:] != col[:-1])))
        at = (col[starts] - c0).astype(np.intp)
        lo[:, at] = np.minimum(lo[:, at], np.minimum.reduceat(ys, starts, axis=1))
        hi[:, at] = np.maximum(hi[:, at], np.maximum.reduceat(ys, starts, axis=1))
    return edges[:-1] + 0.5, np.ascontiguousarray(lo.T), np.ascontiguousarray(hi.T)


def trace_image(out: np.ndarray, x: np.ndarray, ys: np.ndarray, colours: np.ndarray, x_scale: float, x_offset: float,
                first: int, last: int, y_scale: float, y_offset: float, compiled: bool = True) -> bool:
    """The live view's envelope traces filled into ``out`` in one call: `polyline_spans` of
    the lines through ``(x * x_scale + x_offset, ys[k])`` over the device columns
    ``first..last``, then `envelope_image` of those spans (``join=False``) with column ``c``
    of ``out`` being device column ``first + c`` and value ``v`` in row
    ``floor(v * y_scale + y_offset)``: the same pixels as those two calls.

    ``x``: (n,) float64, increasing; ``ys``: (channels, n) float32 or float64, any strides
    (a panel's display buffer as it is: the C code reads it in place, where the two calls
    took a stacked float64 copy, an array of device x and intermediate spans each frame);
    ``colours``: (channels,) uint32 premultiplied ARGB, 0 for a channel not drawn. Returns
    False, drawing nothing, when the points from ``first`` to ``last + 1`` are no more than
    the columns (raw samples a pixel or more apart: the caller strokes them); else True,
    with every pixel of ``out`` written (0 where no line is: ``out`` need not be cleared).
    ``compiled=False`` runs the NumPy code (tests).
    """
    if compiled and _trace_image is not None:
        return _trace_image(out, x, ys, colours, float(x_scale), float(x_offset), float(first), float(last),
                            float(y_scale), float(y_offset))
    px = x * x_scale + x_offset
    a, b = px.searchsorted(first), px.searchsorted(last + 1)
    if b - a <= last - first + 1:
        return False
    out[:] = 0
    drawn = np.asarray(colours) != 0
    centres, lo, hi = polyline_spans(px, np.asarray(ys)[drawn], first, last, compiled=False)
    envelope_image(out, centres, lo, hi, np.asarray(colours, np.uint32)[drawn], 1.0, -first, y_scale, y_offset,
                   join=False, compiled=False)
    return True


def rgb32_preview(frame: np.ndarray, step: int = 1, compiled: bool = True) -> np.ndarray:
    """Every ``step``-th row and column of a BGR(A) 8-bit frame ``(h, w, >= 3)``, any strides,
    as ``(ceil(h / step), ceil(w / step))`` uint32 ``0xffRRGGBB`` pixels: Qt's ``Format_RGB32``,
    the format its raster engine draws fastest. One pass in C (the live camera preview: the
    strided NumPy copy of ``frame[::2, ::2, 2::-1]`` it replaced was a quarter of a 20 fps live
    frame's instructions, docs/performance/live-view.md); NumPy otherwise, the same pixels."""
    h, w = -(-frame.shape[0] // step), -(-frame.shape[1] // step)
    out = np.empty((h, w), np.uint32)
    if compiled and _rgb32_preview is not None:
        _rgb32_preview(out, frame, int(step))
        return out
    f = frame[::step, ::step]
    out[:] = 0xFF000000 | f[..., 2].astype(np.uint32) << 16 | f[..., 1].astype(np.uint32) << 8 | f[..., 0]
    return out


__all__ = ["compiled_raster", "envelope_image", "join_columns", "polyline_spans", "premultiplied", "raster_path", "rgb32_preview", "trace_image"]
