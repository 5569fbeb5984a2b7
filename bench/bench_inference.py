"""Live inference: engine time per window ÷ bare onnxruntime ``run``, and sample-to-prediction latency.

Models, built with the ``onnx`` helper API: a *small* 1-D CNN (Conv 16 filters × 8 taps,
stride 4, ReLU, global average pool, a 16 → 3 MatMul; ~1 k parameters, a microcontroller-size
sensor model that runs in ~0.05 ms) and, for audio, a *KWS-size* one (two more 32-filter
convolutions, ~1–2 ms a window). Two feeds:

- **IMU**: 100 Hz × 6, 1 s windows every 0.25 s (no resampling);
- **audio**: 48 kHz mono resampled to 16 kHz, 1 s windows every 0.25 s.

*Engine per window* is the CPU time of everything the engine's thread does with the samples,
divided by the windows it ran: `InferenceProcessor.process_chunks` with the device's 10 ms
chunks it is handed when a window can be complete (as its ring does live,
`ProcessorBase.wake_after`; the device thread's test of that is not counted), i.e. joining
their timestamps and samples into the windower's held buffers, the gap check, cutting and
resampling the new samples (`Windower.push_chunks`), the model call (`BoundRun`: the raw
window copied into the bound input of the fused graph — the scaling, the model and the
probabilities in one onnxruntime run, `inference/fused.py` — and the probabilities copied
out), the stats and the emitted chunk. Resampling is timed on its own as well, so the audio
rows also give the engine without it. The stage split reports the windower's hop as one stage
("join + push": since issue 12's seventh round the join, gap check and cut are one method;
older code is split into join and push as before).
Two baselines on the same prepared inputs, one window per call, with the same one-thread
session: *bare run* is ``session.run(None, {name: x})`` as a user writes it (allocating its
outputs), and *bare IOBinding* is ``run_with_iobinding`` with the input and output bound once
(the input copied into the bound array). All are CPU time of the measuring thread
(`time.thread_time`), so a busy machine preempting the benchmark does not count as work;
rounds alternate engine and bare and the median round is reported. A second pass with timers
around each stage (~0.3 µs each) says where the engine's microseconds go.

*Live* runs the engine as it runs in the studio: a real-time emulated stream (10 ms chunks)
and the processor on its own thread in an `Acquisition`. Its thread's CPU time per window adds
what the replay leaves out (waking up, reading the ring), and *latency* is prediction time −
the window's last sample for every window. A window ends one sample period after its last
sample (``end = start + length``; the samples are at ``start + k / rate``, k < n), and it runs
when that sample has arrived, so measured from the window's end the latency would come out one
period too small (below zero at 100 Hz on an idle machine). A sample is in a window whose last
sample is less than one hop after it, so sample-to-prediction ≤ hop + that latency.

Also measured: the bundled demo clap detector (fp32 and int8) and, with ``--real DIR`` (the
work folder of ``bench/real_training.py``), the trained HAPT activity model and the FSDD keyword
model (log-mel in the graph), each configured by its own contract; *late wake-ups* (k windows
ready at once, which micro-batching runs in one call) against one run per window, alternating;
and *the floor*: an empty call chain as deep as a wake-up's, one NumPy call, and onnxruntime's
fixed cost per call (a graph that copies one float). ``--profile`` prints a cProfile of one
wake-up (thread CPU time, so a preempted call is not charged the wait); ``--cold-hot`` the hop's
cost with the model run between hops (as live) and with a stub in its place (the same hop work
back to back, caches warm): how much of the engine's own time is caches the model run cooled.

Run: ``.venv/bin/python bench/bench_inference.py [--real DIR] [--profile]``. ``run()`` returns rows
``{"benchmark", "value", "baseline", "ratio", "goal"}``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HOP = 0.25
#: ``--python-hop``: the engine's usual hop in Python even where the C one (`_hop.c`) is built.
PYTHON_HOP = False


def _hop_choice(proc) -> None:
    if PYTHON_HOP and hasattr(proc.windower, "compiled"):
        proc.windower.compiled = False


def cnn_model(path: Path, channels: int, kws: bool = False) -> Path:
    """The small CNN, or with ``kws`` two more 32-filter convolutions (a keyword-spotting-size model)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    f = 32 if kws else 16
    init = [numpy_helper.from_array(rng.normal(size=(f, channels, 8)).astype(np.float32), "w"),
            numpy_helper.from_array(rng.normal(size=(f, 3)).astype(np.float32), "fc")]  # fmt: skip
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]), helper.make_node("Conv", ["xt", "w"], ["c"], strides=[4]),
             helper.make_node("Relu", ["c"], ["r"])]  # fmt: skip
    if kws:
        for i in (1, 2):
            init.append(numpy_helper.from_array((rng.normal(size=(f, f, 3)) / 8).astype(np.float32), f"w{i}"))
            nodes += [helper.make_node("Conv", [nodes[-1].output[0], f"w{i}"], [f"c{i}"], strides=[2]), helper.make_node("Relu", [f"c{i}"], [f"r{i}"])]
    nodes += [helper.make_node("ReduceMean", [nodes[-1].output[0]], ["m"], axes=[2], keepdims=0), helper.make_node("MatMul", ["m", "fc"], ["logits"])]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", channels])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])
    model = helper.make_model(helper.make_graph(nodes, "cnn", [x], [y], initializer=init), opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, str(path))
    return path


def _mapping(stream: str, rate: float) -> "ModelMapping":  # noqa: F821
    from sensorlab.inference import ModelMapping

    return ModelMapping(stream=stream, rate=rate, window=1.0, hop=HOP, scores_kind="logits", labels=["a", "b", "c"])


class _Timed:
    """A `BoundRun` whose call is timed (for ``stages``)."""

    def __init__(self, call, bound):
        self.call, self.features, self.reset, self.batch = call, bound.features, bound.reset, bound.batch  # batch: timed around _run_batch
        self.prepare = getattr(bound, "prepare", None)
        self.classes = getattr(bound, "classes", None)

    def __call__(self, window, out=None, *address):
        return self.call(window) if out is None else self.call(window, out, *address)


def engine_vs_bare(model: Path, rate_in: float, rate: float, channels: int, seconds: float = 20.0, rounds: int = 5, per_chunk: bool = False,
                   stages: bool = False, contract: bool = False, wake_every: int = 1, batch: bool = True) -> dict:  # fmt: skip
    """Median over ``rounds`` of engine and bare CPU ms per window (replayed 10 ms chunks, ``seconds`` of stream each).

    The engine's time is what its thread does when woken: `process_chunks` with the chunks since
    the last wake-up, as `ChunkRing.since_chunks` hands them over live (unjoined, once the newest
    passes `wake_after`; the device thread's check of that is not the engine's work; the
    windower joins their timestamps and samples), or with ``per_chunk`` one `process` call per chunk. Resampling (the Windower's
    filter) is timed on its own too, so the engine is also reported without it. With ``stages``
    the wake-ups are split further (join, Windower.push, the model call, the rest) by timers
    around them (~0.3 µs each). ``contract``: the model configures itself from its own contract
    (a trained model: its stream, channels, window, hop and rate) instead of the bench mapping.
    ``wake_every`` k > 1: the engine is handed its chunks only every k-th time a window is due (a
    late wake-up: k windows ready at once, which a model with a free batch axis runs in one call);
    the bare baselines then also get ``bare_batch``: one ``session.run`` per k windows. ``batch=False``
    makes the engine run such windows one by one (as before micro-batching), for comparison."""
    import onnxruntime as ort

    from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
    from sensorlab.inference import InferenceProcessor, LoadedModel

    lm = LoadedModel(model) if contract else LoadedModel(model, _mapping("s", rate))
    stream = lm.mapping.stream if contract else "s"
    names = tuple(str(c) for c in lm.mapping.channels) if contract and lm.mapping.channels else tuple(f"ch{i}" for i in range(channels))
    n = int(seconds * rate_in)
    step = max(1, int(rate_in * 0.01))
    x = np.random.default_rng(1).normal(size=(n, channels)).astype(np.float32)
    info = StreamInfo(stream, StreamKind.TIMESERIES, rate_in, sample_shape=(channels,), channel_names=names)
    tt = time.thread_time
    res: dict[str, list[float]] = {k: [] for k in ("engine", "bare", "iob", "bare_batch", "resample", "join", "push", "model", "rest")}
    inputs: list[np.ndarray] = []
    windows = 0
    for r in range(rounds + 1):  # round 0 collects the model inputs (a tap copies them) and is not timed
        ts = 1000.0 + r * 2 * seconds + np.arange(n) / rate_in
        chunks = [Chunk(x[i : i + step], ts[i : i + step]) for i in range(0, n, step)]  # made by the device thread
        proc = InferenceProcessor(lm, stale_after=1e9)
        proc.open({stream: info})
        proc._sink = lambda name, chunk: None
        proc._batch = batch
        _hop_choice(proc)
        if r == 0:
            proc.taps.append(lambda s, e, x, p: inputs.extend(np.array(x[i : i + 1]) for i in range(len(x))))  # one window each
        w = proc.windower
        acc = {"resample": 0.0, "push": 0.0, "model": 0.0, "join": 0.0}

        def timed(key, f, acc=acc):
            def wrapper(*args, **kwargs):
                t = tt()
                try:
                    return f(*args, **kwargs)
                finally:
                    acc[key] += tt() - t

            return wrapper

        if hasattr(w, "_resampler"):  # the incremental resampling in its own object (since session 11)
            w._resampler.filter = timed("resample", w._resampler.filter)
        else:
            w._filter = timed("resample", w._filter)
        w._cut_held = timed("resample", w._cut_held)
        if stages and hasattr(w, "take"):  # the engine's call in issue 12's eighth round only (push_chunks without the Ready)
            w.take = timed("push", w.take)
        elif stages and hasattr(w, "push_chunks"):
            # The hop in one call (`Windower.push_chunks`: joining the chunks into the held
            # buffers, the gap check and the cut are one method, `_hop`): one stage, "join + push".
            w.push_chunks = timed("push", w.push_chunks)
        elif stages:
            w.push_parts = timed("push", w.push_parts)
            w._join = timed("join", w._join)
            if hasattr(w, "_drain_in_place"):  # the hop's chunks joined straight into the held buffers: that join, without the cutting it calls
                seg_t, seg, dip = [0.0], w._push_segment, w._drain_in_place

                def seg_timed(*a, **k):
                    t = tt()
                    try:
                        return seg(*a, **k)
                    finally:
                        seg_t[0] += tt() - t

                def dip_timed(*a, acc=acc):
                    t, s0 = tt(), seg_t[0]
                    try:
                        return dip(*a)
                    finally:
                        acc["join"] += tt() - t - (seg_t[0] - s0)

                w._push_segment, w._drain_in_place = seg_timed, dip_timed
        if stages:
            bound = lm.bound(w.n, channels)
            lm._bound = _Timed(timed("model", bound.__call__), bound)
            if hasattr(proc, "_run_batch"):  # several windows in one run (micro-batching)
                proc._run_batch = timed("model", proc._run_batch)
        t_engine = 0.0
        pending: list[Chunk] = []
        groups = [[c] for c in chunks] if per_chunk else None
        late = (wake_every - 1) * lm.mapping.hop  # a late wake-up: k - 1 more windows have become ready meanwhile
        for c in chunks if not per_chunk else []:
            pending.append(c)
            if c.timestamps[-1] > proc.wake_after(stream) + late:  # the device thread's test (ChunkRing.append)
                t0 = tt()
                proc.process_chunks({stream: pending})  # as the processor's thread gets them (`ChunkRing.since_chunks`)
                t_engine += tt() - t0
                pending = []
        for g in groups or []:
            t0 = tt()
            proc.process({stream: g[0]})
            t_engine += tt() - t0
        if stages:
            lm._bound = bound
        windows = proc.stats[proc.name].windows
        if r == 0:
            continue
        sess, name = lm.sess, lm.window_input.name
        t0 = tt()
        for a in inputs:
            sess.run(None, {name: a})  # what a user writes: one window per call
        t_bare = tt() - t0
        # The second baseline: bare IOBinding, the input array and the output bound once.
        buf = np.zeros_like(inputs[0])
        out = np.zeros(lm.sess.run(None, {name: buf})[lm.scores_index].shape, np.float32)
        io = sess.io_binding()
        io.bind_input(name, "cpu", 0, np.float32, list(buf.shape), buf.ctypes.data)
        io.bind_output(lm.outputs[lm.scores_index].name, "cpu", 0, np.float32, list(out.shape), out.ctypes.data)
        for o in lm.outputs[:lm.scores_index] + lm.outputs[lm.scores_index + 1 :]:
            io.bind_output(o.name, "cpu")
        t0 = tt()
        for a in inputs:
            np.copyto(buf, a)
            sess.run_with_iobinding(io)
        t_iob = tt() - t0
        t_batch = 0.0
        if wake_every > 1 and lm.batch_ok:  # the same windows, k per session.run
            stacked = np.concatenate(inputs)
            t0 = tt()
            for i in range(0, len(stacked), wake_every):
                sess.run(None, {name: stacked[i : i + wake_every]})
            t_batch = tt() - t0
        acc["push"] -= acc["join"]  # push_parts joins the chunks (timed apart) and cuts the windows
        for k, v in (("engine", t_engine), ("bare", t_bare), ("iob", t_iob), ("bare_batch", t_batch), *acc.items()):
            res[k].append(v * 1000 / windows)
        res["rest"].append((t_engine - acc["join"] - acc["push"] - acc["model"]) * 1000 / windows)
    out = {k: statistics.median(v) for k, v in res.items() if v}
    out["ratio"] = statistics.median(e / b for e, b in zip(res["engine"], res["bare"]))
    out["ratio_iob"] = statistics.median(e / b for e, b in zip(res["engine"], res["iob"]))
    out["ratio_nores"] = statistics.median((e - q) / b for e, q, b in zip(res["engine"], res["resample"], res["bare"]))
    if any(res["bare_batch"]):
        out["ratio_batch"] = statistics.median(e / b for e, b in zip(res["engine"], res["bare_batch"]))
    out["windows"] = windows
    assert ort  # the baselines use onnxruntime's public API only
    return out


def _replay(model: Path, rate_in: float, rate: float, channels: int, seconds: float, contract: bool = False):
    """A processor on ``model`` and the chunks of ``seconds`` of stream, as `engine_vs_bare` replays them."""
    from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
    from sensorlab.inference import InferenceProcessor, LoadedModel

    lm = LoadedModel(model) if contract else LoadedModel(model, _mapping("s", rate))
    stream = lm.mapping.stream if contract else "s"
    names = tuple(str(c) for c in lm.mapping.channels) if contract and lm.mapping.channels else tuple(f"ch{i}" for i in range(channels))
    n, step = int(seconds * rate_in), max(1, int(rate_in * 0.01))
    x = np.random.default_rng(1).normal(size=(n, channels)).astype(np.float32)
    ts = 1000.0 + np.arange(n) / rate_in
    proc = InferenceProcessor(lm, stale_after=1e9)
    proc.open({stream: StreamInfo(stream, StreamKind.TIMESERIES, rate_in, sample_shape=(channels,), channel_names=names)})
    proc._sink = lambda name, chunk: None
    _hop_choice(proc)
    return proc, stream, [Chunk(x[i : i + step], ts[i : i + step]) for i in range(0, n, step)]


def profile_hop(model: Path, rate_in: float, rate: float, channels: int, seconds: float = 60.0, top: int = 22, contract: bool = False) -> list[str]:
    """cProfile of the engine's wake-ups only (one window each, after a warm-up replay): each
    function's own time and calls per window, heaviest first. cProfile's own cost (~0.3–1 µs a
    call) inflates many-call functions: read the calls column beside the time."""
    import cProfile
    import pstats

    proc, stream, chunks = _replay(model, rate_in, rate, channels, seconds, contract)
    prof = cProfile.Profile(time.thread_time_ns, 1e-9)  # CPU time of this thread: a preempted call is not charged the wait
    pending: list = []
    before = 0
    for i, c in enumerate(chunks):
        pending.append(c)
        if c.timestamps[-1] > proc.wake_after(stream):
            warm = i < len(chunks) // 5  # the first fifth warms the caches and the bound call up
            if warm:
                before = proc.stats[proc.name].windows
            else:
                prof.enable()
            proc.process_chunks({stream: pending})
            if not warm:
                prof.disable()
            pending = []
    st = pstats.Stats(prof)
    windows = max(1, proc.stats[proc.name].windows - before)
    rows = sorted(st.stats.items(), key=lambda kv: -kv[1][2])[:top]  # (cc, nc, tottime, cumtime, callers)
    out = [f"{'µs/window':>9} {'calls/window':>12}  function   ({windows} windows profiled; total {sum(v[2] for v in st.stats.values()) * 1e6 / windows:.0f} µs/window)"]
    for (file, line, fn), (_cc, nc, tot, _cum, _callers) in rows:
        out.append(f"{tot * 1e6 / windows:9.1f} {nc / windows:12.1f}  {Path(file).name}:{line} {fn}")
    return out


def cold_vs_hot(model: Path, rate_in: float, channels: int, rounds: int = 6, contract: bool = False) -> dict:
    """The engine's hop and the rest of a wake-up (thread CPU µs per window), once with the model
    run between two hops, as live, and once with a stub in its place, so the same hop work runs
    back to back: how much of the hop's cost is caches the model run cooled. Rounds alternate.
    ``{"model": {"hop", "call", "rest"}, "stub": {...}}``, medians over rounds."""
    tt = time.thread_time_ns
    res: dict[str, dict[str, list[float]]] = {m: {"hop": [], "call": [], "rest": []} for m in ("model", "stub")}
    for r in range(rounds):
        for mode in ("model", "stub") if r % 2 else ("stub", "model"):
            proc, stream, chunks = _replay(model, rate_in, rate_in, channels, 20.0, contract)
            w, acc, pending, total, first = proc.windower, {"hop": 0, "call": 0}, [], 0, None
            call = "take" if hasattr(w, "take") else "push_chunks"  # the engine's call: `take` in issue 12's eighth round
            take = getattr(w, call)

            def timed_take(*a, take=take, acc=acc):  # (chunks[, one]: the engine passes `one` since issue 12's eleventh round)
                t = tt()
                try:
                    return take(*a)
                finally:
                    acc["hop"] += tt() - t

            setattr(w, call, timed_take)
            for c in chunks:
                pending.append(c)
                if c.timestamps[-1] <= proc.wake_after(stream):
                    continue
                if first is None and proc._one:  # bound once the first window ran: time from here
                    proc._one = _TimedCall(proc._one, acc, stub=mode == "stub")
                    first = proc.stats[proc.name].windows
                    acc["hop"] = 0
                t0 = tt()
                proc.process_chunks({stream: pending})
                total += tt() - t0 if first is not None else 0
                pending = []
            n = proc.stats[proc.name].windows - first
            for k, v in (("hop", acc["hop"]), ("call", acc["call"]), ("rest", total - acc["hop"] - acc["call"])):
                res[mode][k].append(v / n / 1000)
    return {m: {k: statistics.median(v) for k, v in d.items()} for m, d in res.items()}


class _TimedCall:
    """The engine's one-window call, timed; with ``stub`` it does not run the model (the hop's work back to back)."""

    def __init__(self, one, acc: dict, stub: bool):
        self.one, self.acc, self.stub, self.classes = one, acc, stub, one.classes

    def __call__(self, window, out, *address):  # (address: the held window's, since issue 12's twelfth round)
        t = time.thread_time_ns()
        if not self.stub:
            self.one(window, out, *address)
        self.acc["call"] += time.thread_time_ns() - t
        return out


def _identity_model(path: Path) -> Path:
    """A graph that only copies one float: onnxruntime's fixed cost per call, with (almost) no model."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "id", [x], [y])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


def _per_call(model: Path, x: np.ndarray, n: int) -> dict:
    """Thread CPU µs per ``session.run`` and per ``run_with_iobinding`` (one-thread session, warmed up)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    name, out_name = sess.get_inputs()[0].name, sess.get_outputs()[0].name
    out = np.zeros_like(sess.run(None, {name: x})[0])
    io = sess.io_binding()
    io.bind_input(name, "cpu", 0, x.dtype, list(x.shape), x.ctypes.data)
    io.bind_output(out_name, "cpu", 0, out.dtype, list(out.shape), out.ctypes.data)
    tt = time.thread_time
    for _ in range(200):
        sess.run(None, {name: x})
    t0 = tt()
    for _ in range(n):
        sess.run(None, {name: x})
    run_us = (tt() - t0) * 1e6 / n
    t0 = tt()
    for _ in range(n):
        sess.run_with_iobinding(io)
    return {"run_us": run_us, "iob_us": (tt() - t0) * 1e6 / n}


def floor(model: Path, channels: int, samples: int = 100, n: int = 3000) -> dict:
    """What a window costs in Python whatever the model: an empty call chain as deep as the engine's
    wake-up path, one NumPy ufunc call on a window-sized array, onnxruntime's call on this model
    (``session.run``, ``run_with_iobinding``: thread CPU per call) and on a graph that only copies
    one float: onnxruntime's fixed cost per call (Python binding, argument checks, the run's own
    bookkeeping), which any caller pays. (onnxruntime's profiler was tried for the C++ run time
    alone: its per-node recording more than doubles the run of a sensor-size model.)"""
    tt = time.thread_time

    class Chain:  # process_chunks → push_parts → _drain → _push_segment → run_windows → bound: 6 levels
        def a(self, x):
            return self.b(x)

        def b(self, x):
            return self.c(x)

        def c(self, x):
            return self.d(x)

        def d(self, x):
            return self.e(x)

        def e(self, x):
            return self.f(x)

        def f(self, x):
            return x

    ch = Chain()
    t0 = tt()
    for _ in range(100_000):
        ch.a(1)
    chain_us = (tt() - t0) * 1e6 / 100_000
    w = np.zeros((samples, channels), np.float32)
    o = np.empty_like(w)
    t0 = tt()
    for _ in range(100_000):
        np.multiply(w, 2.0, out=o)
    ufunc_us = (tt() - t0) * 1e6 / 100_000
    x = np.random.default_rng(0).normal(size=(1, samples, channels)).astype(np.float32)
    res = {"chain_us": chain_us, "ufunc_us": ufunc_us, **_per_call(model, x, n)}
    with tempfile.TemporaryDirectory() as d:
        ident = _per_call(_identity_model(Path(d) / "id.onnx"), np.zeros((1, 1), np.float32), n)
    res["empty_run_us"], res["empty_iob_us"] = ident["run_us"], ident["iob_us"]
    return res


def live(model: Path, rate_in: float, rate: float, channels: int, seconds: float = 10.0) -> dict:
    """The engine on its thread behind a real-time stream: its CPU ms per window, and sample-to-prediction
    latency (prediction time − the window's last sample, which is one period before the window's end)."""
    from sensorlab.acquisition.clock import now
    from sensorlab.acquisition.emulated.signal import SignalSource
    from sensorlab.acquisition.hub import Acquisition
    from sensorlab.inference import InferenceProcessor, LoadedModel

    src = SignalSource("s", rate=rate_in, shape=(channels,), pattern="sine", realtime=True, chunk_size=max(1, int(rate_in * 0.01)))
    proc = InferenceProcessor(LoadedModel(model, _mapping("s", rate)))
    lags: list[float] = []
    cpu: list[float] = []
    period = 1.0 / rate
    proc.taps.append(lambda s, e, x, p: (lags.append(now() - (float(e[-1]) - period)), cpu.append(time.thread_time())))  # on the engine's thread
    acq = Acquisition([src, proc])
    acq.open()
    acq.start()
    time.sleep(seconds)
    acq.close()
    lag = np.array(lags[2:]) * 1000
    return {"lag": lag, "cpu": (cpu[-1] - cpu[2]) * 1000 / max(1, len(cpu) - 3), "windows": len(cpu) - 3}


def _load() -> str:
    return f"load {Path('/proc/loadavg').read_text().split()[0]}"


DEMO_MODELS = Path(__file__).resolve().parents[1] / "sensorlab" / "resources" / "models"


def _engine_row(label: str, model: Path, rin: float, rout: float, ch: int, contract: bool = False) -> dict:
    m = engine_vs_bare(model, rin, rout, ch, contract=contract, seconds=200.0 if rout <= 50 else 20.0)
    st = engine_vs_bare(model, rin, rout, ch, rounds=3, stages=True, contract=contract, seconds=200.0 if rout <= 50 else 20.0)
    us = lambda k: f"{st[k] * 1000:.0f}"  # noqa: E731
    resampled = rin != rout
    return {"benchmark": f"inference: engine CPU per window ÷ bare onnxruntime run, {label}, one window per wake-up, 10 ms chunks",
            "value": f"{m['engine']:.3f} ms (+{(m['engine'] - m['bare']) * 1000:.0f} µs; {m['windows']} windows × 5 rounds; {_load()})"
                     + (f"; without resampling {m['engine'] - m['resample']:.3f} ms (resampling {m['resample'] * 1000:.0f} µs)" if resampled else "")
                     + f"; µs per window: join {us('join')}, Windower.push {us('push')}" + (f" (resampling {us('resample')})" if resampled else "")
                     + f", model call (features + run + probabilities) {us('model')}, rest {us('rest')}",
            "baseline": f"bare run {m['bare']:.3f} ms; bare IOBinding {m['iob']:.3f} ms",
            "ratio": round(m["ratio"], 2) if not resampled else f"{m['ratio']:.2f} (without resampling {m['ratio_nores']:.2f})",
            "goal": "<= 1.1"}  # fmt: skip


def _batch_row(label: str, model: Path, rin: float, rout: float, ch: int, contract: bool = False, k: int = 4, reps: int = 4) -> dict:
    """k windows per wake-up: one run for the k (micro-batching) against one run per window, alternating."""
    res: dict[bool, list[dict]] = {True: [], False: []}
    for rep in range(reps):
        for batch in (True, False) if rep % 2 == 0 else (False, True):
            res[batch].append(engine_vs_bare(model, rin, rout, ch, rounds=3, stages=True, contract=contract, wake_every=k, batch=batch))
    med = lambda b, key: statistics.median(o[key] for o in res[b])  # noqa: E731
    return {"benchmark": f"inference: engine CPU per window ÷ bare onnxruntime run, {label}, {k} windows ready per wake-up (late wake-ups)",
            "value": f"one run for the {k}: {med(True, 'engine') * 1000:.0f} µs/window (model call {med(True, 'model') * 1000:.0f}); one run per window: "
                     f"{med(False, 'engine') * 1000:.0f} µs (model call {med(False, 'model') * 1000:.0f}); {reps} × 3 rounds each, alternating; {_load()}",
            "baseline": f"bare run {med(True, 'bare') * 1000:.0f} µs/window; bare batched run ({k} per call) {med(True, 'bare_batch') * 1000:.0f} µs/window",
            "ratio": f"{med(True, 'ratio'):.2f} batched (÷ bare batched {med(True, 'ratio_batch'):.2f}); one by one {med(False, 'ratio'):.2f}",
            "goal": "<= 1.1"}  # fmt: skip


def run(real: Path | None = None) -> list[dict]:
    """Every row; ``real``: the work folder of ``bench/real_training.py`` (its trained HAPT and FSDD models)."""
    rows = []
    with tempfile.TemporaryDirectory() as d:
        imu = cnn_model(Path(d) / "imu.onnx", 6)
        mono = cnn_model(Path(d) / "mono.onnx", 1)
        kws = cnn_model(Path(d) / "kws.onnx", 1, kws=True)
        feeds = (("IMU 100 Hz × 6, small CNN, 1 s window / 0.25 s hop", imu, 100.0, 100.0, 6, False),
                 ("audio 48 kHz → 16 kHz, small CNN, 1 s / 0.25 s", mono, 48000.0, 16000.0, 1, False),
                 ("audio 48 kHz → 16 kHz, KWS-size CNN, 1 s / 0.25 s", kws, 48000.0, 16000.0, 1, False),
                 ("demo clap detector fp32 (1 kHz × 3, 0.4 s / 0.1 s)", DEMO_MODELS / "demo_clap.onnx", 1000.0, 1000.0, 3, True),
                 ("demo clap detector int8", DEMO_MODELS / "demo_clap.int8.onnx", 1000.0, 1000.0, 3, True))  # fmt: skip
        if real is not None:
            fsdd = real / "runs" / "fsdd-official-long" / "model.onnx"
            feeds += (("HAPT activity CNN (trained; 50 Hz × 6, 2.56 s / 1.28 s)", real / "runs" / "hapt" / "model.onnx", 50.0, 50.0, 6, True),
                      ("FSDD keyword CNN (trained; log-mel in the graph; 8 kHz, 0.5 s / 0.25 s)", fsdd, 8000.0, 8000.0, 1, True),
                      ("FSDD keyword CNN from 48 kHz audio (÷6)", fsdd, 48000.0, 8000.0, 1, True))  # fmt: skip
        for label, model, rin, rout, ch, contract in feeds:
            if model.exists():
                rows.append(_engine_row(label, model, rin, rout, ch, contract))
        rows.append(_batch_row("IMU 100 Hz × 6, small CNN", imu, 100.0, 100.0, 6))
        rows.append(_batch_row("demo clap detector fp32", DEMO_MODELS / "demo_clap.onnx", 1000.0, 1000.0, 3, contract=True))
        f = floor(imu, 6)
        rows.append({"benchmark": "inference: the per-window floor in Python (IMU small CNN)",
                     "value": f"empty 6-deep method call chain {f['chain_us']:.2f} µs; one NumPy ufunc on a 100 × 6 window {f['ufunc_us']:.2f} µs; "
                              f"onnxruntime on a graph that copies one float: session.run {f['empty_run_us']:.1f} µs, run_with_iobinding {f['empty_iob_us']:.1f} µs ({_load()})",
                     "baseline": f"the model: session.run {f['run_us']:.1f} µs, run_with_iobinding {f['iob_us']:.1f} µs", "ratio": "", "goal": "(report)"})  # fmt: skip
        for label, model, rin, rout, ch, _c in feeds[:2]:
            m = live(model, rin, rout, ch)
            lag = m["lag"]
            rows.append({"benchmark": f"inference live ({label}): engine thread CPU per window; latency = prediction time − the window's last sample",
                         "value": f"{m['cpu']:.3f} ms CPU/window; latency median {np.median(lag):.1f} ms, p95 {np.percentile(lag, 95):.1f} ms, "
                                  f"max {lag.max():.1f} ms (n={len(lag)}); sample-to-prediction ≤ hop + {lag.max():.1f} ms ({_load()})",
                         "baseline": f"hop {HOP * 1000:.0f} ms", "ratio": "", "goal": "sample-to-prediction <= hop + 20 ms"})  # fmt: skip
    return rows


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--real", type=Path, help="bench/real_training.py's work folder: add its trained HAPT and FSDD models")
    ap.add_argument("--profile", action="store_true", help="only print a cProfile of one wake-up (IMU small CNN, then 48 kHz audio)")
    ap.add_argument("--cold-hot", action="store_true", help="only the hop's cost with the model run between hops and without (KWS-size at 16 kHz; FSDD with --real)")
    ap.add_argument("--ratio", action="store_true", help="only the engine ÷ bare ratio of the models nearest the goal: KWS-size fed 16 kHz and 8 kHz (FSDD's hop; FSDD itself with --real)")
    ap.add_argument("--sensor", action="store_true", help="only the sensor-size models' engine ÷ bare ratio (IMU small CNN, demo clap fp32) and the per-window floor in Python")
    ap.add_argument("--clap", action="store_true", help="only the demo clap detector's engine ÷ bare ratio, fp32 and int8 (1 kHz × 3, 0.4 s / 0.1 s)")
    ap.add_argument("--python-hop", action="store_true", help="the engine's usual hop in Python even where the C one (sensorlab/inference/_hop.c) is built")
    args = ap.parse_args()
    PYTHON_HOP = args.python_hop
    if args.ratio:
        with tempfile.TemporaryDirectory() as d:
            kws = cnn_model(Path(d) / "kws.onnx", 1, kws=True)
            cases = [("KWS-size CNN fed 16 kHz", kws, 16000.0, False), ("KWS-size CNN fed 8 kHz", kws, 8000.0, False)]
            if args.real:
                cases.append(("FSDD keyword CNN, 8 kHz", args.real / "runs" / "fsdd-official-long" / "model.onnx", 8000.0, True))
            for label, model, rate, contract in cases:
                m = engine_vs_bare(model, rate, rate, 1, contract=contract)
                print(f"{label}: ratio {m['ratio']:.3f} (engine {m['engine'] * 1000:.0f} µs, bare {m['bare'] * 1000:.0f} µs a window; "
                      f"{'Python' if PYTHON_HOP else 'default'} hop; {_load()})", flush=True)  # fmt: skip
    elif args.clap:
        for label, file in (("demo clap detector fp32", "demo_clap.onnx"), ("demo clap detector int8", "demo_clap.int8.onnx")):
            m = engine_vs_bare(DEMO_MODELS / file, 1000.0, 1000.0, 3, contract=True)
            print(f"{label} (1 kHz × 3, 0.4 s / 0.1 s): ratio {m['ratio']:.3f} (engine {m['engine'] * 1000:.1f} µs, bare {m['bare'] * 1000:.1f} µs, "
                  f"engine − bare {(m['engine'] - m['bare']) * 1000:.1f} µs a window; {_load()})", flush=True)  # fmt: skip
    elif args.sensor:
        with tempfile.TemporaryDirectory() as d:
            imu = cnn_model(Path(d) / "imu.onnx", 6)
            for label, model, rate, ch, contract in (("IMU small CNN (100 Hz × 6, 1 s / 0.25 s)", imu, 100.0, 6, False),
                                                     ("demo clap detector fp32 (1 kHz × 3, 0.4 s / 0.1 s)", DEMO_MODELS / "demo_clap.onnx", 1000.0, 3, True)):  # fmt: skip
                m = engine_vs_bare(model, rate, rate, ch, contract=contract, seconds=200.0 if rate <= 100 else 20.0)
                print(f"{label}: ratio {m['ratio']:.3f} (engine {m['engine'] * 1000:.1f} µs, bare {m['bare'] * 1000:.1f} µs, engine − bare "
                      f"{(m['engine'] - m['bare']) * 1000:.1f} µs a window; {_load()})", flush=True)  # fmt: skip
            f = floor(imu, 6)
            print(f"floor: empty 6-deep method call chain {f['chain_us']:.2f} µs; one NumPy ufunc on a 100 × 6 window {f['ufunc_us']:.2f} µs; "
                  f"onnxruntime on a graph that copies one float: session.run {f['empty_run_us']:.1f} µs, run_with_iobinding {f['empty_iob_us']:.1f} µs; "
                  f"the IMU model: session.run {f['run_us']:.1f} µs, run_with_iobinding {f['iob_us']:.1f} µs ({_load()})", flush=True)  # fmt: skip
    elif args.cold_hot:
        with tempfile.TemporaryDirectory() as d:
            cases = [("KWS-size CNN, 16 kHz", cnn_model(Path(d) / "kws.onnx", 1, kws=True), 16000.0, False)]
            if args.real:
                cases.append(("FSDD keyword CNN, 8 kHz", args.real / "runs" / "fsdd-official-long" / "model.onnx", 8000.0, True))
            for label, model, rate, contract in cases:
                m = cold_vs_hot(model, rate, 1, contract=contract)
                print(f"{label}: µs per window, model run between hops: hop {m['model']['hop']:.1f}, model call {m['model']['call']:.1f}, rest {m['model']['rest']:.1f}; "
                      f"stub instead of the run: hop {m['stub']['hop']:.1f}, rest {m['stub']['rest']:.1f} ({_load()})", flush=True)  # fmt: skip
    elif args.profile:
        with tempfile.TemporaryDirectory() as d:
            print("\n".join(profile_hop(cnn_model(Path(d) / "imu.onnx", 6), 100.0, 100.0, 6, seconds=120.0)))
            print("\n".join(profile_hop(cnn_model(Path(d) / "mono.onnx", 1), 48000.0, 16000.0, 1, seconds=30.0)))
    else:
        for r in run(args.real):
            print(r, flush=True)
