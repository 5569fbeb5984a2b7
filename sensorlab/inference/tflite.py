"""`TFLiteSession`: a ``.tflite`` model behind the part of onnxruntime's session API the engine uses.

The live engine (`LoadedModel`) talks to an ``onnxruntime.InferenceSession``: ``get_inputs``,
``get_outputs`` (name, shape, type) and ``run(output_names, feed)``. This runs a TFLite file
with ``ai-edge-litert``'s interpreter (one thread, like onnxruntime here) behind the same calls,
so a TFLite build — the artifact that goes on the microcontroller — loads in the studio and the
rig like an ONNX model: configured by its embedded contract, or by a mapping.

- **Contract**: `sensorlab export --format tflite` stores it in the model's ``metadata`` table
  under ``sensorlab.contract`` (a ``MODEL.contract.json`` sidecar is the fallback), read here
  with the flatbuffer schema that ships with ai-edge-litert (no converter, no torch).
- **Names**: the converter names the graph's tensors itself (``serving_default_x:0``…); a
  model with a contract and one input / one output presents them under the contract's names.
- **int8**: a quantized input or output is presented as float. `run` quantizes the prepared
  (standardized) window with the tensor's own scale and zero point
  (``q = round(x / scale) + zero_point``, clipped, as `sensorlab export` calibrated it) and
  dequantizes the output, so the engine's features and probabilities are the same code path as
  for float builds.
- **Batch**: TFLite exports have batch 1; a window axis of -1 in the signature is resized to the
  batch given.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sensorlab.contract import METADATA_KEY, ModelContract

#: NumPy dtypes → onnxruntime type strings (what `TensorSpec` reads).
_ORT_NAMES = {np.dtype(np.float32): "tensor(float)", np.dtype(np.float64): "tensor(double)", np.dtype(np.float16): "tensor(float16)",
              np.dtype(np.int8): "tensor(int8)", np.dtype(np.uint8): "tensor(uint8)", np.dtype(np.int16): "tensor(int16)",
              np.dtype(np.int32): "tensor(int32)", np.dtype(np.int64): "tensor(int64)", np.dtype(np.bool_): "tensor(bool)"}  # fmt: skip


class TFLiteError(ValueError):
    """A file that cannot be run as a TFLite model: one line naming it and the fix."""


@dataclass(frozen=True)
class _Meta:
    """One input or output as onnxruntime's ``NodeArg`` describes it."""

    name: str
    shape: list
    type: str


def read_contract(path: Path, data: bytes) -> ModelContract | None:
    """The contract in a TFLite file's metadata, else in its ``.contract.json`` sidecar; None if neither."""
    from ai_edge_litert import schema_py_generated as schema

    if len(data) < 8 or data[4:8] != b"TFL3":
        raise TFLiteError(f"{path.name}: not a TFLite flatbuffer (no TFL3 identifier); load a .tflite file written by a TFLite converter")
    m = schema.Model.GetRootAs(data, 0)
    for i in range(m.MetadataLength()):
        md = m.Metadata(i)
        if md.Name().decode() == METADATA_KEY:
            return ModelContract.from_json(m.Buffers(md.Buffer()).DataAsNumpy().tobytes())
    side = path.with_name(path.stem + ".contract.json")
    if side.is_file():
        return ModelContract.from_json(side.read_text(encoding="utf-8"))
    return None


class TFLiteSession:
    """A TFLite model with onnxruntime's ``get_inputs`` / ``get_outputs`` / ``run``; see the module docstring."""

    def __init__(self, path: Path):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise TFLiteError(f"{path.name}: running TFLite models needs ai-edge-litert; pip install 'sensorlab[litert]'") from None
        self.path = Path(path)
        data = self.path.read_bytes()
        self.contract = read_contract(self.path, data)
        try:
            self.interp = Interpreter(model_content=data, num_threads=1)
            self.interp.allocate_tensors()
        except (ValueError, RuntimeError) as e:  # the interpreter's own message for a bad flatbuffer or op
            first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
            raise TFLiteError(f"{path.name}: not a valid TFLite model ({first}); load a .tflite file exported by sensorlab export or a TFLite converter") from None
        self._in = self.interp.get_input_details()
        self._out = self.interp.get_output_details()
        names_in, names_out = [d["name"] for d in self._in], [d["name"] for d in self._out]
        if self.contract is not None and len(self._in) == 1:
            names_in = [self.contract.input["name"]]
        if self.contract is not None and len(self._out) == 1:
            names_out = [self.contract.output.get("name", names_out[0])]
        self._in_index = {n: d for n, d in zip(names_in, self._in)}
        self._out_index = {n: d for n, d in zip(names_out, self._out)}
        self._shapes = {n: tuple(d["shape"]) for n, d in self._in_index.items()}  # as allocated now
        self._inputs = [_Meta(n, self._signature(d), self._type(d)) for n, d in self._in_index.items()]
        self._outputs = [_Meta(n, self._signature(d), self._type(d)) for n, d in self._out_index.items()]

    @staticmethod
    def _quantized(d: dict) -> bool:
        return np.dtype(d["dtype"]).kind in "iu" and d["quantization"][0] != 0.0

    def _type(self, d: dict) -> str:
        return "tensor(float)" if self._quantized(d) else _ORT_NAMES.get(np.dtype(d["dtype"]), "tensor(float)")

    @staticmethod
    def _signature(d: dict) -> list:
        sig = d.get("shape_signature")
        dims = [int(v) for v in (sig if sig is not None and len(sig) else d["shape"])]
        return [v if v >= 0 else None for v in dims]

    def get_inputs(self) -> list[_Meta]:
        return list(self._inputs)

    def get_outputs(self) -> list[_Meta]:
        return list(self._outputs)

    def run(self, output_names: list[str] | None, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        for name, value in feed.items():
            d = self._in_index[name]
            x = np.asarray(value)
            if x.shape != self._shapes[name]:
                self.interp.resize_tensor_input(d["index"], list(x.shape))
                self.interp.allocate_tensors()
                self._shapes[name] = x.shape
            dtype = np.dtype(d["dtype"])
            if self._quantized(d):
                scale, zero = d["quantization"]
                info = np.iinfo(dtype)
                x = np.clip(np.round(x / scale) + zero, info.min, info.max)
            self.interp.set_tensor(d["index"], np.ascontiguousarray(x, dtype=dtype))
        self.interp.invoke()
        out = []
        for name in output_names or list(self._out_index):
            d = self._out_index[name]
            y = self.interp.get_tensor(d["index"])
            if self._quantized(d):
                scale, zero = d["quantization"]
                y = (y.astype(np.float32) - np.float32(zero)) * np.float32(scale)
            out.append(y)
        return out


__all__ = ["TFLiteError", "TFLiteSession", "read_contract"]
