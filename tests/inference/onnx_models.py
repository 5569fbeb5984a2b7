"""ONNX models whose answers are known, built with the `onnx` helper API (no training)."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from sensorlab.contract import METADATA_KEY, ModelContract

OPSET = [helper.make_opsetid("", 17)]


def _save(graph, path: Path, metadata: dict[str, str] | None = None) -> Path:
    model = helper.make_model(graph, opset_imports=OPSET, ir_version=8)
    for k, v in (metadata or {}).items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def mean_model(path: Path, channels: int = 1, samples: int | str = "T", input_name: str = "x", output: str = "scores", metadata=None) -> Path:
    """``scores[n, c] = mean_t x[n, t, c]``: input (N, T, C), output (N, C)."""
    x = helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", samples, channels])
    y = helper.make_tensor_value_info(output, TensorProto.FLOAT, ["N", channels])
    node = helper.make_node("ReduceMean", [input_name], [output], axes=[1], keepdims=0)
    return _save(helper.make_graph([node], "mean", [x], [y]), path, metadata)


def contract_mean_model(path: Path, stream: str, rate: float, channels: list[str], window: float, hop: float, mean, std, labels=None) -> Path:
    """A 'sensorlab' model: the mean model with a contract (standardization from a dataset)."""
    n = max(1, int(round(window * rate)))
    c = ModelContract(
        task="timeseries",
        input={"name": "x", "stream": stream, "rate": rate, "channels": list(channels), "shape": [n, len(channels)], "dtype": "float32",
               "normalization": {"kind": "standardize", "mean": list(mean), "std": list(std)}},
        window={"length": window, "hop": hop},
        features={"kind": "none", "in_graph": False},
        labels=labels or list(channels),
        output={"name": "scores", "kind": "probabilities"},
    )  # fmt: skip
    return mean_model(path, len(channels), n, metadata={METADATA_KEY: c.to_json()})


def stateful_sum_model(path: Path, samples: int | str = "T", state: tuple[str, str] = ("state_in", "state_out"),
                       scores: str = "score", classes: int = 1) -> Path:
    """A model with recurrent state: ``state_out = state_in + sum(x)``; input x (1, samples, 1)
    and state_in (1, 1); outputs the scores and state_out (1, 1). ``classes=1``: ``scores =
    [state_out]``; 2: ``[state_out, -state_out]``. ``state``: the names (state input, state
    output); the default follows the state_in/state_out convention, others such as
    ``("memory", "memory_update")`` follow none, and the mapping must pair them."""
    s_in_name, s_out_name = state
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, samples, 1])
    s_in = helper.make_tensor_value_info(s_in_name, TensorProto.FLOAT, [1, 1])
    s_out = helper.make_tensor_value_info(s_out_name, TensorProto.FLOAT, [1, 1])
    score = helper.make_tensor_value_info(scores, TensorProto.FLOAT, [1, classes])
    nodes = [
        helper.make_node("ReduceSum", ["x", "axes"], ["s"], keepdims=0),  # (1, 1)
        helper.make_node("Add", [s_in_name, "s"], [s_out_name]),
    ]
    if classes == 1:
        nodes.append(helper.make_node("Identity", [s_out_name], [scores]))
    else:
        assert classes == 2, classes
        nodes += [helper.make_node("Neg", [s_out_name], ["neg"]), helper.make_node("Concat", [s_out_name, "neg"], [scores], axis=1)]
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    return _save(helper.make_graph(nodes, "stateful", [x, s_in], [score, s_out], initializer=[axes]), path)


def gain_with_rate_model(path: Path) -> Path:
    """Two inputs: x (N, T) and a constant ``sr`` (1,): ``scores = [mean(x) * sr, 0]``."""
    x = helper.make_tensor_value_info("audio", TensorProto.FLOAT, ["N", "T"])
    sr = helper.make_tensor_value_info("sr", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("p", TensorProto.FLOAT, ["N", 2])
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [1, 1], [0.0])
    nodes = [
        helper.make_node("ReduceMean", ["audio"], ["m"], axes=[1], keepdims=1),  # (N, 1)
        helper.make_node("Mul", ["m", "sr"], ["ms"]),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Concat", ["ms", "z"], ["p"], axis=1),
    ]
    return _save(helper.make_graph(nodes, "gain", [x, sr], [y], initializer=[zero]), path)


def reshape_to_ten_model(path: Path) -> Path:
    """Accepts any (N, T, 1) but reshapes to (1, 10): fails at run time unless T == 10."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1, 10])
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])
    return _save(helper.make_graph([node], "reshape", [x], [y], initializer=[shape]), path)


def write_mapping(model: Path, **m) -> Path:
    p = model.with_name(model.stem + ".mapping.json")
    p.write_text(json.dumps(m))
    return p


def max_model(path: Path, channels: int = 1) -> Path:
    """``scores[n, c] = max_t x[n, t, c]``: the 'other build' that disagrees wherever a window is not constant."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", channels])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", channels])
    node = helper.make_node("ReduceMax", ["x"], ["scores"], axes=[1], keepdims=0)
    return _save(helper.make_graph([node], "max", [x], [y]), path)


def batch_size_model(path: Path) -> Path:
    """``scores[n] = [mean_t x[n, t, 0], N]``: input (N, T, 1), output (N, 2). The second score is
    the number of windows the run was given, so a prediction says whether it came from a batch."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", 1])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 2])
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    first = helper.make_tensor("first", TensorProto.INT64, [], [0])
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m3"], axes=[1], keepdims=0),  # (N, 1)
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "first"], ["n"]),
        helper.make_node("Cast", ["n"], ["nf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["m3", "zero"], ["z"]),
        helper.make_node("Add", ["z", "nf"], ["b"]),  # (N, 1), every row N
        helper.make_node("Concat", ["m3", "b"], ["scores"], axis=1),
    ]
    return _save(helper.make_graph(nodes, "batch", [x], [y], initializer=[zero, first]), path)


def stateful_batch_axis_model(path: Path) -> Path:
    """``state_out = state_in + sum_t x``, ``score = state_out``, with a free batch axis: input x
    (N, T, 1), state (N, 1). Run window by window it gives the running total; a batch would add
    each window to the same old state (wrong), so the engine must never batch it."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", 1])
    s_in = helper.make_tensor_value_info("state_in", TensorProto.FLOAT, ["N", 1])
    s_out = helper.make_tensor_value_info("state_out", TensorProto.FLOAT, ["N", 1])
    score = helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])
    nodes = [
        helper.make_node("ReduceSum", ["x", "axes"], ["s"], keepdims=0),  # (N, 1)
        helper.make_node("Add", ["state_in", "s"], ["state_out"]),
        helper.make_node("Identity", ["state_out"], ["score"]),
    ]
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    return _save(helper.make_graph(nodes, "stateful_n", [x, s_in], [score, s_out], initializer=[axes]), path)


def fake_batch_axis_model(path: Path) -> Path:
    """Input (N, T, 1) but one score ``mean(x)`` of shape (1, 1) whatever N: the batch axis is not
    a real one, so a batch of windows gets one answer (the engine must fall back to one by one)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", 1])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1])
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1, 1])
    nodes = [helper.make_node("ReduceMean", ["x"], ["m"], keepdims=1), helper.make_node("Reshape", ["m", "shape"], ["scores"])]
    return _save(helper.make_graph(nodes, "fake_n", [x], [y], initializer=[shape]), path)
