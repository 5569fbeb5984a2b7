"""``sensorlab bench-model MODEL``: parameters, MACs, size, 1-thread latency and peak memory of an ONNX or TFLite file.

- parameters: elements of the graph's constant weight tensors (ONNX initializers; TFLite
  tensors backed by a buffer), so a quantized file counts the same parameters as its fp32 one;
- MACs: counted from the graph for one window (batch 1): convolutions, depthwise convolutions,
  fully connected layers and matrix products (element-wise ops are not counted);
- latency p50/p99: one window at a time, one thread (onnxruntime ``intra_op_num_threads=1``,
  LiteRT ``num_threads=1``), after warm-up; beside it the CPU time per window (the calling
  thread's ``time.thread_time``), which barely moves when other jobs load the machine;
- peak memory: how far a fresh process's resident set peaks above its level before loading the
  model, while it loads and runs it (`_peak_child`: spawned, runtimes imported first, peak reset
  through ``/proc/self/clear_refs``); for
  TFLite files also the TFLM tensor arena when the TFLM interpreter is installed.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
from pathlib import Path

import numpy as np

from sensorlab.training.predictors import ModelFileError, load_predictor

RUNS = 300


def onnx_facts(path: Path) -> dict:
    import onnx
    from onnx import numpy_helper, shape_inference

    m = onnx.load(str(path))
    for v in m.graph.input:  # batch 1: the exported graphs have a dynamic batch axis
        dims = v.type.tensor_type.shape.dim
        if dims and not dims[0].dim_value:
            dims[0].dim_value = 1
    m = shape_inference.infer_shapes(m)
    g = m.graph
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in [*g.input, *g.value_info, *g.output]}
    params = 0
    for t in g.initializer:
        shapes[t.name] = list(t.dims)
        if t.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.INT8, onnx.TensorProto.UINT8, onnx.TensorProto.FLOAT16) and len(t.dims) >= 1:
            arr = numpy_helper.to_array(t)
            params += arr.size if arr.size > 1 else 0  # scalars are scales / zero points, not weights
    macs, ops = 0, {}
    for n in g.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
        out = int(np.prod(shapes.get(n.output[0], [0]) or [0]))
        if n.op_type in ("Conv", "ConvInteger"):
            w = shapes.get(n.input[1], [])
            macs += out * int(np.prod(w[1:])) if w else 0  # W (O, I/groups, k...): each output sums I/groups·k products
        elif n.op_type in ("Gemm", "MatMul", "MatMulInteger"):
            a = shapes.get(n.input[0], [])
            macs += out * a[-1] if a else 0
    return {"params": int(params), "macs": int(macs), "ops": dict(sorted(ops.items()))}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def _peak_child(path: str, x1, q) -> None:
    """Spawned: how far the resident set peaks above its level before the model is loaded (bytes)."""
    import importlib

    for runtime in ("onnxruntime", "ai_edge_litert.interpreter"):  # loaded before the baseline: not the model's memory
        try:
            importlib.import_module(runtime)
        except ImportError:
            pass
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: reset the peak (VmHWM) to the current resident size
        before, peak = _status_kib("VmRSS"), lambda: _status_kib("VmHWM")
    except OSError:  # no procfs: the lifetime peak, which may already include the imports
        before, peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pred = load_predictor(Path(path))
    for _ in range(20):
        pred._run(x1)
    q.put(max(0, peak() - before) * 1024)


def peak_memory(path: Path, x1: np.ndarray) -> int:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_peak_child, args=(str(path), x1, q))
    p.start()
    try:
        return int(q.get(timeout=300))
    finally:
        p.join(30)


def bench(path: Path, runs: int = RUNS) -> dict:
    from sensorlab.training.quantize import latency_ms

    path = Path(path)
    if path.suffix not in (".onnx", ".tflite"):
        raise ModelFileError(f"{path}: bench-model takes an .onnx or .tflite file (export a run first with `sensorlab export`)")
    pred = load_predictor(path)
    c = pred.contract
    x1 = np.random.default_rng(0).standard_normal((1, *c.input["shape"])).astype(np.float32)  # a standardized window
    x1 = c.extract(x1)  # int8 audio files take log-mel features (computed before the model, not timed)
    if path.suffix == ".onnx":
        facts = onnx_facts(path)
    else:
        from sensorlab.training.tflite_file import graph_facts

        facts = graph_facts(path.read_bytes())
    r = {"model": str(path), "format": path.suffix[1:], "size_bytes": path.stat().st_size, **facts, "threads": 1, "runs": runs,
         "latency_ms": latency_ms(pred, x1, runs), "peak_memory_bytes": peak_memory(path, x1), "input_dtype": c.input["dtype"]}  # fmt: skip
    if c.features.get("kind") == "log_mel" and not c.features.get("in_graph", True):
        r["frontend"] = "log-mel outside the graph: computed before the model (sensorlab.logmel), not in these figures"
    if path.suffix == ".tflite":
        try:
            from sensorlab.training.export_c import ExportCError, measure_arena

            xq = x1
            if c.input.get("quantization"):
                qz = c.input["quantization"]
                xq = np.clip(np.round(x1 / qz["scale"] + qz["zero_point"]), -128, 127).astype(np.int8)
            r["tflm_arena_bytes"] = measure_arena(path.read_bytes(), xq)
        except ExportCError as e:
            r["tflm_arena_bytes"] = None
            r["tflm_note"] = str(e)
    return r


def format_bench(r: dict) -> str:
    lines = [f"{r['model']} ({r['format']}, input {r['input_dtype']})",
             f"  parameters   {r['params']:,}", f"  MACs         {r['macs']:,} per window",
             f"  size         {r['size_bytes'] / 1024:.1f} KiB",
             f"  latency      p50 {r['latency_ms']['p50']:.3f} ms, p99 {r['latency_ms']['p99']:.3f} ms (1 thread, {r['runs']} runs)",
             f"  CPU time     {r['latency_ms']['cpu_mean']:.3f} ms per window (the thread's own CPU time: barely moves with machine load)",
             f"  peak memory  +{r['peak_memory_bytes'] / 1024:.0f} KiB resident (fresh process: load + run)"]  # fmt: skip
    if r.get("frontend"):
        lines.append(f"  front end    {r['frontend']}")
    if r.get("tflm_arena_bytes"):
        lines.append(f"  TFLM arena   {r['tflm_arena_bytes']:,} bytes (measured on this host)")
    elif r.get("tflm_note"):
        lines.append(f"  TFLM arena   not measured: {r['tflm_note']}")
    return "\n".join(lines)
