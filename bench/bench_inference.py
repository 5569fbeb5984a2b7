"""Live inference: engine time per window ÷ bare onnxruntime ``run``, and sample-to-prediction latency.

Model: a small 1-D CNN built with the ``onnx`` helper API (Conv 16 filters × 8 taps, stride 4,
ReLU, global average pool, a 16 → 3 MatMul): the size of a sensor model that runs on a
microcontroller. Two feeds:

- **IMU**: 100 Hz × 6, 1 s windows every 0.25 s (no resampling);
- **audio**: 48 kHz mono resampled to 16 kHz, 1 s windows every 0.25 s.

*Engine per window* is everything `InferenceProcessor` does for a window on its thread —
`Windower.push` (holding samples, cutting with the dataset code, resampling), `features`
(normalization, layout) and the model run — for chunks arriving as a device delivers them
(10 ms). *Bare* is ``session.run`` on the same prepared inputs, one window per call, with the
same one-thread session options. *Latency* is measured live: a real-time emulated stream,
the engine in an `Acquisition`, prediction time − window end, for every window over 10 s.

Run: ``.venv/bin/python bench/bench_inference.py``. ``run()`` returns rows
``{"benchmark", "value", "baseline", "ratio", "goal"}``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def cnn_model(path: Path, channels: int) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.normal(size=(16, channels, 8)).astype(np.float32), "w")
    fc = numpy_helper.from_array(rng.normal(size=(16, 3)).astype(np.float32), "fc")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", channels])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 3])
    nodes = [
        helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 2, 1]),
        helper.make_node("Conv", ["xt", "w"], ["c"], strides=[4]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("ReduceMean", ["r"], ["m"], axes=[2], keepdims=0),
        helper.make_node("MatMul", ["m", "fc"], ["logits"]),
    ]
    model = helper.make_model(helper.make_graph(nodes, "cnn", [x], [y], initializer=[w, fc]), opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, str(path))
    return path


def _mapping(stream: str, rate: float) -> "ModelMapping":  # noqa: F821
    from sensorlab.inference import ModelMapping

    return ModelMapping(stream=stream, rate=rate, window=1.0, hop=0.25, scores_kind="logits", labels=["a", "b", "c"])


def engine_vs_bare(model: Path, stream: str, rate_in: float, rate: float, channels: int, seconds: float = 60.0) -> tuple[float, float, int]:
    """(engine ms/window, bare ms/window, windows)."""
    from sensorlab.acquisition.source import StreamInfo, StreamKind
    from sensorlab.inference import InferenceProcessor, LoadedModel

    proc = InferenceProcessor(LoadedModel(model, _mapping(stream, rate)), stale_after=1e9)
    info = StreamInfo(stream, StreamKind.TIMESERIES, rate_in, sample_shape=(channels,))
    proc.open({stream: info})
    inputs: list[np.ndarray] = []
    proc.taps.append(lambda s, e, x, p: inputs.append(x))
    proc._sink = lambda name, chunk: None
    n = int(seconds * rate_in)
    ts = 1000.0 + np.arange(n) / rate_in
    x = np.random.default_rng(1).normal(size=(n, channels)).astype(np.float32)
    step = max(1, int(rate_in * 0.01))
    t0 = time.perf_counter()
    for i in range(0, n, step):
        for ready in proc.windower.push(ts[i : i + step], x[i : i + step]):
            proc.run_windows(ready.starts, ready.data, ready.after_gap, live=False)
    engine = time.perf_counter() - t0
    windows = sum(len(a) for a in inputs)
    sess = proc.model.sess
    t0 = time.perf_counter()
    for a in inputs:
        for j in range(len(a)):
            sess.run(None, {"x": a[j : j + 1]})
    bare = time.perf_counter() - t0
    return engine * 1000 / windows, bare * 1000 / windows, windows


def live_latency(model: Path, rate_in: float, rate: float, seconds: float = 10.0) -> np.ndarray:
    from sensorlab.acquisition.clock import now
    from sensorlab.acquisition.emulated.signal import SignalSource
    from sensorlab.acquisition.hub import Acquisition
    from sensorlab.inference import InferenceProcessor, LoadedModel

    src = SignalSource("s", rate=rate_in, shape=(1,), pattern="sine", realtime=True, chunk_size=int(rate_in * 0.01))
    proc = InferenceProcessor(LoadedModel(model, _mapping("s", rate)))
    lags: list[float] = []
    proc.taps.append(lambda s, e, x, p: lags.extend((now() - e).tolist()))
    acq = Acquisition([src, proc])
    acq.open()
    acq.start()
    time.sleep(seconds)
    acq.close()
    return np.array(lags[2:]) * 1000


def run() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as d:
        imu = cnn_model(Path(d) / "imu.onnx", 6)
        mono = cnn_model(Path(d) / "mono.onnx", 1)
        for label, model, rin, rout, ch in (("IMU 100 Hz × 6", imu, 100.0, 100.0, 6), ("audio 48 kHz → 16 kHz", mono, 48000.0, 16000.0, 1)):
            e, b, n = engine_vs_bare(model, "s", rin, rout, ch)
            rows.append({"benchmark": f"inference: engine per window ÷ bare onnxruntime run, {label}, 1 s window / 0.25 s hop (ms)",
                         "value": f"{e:.3f} ms ({n} windows)", "baseline": f"{b:.3f} ms", "ratio": round(e / b, 2), "goal": "<= 1.1"})  # fmt: skip
        lag = live_latency(mono, 48000.0, 16000.0)
        rows.append({"benchmark": "inference: sample-to-prediction latency, audio 48 kHz → 16 kHz live, hop 250 ms (prediction time − window end)",
                     "value": f"median {np.median(lag):.1f} ms, p95 {np.percentile(lag, 95):.1f} ms, max {lag.max():.1f} ms (n={len(lag)})",
                     "baseline": "hop 250 ms", "ratio": "", "goal": "<= hop + 20 ms"})  # fmt: skip
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
