"""The live model run through onnxruntime's C API (`sensorlab/inference/_ort.c`, `ort_ext`): the
same graph, the same session options, the same answers as onnxruntime's Python `session.run`, bit
for bit — for every kind of mapping, recurrent state fed back and reset at gaps, windows read at
every float alignment — and the same messages when onnxruntime refuses; without the library
(`SENSORLAB_ORT_LIBRARY` pointing elsewhere) the engine says why and runs through the Python
binding with the same predictions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from onnx_models import _save, batch_size_model, fake_batch_axis_model, max_model, stateful_batch_axis_model, stateful_sum_model
from test_bound import cases
from test_zero_copy import conv_model

from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.inference import InferenceProcessor, LoadedModel, ModelError, ModelMapping
from sensorlab.inference.bound import _window_view
from sensorlab.inference.fused import PROBS, fused_graph
from sensorlab.inference.model import session_options
from sensorlab.inference.ort_ext import ort_path

DEMO = Path(__file__).resolve().parents[2] / "sensorlab" / "resources" / "models"
ROOT = Path(__file__).resolve().parents[2]


def native_in_use(bound):
    """The bound call's fused graph, failing the test when it does not run through the C API."""
    w = np.zeros(bound._window.shape, np.float32)
    bound(w)
    f = bound._fused
    assert f, "the model's graph was not fused"
    if f.native is None:
        pytest.fail(f"the C API path is not in use, so this test cannot run on it: {ort_path()} {f.native_error}")
    bound.reset()
    return f


def all_models(tmp_path):
    """(name, path, mapping, samples, channels) for every model the tests build, and the demo builds."""
    yield from cases(tmp_path)
    m = lambda **k: ModelMapping(stream="s", window=0.2, hop=0.1, **k)  # noqa: E731
    yield "state without a naming convention", stateful_sum_model(tmp_path / "mem.onnx", samples=20, state=("memory", "memory_update"), scores="scores", classes=2), m(scores_kind="logits", labels=["up", "down"],
                                                                                         state={"memory_update": "memory"}), 20, 1  # fmt: skip
    yield "state with a batch axis", stateful_batch_axis_model(tmp_path / "sn.onnx"), m(scores_kind="probabilities", labels=["sum"]), 20, 1
    yield "batch size score", batch_size_model(tmp_path / "bs.onnx"), m(scores_kind="logits", labels=["m", "n"]), 20, 1
    yield "max, two channels", max_model(tmp_path / "mx.onnx", 2), m(scores_kind="logits", labels=["a", "b"]), 20, 2
    yield "fake batch axis", fake_batch_axis_model(tmp_path / "fb.onnx"), m(scores_kind="probabilities", labels=["v"]), 20, 1
    yield "1-D CNN, 3 channels", conv_model(tmp_path / "cnn.onnx", 3), m(mean=[0.1, 0.2, -0.3], std=[1.0, 2.0, 0.5], scores_kind="logits",
                                                                         labels=["a", "b", "c", "d"]), 20, 3  # fmt: skip
    for file in ("demo_clap.onnx", "demo_clap.int8.onnx"):
        lm = LoadedModel(DEMO / file)
        n, c = [int(v) for v in lm.contract.input["shape"]]
        yield file, DEMO / file, None, n, c


class Reference:
    """onnxruntime's Python `session.run` on the same fused graph, the state fed back by hand."""

    def __init__(self, bound):
        graph, self.raw = fused_graph(bound.model, int(bound.scores.size), bound._pair, bound._kind)
        self.sess = ort.InferenceSession(graph, sess_options=session_options(), providers=["CPUExecutionProvider"])
        self.bound, self.pairs = bound, list(bound.model.state_pairs.items())
        self.reset()

    def reset(self):
        self.state = {i: np.zeros_like(sin) for (_sout, sin), (_o, i) in zip(self.bound._state, self.pairs)}

    def __call__(self, window, in_place: bool):
        """``in_place``: the window as it lies (session.run reads a C-contiguous float32 array where it
        is, and a reduction's vector loop may sum in another order at another alignment), else a copy."""
        b = self.bound
        if in_place:
            x = window.reshape(b._fused.input.shape)
            assert x.ctypes.data == window.ctypes.data
        else:
            x = np.zeros(b._fused.input.shape, np.float32)
            _window_view(x, b.model.layout, *window.shape)[...] = window
        got = self.sess.run([PROBS] + [o for o, _i in self.pairs], {self.raw: x, **b._constants, **self.state})
        for (o, i), new in zip(self.pairs, got[1:]):
            self.state[i] = new
        return got[0]


def test_every_model_gives_session_runs_answers_bit_for_bit_at_every_alignment_with_state_and_gaps(tmp_path):
    rng = np.random.default_rng(12)
    seen = 0
    for name, path, mapping, samples, channels in all_models(tmp_path):
        bound = LoadedModel(path, mapping).bound(samples, channels)
        f = native_in_use(bound)
        ref = Reference(bound)
        held = (rng.normal(size=(samples + 8, channels)) * 3).astype(np.float32)
        for i in range(24):
            if i in (9, 17):  # a gap: the state starts again from zero on both
                bound.reset()
                ref.reset()
            held[:] = (rng.normal(size=held.shape) * 3).astype(np.float32)
            first = i % 8  # every float alignment of the window's first sample (32-byte vectors: 8 floats)
            window = held[first : first + samples]
            in_place = i % 3 != 2 and f.zero_copy
            if i % 3 == 2:
                p = bound(window.copy(), np.empty((1, bound.classes), np.float32))  # copied into the bound input
                assert f.bound_at == f.own
            else:
                p = bound(window, np.empty((1, bound.classes), np.float32), window.ctypes.data)  # read where it lies (when the layout allows)
                assert f.bound_at == (window.ctypes.data if f.zero_copy else f.own), name
            want = ref(window, in_place)
            assert p.dtype == want.dtype and np.array_equal(p, want), f"{name}: window {i}: {p} against session.run's {want}"
            for (_sout, sin), (_o, inp) in zip(bound._state, ref.pairs):
                assert np.array_equal(sin, ref.state[inp]), f"{name}: window {i}: the state fed back differs"
        seen += 1
    assert seen == 14


def test_the_python_binding_path_gives_the_same_predictions(tmp_path):
    """The fallback (onnxruntime's Python IOBinding) and the C API path: the same bits, state included."""
    rng = np.random.default_rng(2)
    for name, path, mapping, samples, channels in all_models(tmp_path):
        native = LoadedModel(path, mapping).bound(samples, channels)
        native_in_use(native)
        python = LoadedModel(path, mapping).bound(samples, channels)
        native_in_use(python).native = None
        for i in range(8):
            if i == 5:
                native.reset()
                python.reset()
            w = (rng.normal(size=(samples, channels)) * 3).astype(np.float32)
            assert np.array_equal(native(w), python(w)), f"{name}: window {i}"


def failing_model(path):
    """``scores = table[int(max(x))]``: runs while every sample is below 4, fails (Gather out of bounds) on a larger one."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", 1])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1])
    table = helper.make_tensor("table", TensorProto.FLOAT, [4], [0.1, 0.2, 0.3, 0.4])
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1, 1])
    nodes = [helper.make_node("ReduceMax", ["x"], ["m"], keepdims=0), helper.make_node("Cast", ["m"], ["i"], to=TensorProto.INT64),
             helper.make_node("Gather", ["table", "i"], ["g"]), helper.make_node("Reshape", ["g", "shape"], ["scores"])]  # fmt: skip
    return _save(helper.make_graph(nodes, "fails", [x], [y], initializer=[table, shape]), path)


def test_an_error_mid_run_is_the_python_bindings_message_and_stops_only_the_models_stream(tmp_path):
    path = failing_model(tmp_path / "fails.onnx")
    mapping = ModelMapping(stream="s", window=0.2, hop=0.2, scores_kind="probabilities", labels=["v"])
    messages = []
    for use_native in (True, False):
        bound = LoadedModel(path, mapping).bound(20, 1)
        f = native_in_use(bound)
        if not use_native:
            f.native = None
        assert np.allclose(bound(np.full((20, 1), 2.5, np.float32)), 0.3)
        with pytest.raises(ModelError) as e:
            bound(np.full((20, 1), 9.0, np.float32))
        messages.append(str(e.value))
        assert np.allclose(bound(np.full((20, 1), 1.0, np.float32)), 0.2)  # a failed run leaves the session usable
    assert messages[0] == messages[1], "the C API path's message differs from the Python binding's"
    assert "onnxruntime failed on input 'x' (Error in execution: " in messages[0] and "indices element out of data bounds" in messages[0] and "check the mapping's layout" in messages[0]
    # In the engine: the usual hop's window (read in place) fails; the processor's process raises it, so
    # `ProcessorBase` stops this model's streams with that message (tests/inference/test_engine.py).
    proc = InferenceProcessor(LoadedModel(path, mapping), stale_after=1e9)
    proc.open({"s": StreamInfo("s", StreamKind.TIMESERIES, 100.0, sample_shape=(1,), channel_names=("v",))})
    out = []
    proc._sink = lambda name, c: out.append(c)
    ts = 10.0 + np.arange(200) / 100.0
    x = np.full((200, 1), 1.0, np.float32)
    x[120:] = 9.0
    with pytest.raises(ModelError) as e:
        for i in range(0, 200, 10):
            c = Chunk(x[i : i + 10], ts[i : i + 10])
            if c.timestamps[-1] >= proc.wake_after("s"):
                proc.process_chunks({"s": [c]})
            else:
                proc.windower.push_chunks([c])
    assert proc.model.bound(20, 1)._fused.native is not None
    assert str(e.value) == messages[0]
    assert len(out) == 6 and all(np.allclose(c.data, 0.2) for c in out)  # the windows before the failing one (samples 0–119) were predicted


def test_a_graph_onnxruntime_refuses_is_refused_with_its_own_message():
    from sensorlab.inference.ort_ext import native

    ext = native()
    if ext is None:
        pytest.fail(f"the C API path is off: {ort_path()}")
    x = np.zeros((1, 4), np.float32)
    with pytest.raises(ext.OrtError) as mine:
        ext.Session(b"not a model", [("x", x.ctypes.data, [1, 4], 1, x.nbytes)], [("y", x.ctypes.data, [1, 4], 1, x.nbytes)], 0, 0, [], [x])
    with pytest.raises(Exception) as theirs:
        ort.InferenceSession(b"not a model", sess_options=session_options())
    assert str(mine.value).startswith("[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : ")
    assert str(mine.value).split(" : ")[:3] == str(theirs.value).split(" : ")[:3]


def run_elsewhere(code: str, **env) -> str:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT), **env})  # fmt: skip
    assert r.returncode == 0, r.stderr
    return r.stdout


ENGINE_RUN = """
import numpy as np, sys
sys.path.insert(0, "tests/inference")
from onnx_models import stateful_sum_model
from pathlib import Path
from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.inference import InferenceProcessor, LoadedModel, ModelMapping
from sensorlab.inference.ort_ext import ort_path
print(ort_path())
path = stateful_sum_model(Path({dir!r}) / "s.onnx")
proc = InferenceProcessor(LoadedModel(path, ModelMapping(stream="s", window=0.2, hop=0.1, scores_kind="probabilities", labels=["sum"])), stale_after=1e9)
proc.open({{"s": StreamInfo("s", StreamKind.TIMESERIES, 100.0, sample_shape=(1,), channel_names=("v",))}})
out = []
proc._sink = lambda name, c: out.append(c)
x = (np.random.default_rng(1).normal(size=(400, 1))).astype(np.float32)
ts = 5.0 + np.arange(400) / 100.0
ts[200:] += 0.5  # a gap: the state resets
for i in range(0, 400, 5):
    c = Chunk(x[i : i + 5], ts[i : i + 5])
    if ts[i + 4] >= proc.wake_after("s"):
        proc.process_chunks({{"s": [c]}})
    else:
        proc.windower.push_chunks([c])
print("native" if proc.model.bound(20, 1)._fused.native is not None else "python")
print(np.concatenate([c.data for c in out]).tobytes().hex())
print(np.concatenate([np.concatenate([c.timestamps, c.device_times]) for c in out]).tobytes().hex())
"""


def test_without_the_library_the_engine_says_why_and_runs_through_the_python_binding(tmp_path):
    code = ENGINE_RUN.format(dir=str(tmp_path))
    native = run_elsewhere(code).splitlines()
    assert native[0].startswith("live model run: onnxruntime's C API") and native[1] == "native"
    missing = run_elsewhere(code, SENSORLAB_ORT_LIBRARY=str(tmp_path / "nowhere.so")).splitlines()
    assert missing[0].startswith("live model run: onnxruntime's Python binding (the C API path is off: cannot load onnxruntime's library: ")
    assert "nowhere.so" in missing[0] and missing[1] == "python"
    assert missing[2] == native[2] and len(native[2]) > 100  # the same predictions, bit for bit
    assert missing[3] == native[3]  # stamped with the same window ends and starts
    libm = next(p for p in ("/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6", "/lib64/libm.so.6") if Path(p).exists())
    other = run_elsewhere(code, SENSORLAB_ORT_LIBRARY=libm).splitlines()
    assert "exports no OrtGetApiBase" in other[0] and other[1] == "python" and other[2:] == native[2:]
    off = run_elsewhere(code, SENSORLAB_ORT_NATIVE="0").splitlines()
    assert "SENSORLAB_ORT_NATIVE=0" in off[0] and off[1] == "python" and off[2:] == native[2:]
    version = run_elsewhere("from sensorlab.cli import app; app(['--version'])", SENSORLAB_ORT_LIBRARY=str(tmp_path / "nowhere.so"))
    assert "live model run: onnxruntime's Python binding (the C API path is off: cannot load" in version


def one_sample_chunks(x, ts, how):
    """The stream as a device with one sample a chunk hands it over: views of one block (each chunk's
    arrays right after the previous one's in memory: the hop copies such runs as one block) or
    copies (each chunk its own arrays), or runs of views broken by a copy every 7th chunk."""
    for i in range(len(ts)):
        copy = how == "copies" or how == "broken runs" and i % 7 == 3
        yield Chunk(x[i : i + 1].copy(), ts[i : i + 1].copy()) if copy else Chunk(x[i : i + 1], ts[i : i + 1])


def check_stats_arithmetic(seen, period):
    """Each emitted chunk's stats, read as the sink got it, are `_emit_one`'s formulas' bits: the
    running mean, the lag from the window's last sample, the counted times."""
    for k, (c, lat, mean, lag, last_time, last_arrival) in enumerate(seen):
        end, arrival = float(c.timestamps[-1]), float(c.arrival_times[-1])  # (a chunk of several windows: the newest)
        assert lag == (arrival - end + period) * 1000.0 and last_time == end and last_arrival == arrival
        if k:
            prev = seen[k - 1][2]
            assert mean == (lat if prev != prev else (1 - 0.1) * prev + 0.1 * lat)


@pytest.mark.parametrize("kind,chunks", [("stateful", "5 samples"), ("cnn", "5 samples"), ("cnn", "one-sample views"),
                                         ("stateful", "one-sample copies"), ("cnn", "one-sample broken runs")])  # fmt: skip
def test_the_whole_usual_wake_up_is_one_c_call_with_the_predictions_and_stats_of_the_python_paths(tmp_path, kind, chunks):
    """`_ort_wake.h`'s `Session.wake` (the hop, the run of its window where it lies, the predictions
    chunk, the stats, the hand-over) against the Python hop + the bound call + `_emit_one`, and the
    general path (a tap): the same chunks, bit for bit, and the same stats, through held buffers that
    grow and move, gaps (a stateful model's state reset; with one-sample chunks, inside a run of
    chunks that follow each other in memory) and a wake-up with several windows."""
    from onnx_models import stateful_sum_model

    if kind == "stateful":
        path, ch = stateful_sum_model(tmp_path / "s.onnx"), 1
        mapping = ModelMapping(stream="s", window=0.2, hop=0.1, scores_kind="probabilities", labels=["sum"])
    else:
        path, ch = conv_model(tmp_path / "c.onnx", 2), 2
        mapping = ModelMapping(stream="s", window=0.5, hop=0.1, mean=[0.1, -0.2], std=[1.5, 0.5], scores_kind="logits", labels=["a", "b", "c", "d"])
    rng = np.random.default_rng(8)
    total = 4000 if chunks == "5 samples" else 2400
    ts = 20.0 + np.arange(total) / 100.0
    ts[1500:] += 0.35  # gaps: the grid restarts, the state resets
    ts[1999:] += 2.0
    x = rng.normal(size=(total, ch)).astype(np.float32)
    if chunks == "5 samples":
        parts = [Chunk(x[i : i + 5], ts[i : i + 5]) for i in range(0, total, 5)]
    else:
        parts = list(one_sample_chunks(x, ts, chunks.split(" ", 1)[1]))
    info = StreamInfo("s", StreamKind.TIMESERIES, 100.0, sample_shape=(ch,), channel_names=tuple(f"c{i}" for i in range(ch)))
    runs = {}
    for how in ("wake", "python hop", "tap"):
        proc = InferenceProcessor(LoadedModel(path, mapping), stale_after=1e9)
        proc.open({"s": info})
        proc.windower.compiled = how != "python hop"
        out: list[Chunk] = []
        seen: list = []

        def sink(name, c, out=out, seen=seen, proc=proc):
            st = proc.stats[name]
            out.append(c)
            seen.append((c, st.latency_ms, st.latency_ms_mean, st.lag_ms, st.last_time, st.last_arrival))

        proc._sink = sink
        if how == "tap":
            proc.taps.append(lambda *a: None)
        served = [0]
        pending = []
        stall = 1200 // len(parts[0].timestamps)  # a late wake-up at sample 1200: 25 samples (2.5 hops) held back, then several windows ready at once
        for i, c in enumerate(parts):
            pending.append(c)
            late = stall <= i < stall + 25 // len(c.timestamps)
            if float(c.timestamps[-1]) >= proc.wake_after("s") and not late or i == stall + 25 // len(c.timestamps):
                if proc._fast and not isinstance(proc._fast, _Counting):
                    proc._fast = _Counting(proc._fast, served)
                proc.process_chunks({"s": pending})
                pending = []
        st = proc.stats[proc.name]
        runs[how] = (out, (st.windows, st.resets, st.samples, st.first_time, st.last_time))
        check_stats_arithmetic(seen, 0.01)
        if how == "wake":
            assert proc._fast, f"the wake-up is not one C call: {ort_path()}"
            assert served[0] > 150 and proc.model.bound(proc.windower.n, ch)._fused.native is not None
        else:
            assert served[0] == 0
    ref_out, ref_stats = runs["tap"]
    assert ref_stats[1] >= 2 and len(ref_out) > 200 and any(len(c.timestamps) > 1 for c in ref_out)  # (the late wake-up's windows: one chunk)
    for how in ("wake", "python hop"):
        out, stats = runs[how]
        assert stats == ref_stats, how
        assert len(out) == len(ref_out), how
        for a, b in zip(out, ref_out):
            assert np.array_equal(a.data, b.data) and np.array_equal(a.timestamps, b.timestamps) and np.array_equal(a.device_times, b.device_times), how
            assert a.data.dtype == np.float32 and a.timestamps.dtype == np.float64 and a.arrival_times.shape == a.timestamps.shape
            assert a.data.flags.c_contiguous and a.data.flags.writeable and a.data.shape == b.data.shape and type(a) is Chunk


class _Counting:
    """Counts the calls of the engine's one-call wake-up (`InferenceProcessor._fast`)."""

    def __init__(self, call, served):
        self.call, self.served = call, served

    def __call__(self, *a):
        self.served[0] += 1
        return self.call(*a)
