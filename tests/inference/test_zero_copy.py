"""The live model call reads a held window where it lies (issue 12, twelfth round): the fused
graph's raw input is bound to the window's address in the windower's held samples instead of the
window being copied into the bound buffer. The answer must be the copied window's, bit for bit,
wherever the window starts (any float alignment), and a binding must never feed the model stale or
moved samples: the held buffer is overwritten, replaced when it grows or compacts, or a window is
copied after one was bound — each run reads the window it was handed, and memory a binding points
into stays allocated until the binding moves off it."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx_models import _save

from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.inference import InferenceProcessor, LoadedModel, ModelMapping
from sensorlab.inference.windower import hop_path

RATE = 100.0


def conv_model(path, channels: int, filters: int = 4):
    """A 1-D CNN as a keyword or IMU model has it: (N, T, C) → Transpose → Conv (stride 2) → ReLU → mean over time → (N, filters)."""
    rng = np.random.default_rng(5)
    w = numpy_helper.from_array(rng.normal(size=(filters, channels, 5)).astype(np.float32), "w")
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]), helper.make_node("Conv", ["xt", "w"], ["c"], strides=[2]),
             helper.make_node("Relu", ["c"], ["r"]), helper.make_node("ReduceMean", ["r"], ["scores"], axes=[2], keepdims=0)]  # fmt: skip
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", channels])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", filters])
    return _save(helper.make_graph(nodes, "conv", [x], [y], initializer=[w]), path)


def mapping(**k) -> ModelMapping:
    return ModelMapping(stream="s", window=1.0, hop=0.25, scores_kind="logits", labels=["a", "b", "c", "d"], **k)


def fused(bound):
    """The bound call's one-run graph (made on its first window)."""
    bound(np.zeros((100, bound._window.shape[1]), np.float32))
    assert bound._fused, "the model's graph was not fused (the live call this tests)"
    return bound._fused


@pytest.mark.parametrize("channels", [1, 3])
def test_a_window_read_where_it_lies_gives_the_copied_windows_probabilities_bit_for_bit(tmp_path, channels):
    bound = LoadedModel(conv_model(tmp_path / "m.onnx", channels), mapping(mean=[0.3] * channels, std=[2.0] * channels)).bound(100, channels)
    f = fused(bound)
    assert f.zero_copy  # (samples, channels) row after row is the model's (N, T, C) input as it is
    held = (np.random.default_rng(1).normal(size=(400, channels)) * 3).astype(np.float32)
    for first in (0, 1, 2, 3, 5, 8, 13, 299):  # windows at every float alignment
        window = held[first : first + 100]
        copied = bound(window.copy(), np.empty((1, 4), np.float32))
        assert f.bound_at == f.own
        in_place = bound(window, np.empty((1, 4), np.float32), window.ctypes.data)
        assert f.bound_at == window.ctypes.data and f.bound_at != f.own  # the run read the held samples
        assert np.array_equal(in_place, copied), f"window at sample {first}"


def test_a_layout_that_stores_a_window_otherwise_is_copied_even_when_an_address_is_given(tmp_path):
    """Channels before samples (N, C, T) with 3 channels: the held (samples, channels) rows are not the model's input order."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "T"])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 3])
    path = _save(helper.make_graph([helper.make_node("ReduceMean", ["x"], ["scores"], axes=[2], keepdims=0)], "cf", [x], [y]), tmp_path / "cf.onnx")
    model = LoadedModel(path, ModelMapping(stream="s", window=1.0, hop=0.25, layout="NCT", scores_kind="logits", labels=["a", "b", "c"]))
    bound = model.bound(100, 3)
    f = fused(bound)
    assert not f.zero_copy
    window = np.random.default_rng(2).normal(size=(100, 3)).astype(np.float32)
    got = bound(window, None, window.ctypes.data)
    assert f.bound_at == f.own
    np.testing.assert_allclose(got, model.run(model.features(window[None])), rtol=1e-6)


def test_a_bound_buffer_that_is_overwritten_replaced_or_freed_never_feeds_stale_samples(tmp_path):
    bound = LoadedModel(conv_model(tmp_path / "m.onnx", 1), mapping()).bound(100, 1)
    f = fused(bound)
    rng = np.random.default_rng(3)
    want = lambda w: bound(w.copy(), np.empty((1, 4), np.float32))  # noqa: E731 - the copied window's answer
    buf = rng.normal(size=(300, 1)).astype(np.float32)
    w = buf[10:110]
    first = bound(w, np.empty((1, 4), np.float32), w.ctypes.data)
    assert np.array_equal(first, want(w))
    # The same memory, overwritten in place (as a held buffer is past its live samples): the run reads the new samples.
    bound(w, np.empty((1, 4), np.float32), w.ctypes.data)
    buf[:] = rng.normal(size=buf.shape)
    again = bound(w, np.empty((1, 4), np.float32), w.ctypes.data)
    assert not np.array_equal(again, first) and np.array_equal(again, want(w))
    # A window copied after one was bound: the copy is what runs (the input is bound back to its own buffer).
    bound(w, np.empty((1, 4), np.float32), w.ctypes.data)
    other = rng.normal(size=(100, 1)).astype(np.float32)
    copied = bound(other, np.empty((1, 4), np.float32))
    assert f.bound_at == f.own and np.array_equal(copied, want(other))
    # A held buffer replaced (grown, compacted): the next window is bound where it now lies, and the old
    # buffer stays allocated while the binding points into it — freed only once the binding moved off.
    old = rng.normal(size=(300, 1)).astype(np.float32)
    alive = weakref.ref(old)
    w = old[50:150]
    expect = want(w)
    assert np.array_equal(bound(w, np.empty((1, 4), np.float32), w.ctypes.data), expect)
    del old, w
    gc.collect()
    assert alive() is not None, "the buffer the model's input is bound into was freed"
    new = rng.normal(size=(300, 1)).astype(np.float32)
    w = new[50:150]
    assert np.array_equal(bound(w, np.empty((1, 4), np.float32), w.ctypes.data), want(w))
    gc.collect()
    assert alive() is None  # no longer bound: not kept


@pytest.mark.parametrize("hop", ["c", "python"])
def test_the_engine_reads_each_window_in_the_held_samples_through_growth_compaction_and_gaps(tmp_path, hop):
    """A long stream (the held buffers replaced many times as they fill, gaps restarting the grid):
    the usual hop's predictions — the model reading each window in the held samples — equal, bit
    for bit, those of the general path, which copies every window (taken when a tap is attached)."""
    if hop == "c" and "compiled" not in hop_path():
        pytest.fail(f"the C hop is not built, so this test cannot run on it: {hop_path()}")
    rng = np.random.default_rng(4)
    ts = 50.0 + np.arange(6000) / RATE
    ts[2000:] += 0.4  # gaps: the grid restarts, new held buffers
    ts[4100:] += 1.3
    x = rng.normal(size=(6000, 2)).astype(np.float32)
    path = conv_model(tmp_path / "m.onnx", 2)
    info = StreamInfo("s", StreamKind.TIMESERIES, RATE, sample_shape=(2,), channel_names=("c0", "c1"))
    outs, moves, bound_outside = [], 0, 0
    for tapped in (False, True):
        proc = InferenceProcessor(LoadedModel(path, mapping(mean=[0.1, -0.2], std=[1.5, 0.5])), stale_after=1e9)
        proc.open({"s": info})
        proc.windower.compiled = hop == "c"
        out: list[Chunk] = []
        proc._sink = lambda name, c, out=out: out.append(c)
        if tapped:
            proc.taps.append(lambda *a: None)
        chunks = [Chunk(x[i : i + 5], ts[i : i + 5]) for i in range(0, len(ts), 5)]
        pending, held = [], None
        for c in chunks:
            pending.append(c)
            if c.timestamps[-1] >= proc.wake_after("s"):
                proc.process_chunks({"s": pending})
                pending = []
                if not tapped:
                    moves += proc.windower._x.buf is not held
                    held = proc.windower._x.buf
                    f = proc.model.bound(100, 2)._fused
                    bound_outside += bool(f and f.bound_at != f.own)
        outs.append(out)
        assert proc.windower.fast_hops > 100 and proc.windower.gaps == 2
    assert moves > 5 and bound_outside > 100  # the held buffers moved many times; the model read them in place
    mine, ref = outs
    assert len(mine) == len(ref) > 200
    for a, b in zip(mine, ref):
        assert np.array_equal(a.data, b.data) and np.array_equal(a.timestamps, b.timestamps) and np.array_equal(a.device_times, b.device_times)
