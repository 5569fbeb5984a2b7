"""Live inference: engine time per window ÷ bare onnxruntime ``run``, and sample-to-prediction latency.

Models, built with the ``onnx`` helper API: a *small* 1-D CNN (Conv 16 filters × 8 taps,
stride 4, ReLU, global average pool, a 16 → 3 MatMul; ~1 k parameters, a microcontroller-size
sensor model that runs in ~0.05 ms) and, for audio, a *KWS-size* one (two more 32-filter
convolutions, ~1–2 ms a window). Two feeds:

- **IMU**: 100 Hz × 6, 1 s windows every 0.25 s (no resampling);
- **audio**: 48 kHz mono resampled to 16 kHz, 1 s windows every 0.25 s.

*Engine per window* is the CPU time of everything the engine's thread does with the samples,
divided by the windows it ran: joining the device's 10 ms chunks it is handed when a window
can be complete (as its ring does live, `ProcessorBase.wake_after`), `Windower.push` (gap
check, holding, cutting, resampling the new samples), `features` (normalization, layout), the
model run, the probabilities and the emitted chunk.
*Bare* is ``session.run`` on the same prepared inputs, one window per call, with the same
one-thread session options. Both are CPU time of the measuring thread (`time.thread_time`), so a
busy machine preempting the benchmark does not count as work; rounds alternate engine and
bare and the median round is reported.

*Live* runs the engine as it runs in the studio: a real-time emulated stream (10 ms chunks)
and the processor on its own thread in an `Acquisition`. Its thread's CPU time per window adds
what the replay leaves out (waking up, reading the ring), and *latency* is prediction time −
window end for every window; a sample is predicted at most one hop after its window ends
(the next window that ends after it), so sample-to-prediction ≤ hop + that latency.

Run: ``.venv/bin/python bench/bench_inference.py``. ``run()`` returns rows
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


def engine_vs_bare(model: Path, rate_in: float, rate: float, channels: int, seconds: float = 20.0, rounds: int = 5, per_chunk: bool = False) -> dict:
    """Median over ``rounds`` of engine and bare CPU ms per window (replayed 10 ms chunks, ``seconds`` of stream each).

    The chunks reach `process` as the engine's ring hands them over live (joined, once the
    newest passes `wake_after`), or with ``per_chunk`` one call per chunk (a processor that
    wakes for every chunk)."""
    from sensorlab.acquisition.buffers import concat_chunks
    from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
    from sensorlab.inference import InferenceProcessor, LoadedModel

    lm = LoadedModel(model, _mapping("s", rate))
    n = int(seconds * rate_in)
    step = max(1, int(rate_in * 0.01))
    x = np.random.default_rng(1).normal(size=(n, channels)).astype(np.float32)
    engine, bare, ratios, windows = [], [], [], 0
    for r in range(rounds):
        ts = 1000.0 + r * 2 * seconds + np.arange(n) / rate_in
        chunks = [{"s": Chunk(x[i : i + step], ts[i : i + step])} for i in range(0, n, step)]  # made by the device thread
        proc = InferenceProcessor(lm, stale_after=1e9)
        proc.open({"s": StreamInfo("s", StreamKind.TIMESERIES, rate_in, sample_shape=(channels,))})
        inputs: list[np.ndarray] = []
        proc.taps.append(lambda s, e, x, p: inputs.append(x))
        proc._sink = lambda name, chunk: None
        t0 = time.thread_time()
        if per_chunk:
            for c in chunks:
                proc.process(c)
        else:  # as the engine's thread is woken live: when a window can be complete, with the chunks since
            pending: list[Chunk] = []
            for c in chunks:
                pending.append(c["s"])
                if c["s"].timestamps[-1] > proc.wake_after("s"):
                    proc.process({"s": concat_chunks(pending)})
                    pending = []
        t_engine = time.thread_time() - t0
        windows = sum(len(a) for a in inputs)
        sess, name = lm.sess, lm.window_input.name
        t0 = time.thread_time()
        for a in inputs:
            for j in range(len(a)):
                sess.run(None, {name: a[j : j + 1]})
        t_bare = time.thread_time() - t0
        engine.append(t_engine * 1000 / windows)
        bare.append(t_bare * 1000 / windows)
        ratios.append(t_engine / t_bare)
    return {"engine": statistics.median(engine), "bare": statistics.median(bare), "ratio": statistics.median(ratios), "windows": windows}


def live(model: Path, rate_in: float, rate: float, channels: int, seconds: float = 10.0) -> dict:
    """The engine on its thread behind a real-time stream: its CPU ms per window, and prediction − window end."""
    from sensorlab.acquisition.clock import now
    from sensorlab.acquisition.emulated.signal import SignalSource
    from sensorlab.acquisition.hub import Acquisition
    from sensorlab.inference import InferenceProcessor, LoadedModel

    src = SignalSource("s", rate=rate_in, shape=(channels,), pattern="sine", realtime=True, chunk_size=max(1, int(rate_in * 0.01)))
    proc = InferenceProcessor(LoadedModel(model, _mapping("s", rate)))
    lags: list[float] = []
    cpu: list[float] = []
    proc.taps.append(lambda s, e, x, p: (lags.append(now() - float(e[-1])), cpu.append(time.thread_time())))  # on the engine's thread
    acq = Acquisition([src, proc])
    acq.open()
    acq.start()
    time.sleep(seconds)
    acq.close()
    lag = np.array(lags[2:]) * 1000
    return {"lag": lag, "cpu": (cpu[-1] - cpu[2]) * 1000 / max(1, len(cpu) - 3), "windows": len(cpu) - 3}


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as d:
        imu = cnn_model(Path(d) / "imu.onnx", 6)
        mono = cnn_model(Path(d) / "mono.onnx", 1)
        kws = cnn_model(Path(d) / "kws.onnx", 1, kws=True)
        feeds = (("IMU 100 Hz × 6, small CNN", imu, 100.0, 100.0, 6), ("audio 48 kHz → 16 kHz, small CNN", mono, 48000.0, 16000.0, 1),
                 ("audio 48 kHz → 16 kHz, KWS-size CNN", kws, 48000.0, 16000.0, 1))  # fmt: skip
        for label, model, rin, rout, ch in feeds:
            m = engine_vs_bare(model, rin, rout, ch)
            rows.append({"benchmark": f"inference: engine CPU per window ÷ bare onnxruntime run, {label}, 1 s window / {HOP:g} s hop, 10 ms chunks",
                         "value": f"{m['engine']:.3f} ms (+{(m['engine'] - m['bare']) * 1000:.0f} µs; {m['windows']} windows × 5 rounds)",
                         "baseline": f"{m['bare']:.3f} ms", "ratio": round(m["ratio"], 2), "goal": "<= 1.1"})  # fmt: skip
        for label, model, rin, rout, ch in feeds[:2]:
            m = live(model, rin, rout, ch)
            lag = m["lag"]
            rows.append({"benchmark": f"inference live ({label}): engine thread CPU per window; prediction time − window end",
                         "value": f"{m['cpu']:.3f} ms CPU/window; latency median {np.median(lag):.1f} ms, p95 {np.percentile(lag, 95):.1f} ms, "
                                  f"max {lag.max():.1f} ms (n={len(lag)})",
                         "baseline": f"hop {HOP * 1000:.0f} ms", "ratio": "", "goal": "sample-to-prediction <= hop + 20 ms"})  # fmt: skip
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
