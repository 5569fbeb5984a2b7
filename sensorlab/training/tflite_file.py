"""Reading and editing ``.tflite`` flatbuffers: the embedded contract, int8 input/output, graph facts.

Uses the TFLite schema bindings that ship with ``ai-edge-litert`` (``schema_py_generated``) and
the ``flatbuffers`` package it depends on, so a machine that only *runs* TFLite models (no
converter, no torch) can read a model's contract.

- The contract is stored in the model's own ``metadata`` table (TFLite's place for named
  byte buffers, beside ``min_runtime_version``) under `sensorlab.contract.METADATA_KEY`, as
  UTF-8 JSON. A ``MODEL.contract.json`` sidecar with the same text is written beside the file
  for tools that cannot parse flatbuffers (and read as a fallback).
- `make_int8_io` makes sure an int8 graph is fully integer: a float-in/float-out one
  (QUANTIZE first, DEQUANTIZE last) loses those two ops, like TensorFlow's ``inference_input_type=int8``:
  microcontrollers then feed int8 directly and no float op is left.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sensorlab.contract import METADATA_KEY, ModelContract

TFLITE_IDENTIFIER = b"TFL3"


class TFLiteFileError(ValueError):
    """Not a TFLite file sensorlab can read: one line naming the file and the fix."""


def _schema():
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:
        raise TFLiteFileError("reading .tflite files needs ai-edge-litert; pip install 'sensorlab[tflite]'") from None
    return schema


def _load(data: bytes):
    schema = _schema()
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise TFLiteFileError("not a TFLite flatbuffer (no TFL3 identifier)")
    return schema, schema.ModelT.InitFromPackedBuf(bytearray(data), 0)


def _pack(model) -> bytes:
    import flatbuffers

    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=TFLITE_IDENTIFIER)
    return bytes(b.Output())


def read_metadata(data: bytes) -> dict[str, bytes]:
    """Every named metadata buffer of a TFLite model."""
    schema = _schema()
    if len(data) < 8 or data[4:8] != TFLITE_IDENTIFIER:
        raise TFLiteFileError("not a TFLite flatbuffer (no TFL3 identifier)")
    m = schema.Model.GetRootAs(data, 0)
    out = {}
    for i in range(m.MetadataLength()):
        md = m.Metadata(i)
        buf = m.Buffers(md.Buffer())
        out[md.Name().decode()] = buf.DataAsNumpy().tobytes() if buf.DataLength() else b""
    return out


def with_metadata(data: bytes, entries: dict[str, bytes]) -> bytes:
    """The model with ``entries`` added to (or replacing) its metadata table."""
    schema, model = _load(data)
    model.metadata = [md for md in (model.metadata or []) if md.name.decode() not in entries]
    for name, value in entries.items():
        buf = schema.BufferT()
        buf.data = np.frombuffer(value, np.uint8).copy()
        model.buffers.append(buf)
        md = schema.MetadataT()
        md.name, md.buffer = name, len(model.buffers) - 1
        model.metadata.append(md)
    return _pack(model)


def sidecar(path: Path) -> Path:
    """``model.int8.tflite`` → ``model.int8.contract.json``."""
    return path.with_name(path.stem + ".contract.json")


def read_contract(path: Path) -> ModelContract:
    """The contract embedded in a .tflite file, else its ``.contract.json`` sidecar."""
    path = Path(path)
    meta = read_metadata(path.read_bytes())
    if METADATA_KEY in meta:
        return ModelContract.from_json(meta[METADATA_KEY])
    side = sidecar(path)
    if side.exists():
        return ModelContract.from_json(side.read_text(encoding="utf-8"))
    raise TFLiteFileError(f"{path}: no {METADATA_KEY!r} metadata and no {side.name} beside it; export TFLite models with `sensorlab export`")


def write_with_contract(path: Path, data: bytes, contract: ModelContract) -> None:
    """Write the model with its contract embedded, and the same contract as the sidecar."""
    text = contract.to_json()
    Path(path).write_bytes(with_metadata(data, {METADATA_KEY: text.encode()}))
    sidecar(Path(path)).write_text(text + "\n", encoding="utf-8")


def _opcode_names(schema, model) -> list[str]:
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return [names.get(max(oc.builtinCode, oc.deprecatedBuiltinCode), "CUSTOM") for oc in model.operatorCodes]


def make_int8_io(data: bytes) -> bytes:
    """Drop the boundary QUANTIZE/DEQUANTIZE ops so the graph takes and returns int8 tensors.

    litert-torch 0.10 already writes int8 inputs and outputs for a PT2E-quantized model; this
    keeps the promise (int8 in, int8 out) if a converter version puts float at the boundary.
    """
    schema, model = _load(data)
    codes = _opcode_names(schema, model)
    g = model.subgraphs[0]
    if all(g.tensors[i].type == schema.TensorType.INT8 for i in [*g.inputs, *g.outputs]):
        return data
    remap: dict[int, int] = {}
    keep = []
    for op in g.operators:
        name = codes[op.opcodeIndex]
        src, dst = int(op.inputs[0]), int(op.outputs[0])
        if name == "QUANTIZE" and src in list(g.inputs) and g.tensors[dst].type == schema.TensorType.INT8:
            remap[src] = dst
            continue
        if name == "DEQUANTIZE" and dst in list(g.outputs) and g.tensors[src].type == schema.TensorType.INT8:
            remap[dst] = src
            continue
        keep.append(op)
    if len(remap) != len(g.inputs) + len(g.outputs):
        raise TFLiteFileError("the int8 graph has no QUANTIZE/DEQUANTIZE at every input and output; cannot make its I/O int8")
    g.operators = keep
    g.inputs = np.array([remap[int(i)] for i in g.inputs], np.int32)
    g.outputs = np.array([remap[int(i)] for i in g.outputs], np.int32)
    for sig in model.signatureDefs or []:
        for t in (sig.inputs or []) + (sig.outputs or []):
            t.tensorIndex = remap.get(t.tensorIndex, t.tensorIndex)
    return _pack(model)


_COMPUTE = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "BATCH_MATMUL", "CONV_3D", "TRANSPOSE_CONV")


def graph_facts(data: bytes) -> dict:
    """Parameters (weights and biases of the compute ops), MACs of the compute ops, op histogram.

    Only the weight and bias operands count, not shape or permutation constants, so the figure
    matches the ONNX file's (batch norm folded) whatever layout ops the converter adds."""
    schema, model = _load(data)
    codes = _opcode_names(schema, model)
    g = model.subgraphs[0]

    def shape(i):
        return [int(s) for s in g.tensors[i].shape] if g.tensors[i].shape is not None else []

    def is_const(i):
        b = model.buffers[g.tensors[i].buffer]
        return b.data is not None and len(b.data) > 0

    weights = {int(i) for op in g.operators if codes[op.opcodeIndex] in _COMPUTE for i in list(op.inputs)[1:3] if i >= 0 and is_const(int(i))}
    params = sum(int(np.prod(shape(i))) for i in weights)
    macs, ops = 0, {}
    for op in g.operators:
        name = codes[op.opcodeIndex]
        ops[name] = ops.get(name, 0) + 1
        out = int(np.prod(shape(int(op.outputs[0])))) if len(op.outputs) else 0
        if name == "CONV_2D":  # weights (O, H, W, I): each output element sums H·W·I products
            o, h, w, i = shape(int(op.inputs[1]))
            macs += out * h * w * i
        elif name == "DEPTHWISE_CONV_2D":  # weights (1, H, W, O)
            _, h, w, _ = shape(int(op.inputs[1]))
            macs += out * h * w
        elif name == "FULLY_CONNECTED":  # weights (O, I)
            macs += out * shape(int(op.inputs[1]))[-1]
        elif name == "BATCH_MATMUL":
            macs += out * shape(int(op.inputs[0]))[-1]
        elif name == "CONV_3D":
            d, h, w, i, _ = shape(int(op.inputs[1]))
            macs += out * d * h * w * i
    return {"params": params, "macs": int(macs), "ops": dict(sorted(ops.items()))}
