"""Tiny TFLite models whose answers are known, written with the TFLite flatbuffer schema (no converter).

ai-edge-litert ships the schema's Python bindings (``schema_py_generated``): a model is a
``ModelT`` of buffers, tensors and operators, packed with ``flatbuffers``. That is all a test
needs to make a real ``.tflite`` file the interpreter runs, without litert-torch (a ~2 GB stack).
The contract is embedded by `sensorlab.training.tflite_file.write_with_contract`, the call
`sensorlab export --format tflite` makes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sensorlab.contract import ModelContract


def mean_tflite(path: Path, samples: int, channels: int, *, int8: bool = False, quant: tuple[float, int] = (0.02, 0),
                contract: ModelContract | None = None, names: tuple[str, str] = ("serving_default_x:0", "StatefulPartitionedCall:0")) -> Path:  # fmt: skip
    """``scores[0, c] = mean_t x[0, t, c]``: input (1, samples, channels), output (1, channels).

    With ``int8`` both tensors are int8 with ``quant`` = (scale, zero point), as a full-integer
    export has them. ``names`` are the converter-style tensor names.
    """
    import flatbuffers
    from ai_edge_litert import schema_py_generated as S

    def buffer(data: bytes = b"") -> S.BufferT:
        b = S.BufferT()
        if data:
            b.data = np.frombuffer(data, np.uint8).copy()
        return b

    def tensor(name: str, shape: list[int], typ: int, buf: int, q: tuple[float, int] | None) -> S.TensorT:
        t = S.TensorT()
        t.name, t.shape, t.type, t.buffer = name, np.array(shape, np.int32), typ, buf
        if q:
            t.quantization = S.QuantizationParametersT()
            t.quantization.scale, t.quantization.zeroPoint = [q[0]], [q[1]]
        return t

    m = S.ModelT()
    m.version, m.description = 3, "mean over time (sensorlab test model)"
    m.buffers = [buffer(), buffer(np.array([1], np.int32).tobytes())]  # 0: the empty buffer; 1: the axis
    code = S.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = S.BuiltinOperator.MEAN
    code.version = 1
    m.operatorCodes = [code]
    typ, q = (S.TensorType.INT8, quant) if int8 else (S.TensorType.FLOAT32, None)
    g = S.SubGraphT()
    g.name = "main"
    g.tensors = [tensor(names[0], [1, samples, channels], typ, 0, q), tensor("axis", [1], S.TensorType.INT32, 1, None),
                 tensor(names[1], [1, channels], typ, 0, q)]  # fmt: skip
    op = S.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, np.array([0, 1], np.int32), np.array([2], np.int32)
    op.builtinOptionsType, op.builtinOptions = S.BuiltinOptions.ReducerOptions, S.ReducerOptionsT()
    op.builtinOptions.keepDims = False
    g.operators, g.inputs, g.outputs = [op], np.array([0], np.int32), np.array([2], np.int32)
    m.subgraphs = [g]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    data = bytes(b.Output())
    if contract is None:
        Path(path).write_bytes(data)
    else:
        from sensorlab.training.tflite_file import write_with_contract

        write_with_contract(Path(path), data, contract)
    return Path(path)
