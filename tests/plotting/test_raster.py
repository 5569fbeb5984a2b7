"""The envelope raster (sensorlab/plotting/raster.py): the labeling view fills each signal
track's channel envelopes into one image with it. The compiled code and the NumPy fallback must
give the same pixels, and the picture must keep what a user reads off a trace: every extreme
(a one-sample spike), connected columns, empty gaps."""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.plotting.raster import (
    compiled_raster,
    envelope_image,
    polyline_spans,
    premultiplied,
    rgb32_preview,
    trace_image,
)

COLOURS = np.array([premultiplied(c) for c in ((78, 155, 245, 255), (245, 166, 35, 255), (90, 200, 90, 255), (239, 83, 80, 128))], np.uint32)


def _case(rng: np.random.Generator):
    n, ch = int(rng.integers(0, 400)), int(rng.integers(1, 5))
    h, w = int(rng.integers(1, 120)), int(rng.integers(1, 500))
    # columns mostly one apart, some gaps and repeats, some off the image
    steps = rng.choice([1.0, 1.0, 1.0, 1.0, 2.0, 7.0, 0.0], size=n)
    col = np.cumsum(steps) + rng.integers(-20, 20)
    x = (col + 0.5) / 3.0 - 4.0  # data x of the column centres (x_scale 3, x_offset 12)
    mid = np.cumsum(rng.normal(0, 1.5, size=(n, ch)), axis=0) * rng.choice([0.1, 1.0, 10.0])
    width = np.abs(rng.normal(0, 1, size=(n, ch))) * rng.choice([0.0, 0.5, 5.0])
    lo, hi = mid - width, mid + width
    if n:  # NaNs, spikes, full-height and out-of-range columns
        for arr in (lo, hi):
            arr[rng.integers(0, n, size=n // 20 + 1), rng.integers(0, ch, size=n // 20 + 1)] = np.nan
        k = rng.integers(0, n, size=3)
        hi[k, 0] = 1e6
        lo[k[:1], -1] = -1e6
        lo[k[1:2]] = -np.inf
    colours = COLOURS[:ch].copy()
    if ch > 1 and rng.random() < 0.3:
        colours[rng.integers(0, ch)] = 0  # a hidden channel
    y_scale = -h / float(rng.choice([5.0, 20.0, 200.0]))
    return h, w, x, np.ascontiguousarray(lo), np.ascontiguousarray(hi), colours, 3.0, 12.0, y_scale, h / 2 + rng.normal(0, 3)


@pytest.mark.skipif(compiled_raster is None, reason="the C extension is not built (setup.py)")
def test_the_compiled_raster_and_the_numpy_fallback_fill_the_same_pixels():
    rng = np.random.default_rng(14)
    filled = 0
    for _ in range(400):
        h, w, x, lo, hi, colours, *affine = _case(rng)
        a = envelope_image(np.zeros((h, w), np.uint32), x, lo, hi, colours, *affine)
        b = envelope_image(np.zeros((h, w), np.uint32), x, lo, hi, colours, *affine, compiled=False)
        assert (a == b).all(), (h, w, len(x), int((a != b).sum()))
        filled += int((a != 0).sum())
    assert filled > 100_000  # the cases draw something


@pytest.mark.parametrize("compiled", [True, False])
def test_a_spike_shows_neighbours_join_and_a_gap_stays_empty(compiled):
    if compiled and compiled_raster is None:
        pytest.skip("the C extension is not built")
    h, w = 100, 12
    col = np.array([0, 1, 2, 3, 4, 5, 9, 10], float)  # 6..8: a gap in the recording
    lo = np.array([0, 0, 0, 0, 0, 0, 0, 0.0])[:, None]
    hi = lo.copy()
    lo[2] = hi[2] = 90.0  # a one-sample spike
    lo[5], hi[5] = np.nan, np.nan
    out = envelope_image(np.zeros((h, w), np.uint32), col + 0.5, lo, hi, COLOURS[:1], 1.0, 0.0, -1.0, 95.0, compiled=compiled)
    drawn = out != 0
    # the spike's column reaches from its top (row 5) down to halfway (row 50), where its
    # neighbours' columns, joined to it, take over down to the baseline (row 95): connected
    assert drawn[5:51, 2].all() and not drawn[51:, 2].any() and not drawn[:5, 2].any()
    assert drawn[50:96, 1].all() and drawn[50:96, 3].all() and not drawn[:50, 1].any()
    assert not drawn[:, 5:9].any()  # the NaN column and the gap
    assert drawn[95, [0, 1, 3, 4, 9, 10]].all() and not drawn[:, 11].any()
    assert set(np.unique(out[drawn]).tolist()) == {int(COLOURS[0])}


@pytest.mark.parametrize("compiled", [True, False])
def test_later_channels_paint_over_earlier_ones_and_rows_beyond_the_image_are_clipped(compiled):
    if compiled and compiled_raster is None:
        pytest.skip("the C extension is not built")
    h, w = 40, 3
    lo = np.array([[-100.0, 10.0], [5.0, 50.0], [-100.0, -200.0]])
    hi = np.array([[100.0, 20.0], [8.0, 60.0], [100.0, -150.0]])
    col = np.array([0.5, 5.5, 2.5])  # not neighbours: no joins
    out = envelope_image(np.zeros((h, w), np.uint32), col, lo, hi, COLOURS[:2], 1.0, -3.0 + 0.0, 1.0, 0.0, compiled=compiled)
    # column 0 (x 0.5 - 3 < 0) is off the image; column 2 (x 5.5) is 2; x 2.5 is column -1: off
    assert not out[:, 0].any() and not out[:, 1].any()
    assert (out[5:9, 2] == COLOURS[0]).all() and not out[9:, 2].any() and not out[:5, 2].any()
    out = envelope_image(np.zeros((h, w), np.uint32), col + 3.0, lo, hi, COLOURS[:2], 1.0, -3.0, 1.0, 0.0, compiled=compiled)
    # column 0: the first channel, clipped to the full height, with the second one over rows 10..20
    assert (out[10:21, 0] == COLOURS[1]).all() and (out[:10, 0] == COLOURS[0]).all() and (out[21:, 0] == COLOURS[0]).all()
    assert (out[:, 2] == COLOURS[0]).all()  # the second channel's span lies above the image


def test_a_polyline_becomes_connected_columns_with_every_points_extremes():
    """The live view's dense traces: each column's span is the range of the line within it
    (its points and where the line crosses the column's edges), so a column the line steps
    over without a point in it is drawn too, every column meets the next, and a one-sample
    spike keeps its height; points far outside the columns asked for are left out."""
    px = np.array([-50.0, 0.2, 0.7, 1.1, 1.9, 5.5, 6.5, 500.0])
    ys = np.array([[9.0, 0.0, 4.0, -2.0, 1.0, 10.0, 3.0, -9.0]])
    centres, lo, hi = polyline_spans(px, ys, 0, 7)
    assert centres.tolist() == [c + 0.5 for c in range(-1, 9)]  # one column beyond each edge
    for i, c in enumerate(range(-1, 9)):  # the line sampled finely within the column
        xs = np.concatenate((np.linspace(c, c + 1, 2001), px[(px >= c) & (px <= c + 1)]))
        line = np.interp(xs, px, ys[0])
        assert np.isclose(lo[i, 0], line.min(), atol=0.02) and np.isclose(hi[i, 0], line.max(), atol=0.02), c
    assert hi[6, 0] == 10.0  # the spike
    out = np.zeros((40, 8), np.uint32)
    envelope_image(out, centres, lo, hi, COLOURS[:1], 1.0, 0.0, -2.0, 25.0)  # row = 25 - 2 * y
    drawn = out != 0
    rows = [np.flatnonzero(drawn[:, c]) for c in range(8)]
    assert all(len(r) and len(r) == r[-1] - r[0] + 1 for r in rows)  # every column, one run each
    assert all(max(rows[c][0], rows[c + 1][0]) <= min(rows[c][-1], rows[c + 1][-1]) for c in range(7))  # joined
    assert rows[5][0] == 25 - 2 * 10 and rows[1][-1] == 25 + 2 * 2  # the extremes' rows


@pytest.mark.skipif(compiled_raster is None, reason="the C extension is not built")
@pytest.mark.parametrize("seed", range(40))
def test_compiled_and_numpy_polyline_spans_are_the_same(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 300)), int(rng.integers(1, 5))
    px = np.cumsum(rng.choice([0.0, 0.3, 0.5, 1.0, 2.5, 9.0], size=n)) + rng.uniform(-30, 10)
    ys = rng.normal(0, 5, size=(k, n))
    ys[rng.integers(0, k, size=3), rng.integers(0, n, size=3)] = np.nan
    first, last = int(rng.integers(-5, 20)), int(rng.integers(20, 200))
    a, b = polyline_spans(px, ys, first, last), polyline_spans(px, ys, first, last, compiled=False)
    for u, v in zip(a, b):
        assert u.shape == v.shape and np.array_equal(u, v, equal_nan=True)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("seed", range(20))
def test_polyline_spans_drawn_without_the_join_fill_the_same_pixels(seed, compiled):
    """The live view draws polyline_spans's spans with join=False: their neighbours meet
    already, so joining them again would change no pixel (NaN gaps and clipped rows included)."""
    if compiled and compiled_raster is None:
        pytest.skip("the C extension is not built")
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(2, 400)), int(rng.integers(1, 4))
    px = np.cumsum(rng.choice([0.05, 0.3, 1.0, 2.5, 9.0], size=n)) + rng.uniform(-20, 5)
    ys = rng.normal(0, 8, size=(k, n))
    ys[rng.integers(0, k, size=3), rng.integers(0, n, size=3)] = np.nan
    first, last = 0, int(rng.integers(20, 120))
    centres, lo, hi = polyline_spans(px, ys, first, last, compiled=compiled)
    h = 50
    affine = (1.0, -first, float(rng.uniform(-3, -0.5)), float(rng.uniform(10, 40)))
    joined = envelope_image(np.zeros((h, last - first + 1), np.uint32), centres, lo, hi, COLOURS[:k], *affine, compiled=compiled)
    unjoined = envelope_image(np.zeros((h, last - first + 1), np.uint32), centres, lo, hi, COLOURS[:k], *affine,
                              join=False, compiled=compiled)  # fmt: skip
    assert joined.any() and np.array_equal(joined, unjoined)


@pytest.mark.skipif(compiled_raster is None, reason="the C extension is not built")
def test_a_wrong_argument_is_refused_naming_the_function_and_the_argument():
    ys = np.zeros((1, 4))
    with pytest.raises(TypeError, match=r"polyline_spans: hi must be a C-contiguous 2-D array of format 'd'"):
        compiled_raster.polyline_spans(np.arange(4.0), ys, 0.0, np.zeros((3, 1)), np.zeros((3, 1), np.float32))
    with pytest.raises(TypeError, match=r"envelope_image: x must be a C-contiguous 1-D array"):
        compiled_raster.envelope_image(np.zeros((4, 4), np.uint32), np.zeros((2, 2)), ys, ys, COLOURS[:1], 1.0, 0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="lo and hi must be"):
        compiled_raster.envelope_image(np.zeros((4, 4), np.uint32), np.zeros(3), ys, ys, COLOURS[:1], 1.0, 0.0, 1.0, 0.0)


@pytest.mark.parametrize("seed", range(40))
def test_trace_image_fills_the_pixels_of_polyline_spans_then_envelope_image(seed):
    """The live view fills its envelope traces with one `trace_image` call straight from the
    panel's display buffer (float32, channel rows of a wider array): the same pixels as the
    two steps it replaced (a float64 copy of the shown rows → `polyline_spans` →
    `envelope_image` without the join), hidden channels (colour 0) left out, and False with
    nothing drawn when the points are no more than the columns (raw samples: stroked)."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 1500)), int(rng.integers(1, 5))
    x_scale, x_offset = float(rng.uniform(20, 400)), float(rng.uniform(-50, 50))
    # device x steps: an envelope's (several points a column), raw samples' (a pixel or more)
    steps = [0.02, 0.1, 0.3, 0.5, 1.0] if rng.random() < 0.8 else [0.5, 1.0, 2.5, 9.0]
    x = (np.cumsum(rng.choice(steps, size=n)) + rng.uniform(-60, 20)) / x_scale
    backing = rng.normal(0, 8, size=(k, n + 50)).astype(rng.choice([np.float32, np.float64]))
    backing[rng.integers(0, k, size=3), rng.integers(0, n + 50, size=3)] = np.nan
    ys = backing[:, 20 : 20 + n]  # a strided view, as RollingBuffer.view() hands it out
    colours = COLOURS[:k].copy()
    if k > 1 and rng.random() < 0.4:
        colours[rng.integers(0, k)] = 0
    first, last = int(rng.integers(-5, 30)), int(rng.integers(30, 300))
    h = int(rng.integers(5, 80))
    y_scale, y_offset = float(rng.uniform(-4, -0.2)), float(rng.uniform(0, h))
    px = x * x_scale + x_offset
    a, b = px.searchsorted(first), px.searchsorted(last + 1)
    want = np.zeros((h, last - first + 1), np.uint32)
    drawn = colours != 0
    if b - a > last - first + 1:
        centres, lo, hi = polyline_spans(px, ys[drawn].astype(np.float64), first, last)
        envelope_image(want, centres, lo, hi, colours[drawn], 1.0, -first, y_scale, y_offset, join=False)
    for compiled in ([True, False] if compiled_raster is not None else [False]):
        got = np.full_like(want, 0xDEADBEEF)  # every pixel is written when it fills
        filled = trace_image(got, x, ys, colours, x_scale, x_offset, first, last, y_scale, y_offset, compiled=compiled)
        assert filled == (b - a > last - first + 1) and (got.any() or not filled or not want.any())
        if filled:
            assert np.array_equal(got, want), (compiled, np.argwhere(got != want)[:5])
        else:
            assert (got == 0xDEADBEEF).all()  # nothing drawn: left as it was


@pytest.mark.parametrize("step", [1, 2, 3])
@pytest.mark.parametrize("shape", [(48, 64, 3), (7, 5, 4), (481, 641, 3)])
def test_the_camera_preview_pixels_are_the_frames_colours_in_qts_rgb32(step, shape):
    """The live camera preview: every step-th pixel of a BGR(A) frame as 0xffRRGGBB, from a
    strided view too (a channel-last frame sliced out of a batch), in C and in NumPy alike."""
    rng = np.random.default_rng(step)
    batch = rng.integers(0, 256, size=(2, *shape), dtype=np.uint8)
    frame = batch[1]
    f = frame[::step, ::step].astype(np.uint32)
    want = 0xFF000000 | f[..., 2] << 16 | f[..., 1] << 8 | f[..., 0]
    for compiled in ([True, False] if compiled_raster is not None else [False]):
        got = rgb32_preview(frame, step, compiled=compiled)
        assert got.dtype == np.uint32 and got.flags.c_contiguous and np.array_equal(got, want)
    rotated = np.swapaxes(frame, 0, 1)  # any strides
    f = rotated[::step, ::step].astype(np.uint32)
    assert np.array_equal(rgb32_preview(rotated, step), 0xFF000000 | f[..., 2] << 16 | f[..., 1] << 8 | f[..., 0])
