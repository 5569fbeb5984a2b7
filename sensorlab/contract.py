"""The model contract: what a sensorlab model expects as input and what its outputs mean.

Training writes it, every exported model carries it (ONNX ``metadata_props`` key
`METADATA_KEY`; TFLite files hold it in their ``metadata`` table under the same key, with a
``.contract.json`` sidecar beside them), and live inference reads
it with onnxruntime alone (`from_onnxruntime`): this module imports neither torch nor Qt nor
onnx, only NumPy and the dataset normalization.

One code path for training and serving: `prepare` turns raw windows (as cut by
`sensorlab.datasets.windows`) into the model's input with
`sensorlab.datasets.normalize.ChannelStats.apply`, the same call training makes.

Versioning follows the dataset and session formats: adding a field bumps the minor version
(older readers ignore it); removing or changing a meaning bumps the major version, and
`ModelContract.from_json` refuses a newer major.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sensorlab.datasets.normalize import ChannelStats

SCHEMA = "sensorlab.model_contract"
VERSION = "1.1"  # 1.1: log-mel features outside the graph (features.in_graph false, mean, std, shape) for int8 TFLite audio
MAJOR = int(VERSION.split(".")[0])
#: ONNX metadata_props key holding the contract JSON.
METADATA_KEY = "sensorlab.contract"
TASKS = ("audio", "timeseries", "image")

#: JSON schema of a contract (draft 2020-12); `validate` checks the same rules without a dependency.
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://sensorlab.dev/schemas/model_contract-1.json",
    "type": "object",
    "required": ["schema", "version", "task", "input", "window", "features", "labels", "output"],
    "properties": {
        "schema": {"const": SCHEMA},
        "version": {"type": "string", "pattern": r"^\d+\.\d+$"},
        "task": {"enum": list(TASKS)},
        "input": {
            "type": "object",
            "required": ["name", "stream", "rate", "channels", "shape", "dtype", "normalization"],
            "properties": {
                "name": {"type": "string", "description": "graph input name"},
                "stream": {"type": "string", "description": "session stream the window is cut from"},
                "rate": {"type": "number", "exclusiveMinimum": 0, "description": "samples (or frames) per second"},
                "channels": {"type": "array", "items": {"type": "string"}, "description": "channel order of the last axis"},
                "shape": {"type": "array", "items": {"type": "integer"}, "description": "one window, without the batch axis"},
                "dtype": {"enum": ["float32", "int8", "uint8"]},
                "normalization": {
                    "type": "object",
                    "required": ["kind"],
                    "properties": {
                        "kind": {"enum": ["standardize", "scale", "none"]},
                        "mean": {"type": "array", "items": {"type": "number"}},
                        "std": {"type": "array", "items": {"type": "number"}},
                        "scale": {"type": "number"},
                    },
                },
                "quantization": {"type": ["object", "null"], "description": "int8 input: scale and zero_point after normalization"},
            },
        },
        "window": {"type": "object", "required": ["length", "hop"],
                   "properties": {"length": {"type": "number"}, "hop": {"type": "number"}}},
        "features": {"type": "object", "required": ["kind", "in_graph"],
                     "properties": {"kind": {"enum": ["none", "log_mel"]}, "in_graph": {"type": "boolean"}}},
        "labels": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "output": {"type": "object", "required": ["name", "kind"],
                   "properties": {"name": {"type": "string"}, "kind": {"enum": ["logits", "probabilities"]}}},
        "dataset": {"type": "object"},
        "model": {"type": "object"},
    },
}  # fmt: skip


class ContractError(ValueError):
    """A missing, malformed or too new contract: one line naming the problem."""


@dataclass
class ModelContract:
    """What goes into a model and what comes out. Field meanings: `JSON_SCHEMA`."""

    task: str
    input: dict[str, Any]
    window: dict[str, float]
    features: dict[str, Any]
    labels: list[str]
    output: dict[str, str] = field(default_factory=lambda: {"name": "logits", "kind": "logits"})
    dataset: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    schema: str = SCHEMA
    version: str = VERSION

    def to_json(self) -> str:
        d = asdict(self)
        validate(d)
        return json.dumps(d, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> ModelContract:
        try:
            d = json.loads(text)
        except (TypeError, ValueError) as e:
            raise ContractError(f"the model contract is not JSON ({e})") from e
        validate(d)
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}  # newer minor fields are ignored
        return cls(**known)

    def prepare(self, windows: np.ndarray) -> np.ndarray:
        """Raw windows ``(n, *input.shape)`` as cut from the stream → the float model input."""
        x = np.asarray(windows)
        if tuple(x.shape[1:]) != tuple(self.input["shape"]):
            raise ContractError(f"windows of shape {tuple(x.shape[1:])} given; the model takes {tuple(self.input['shape'])} "
                                f"({self.input['stream']} at {self.input['rate']} Hz, channels {', '.join(self.input['channels'])})")  # fmt: skip
        norm = self.input["normalization"]
        if norm["kind"] == "standardize":
            x = ChannelStats(np.asarray(norm["mean"], np.float64), np.asarray(norm["std"], np.float64)).apply(x)
        elif norm["kind"] == "scale":
            x = (x.astype(np.float32) * np.float32(norm["scale"])).astype(np.float32)
        return self.extract(x.astype(np.float32))

    def extract(self, x: np.ndarray) -> np.ndarray:
        """Normalized windows → the model input: themselves, or the features the graph does not compute.

        A log-mel front end outside the graph (``features.in_graph`` false: fully-int8 TFLite
        audio models) is computed here with `sensorlab.logmel`, the reference a device follows.
        """
        if self.features.get("kind") == "log_mel" and not self.features.get("in_graph", True):
            from sensorlab import logmel

            return logmel.features(x, self.features)
        return x

    @property
    def model_input_shape(self) -> list[int]:
        """Shape of one model input (the window, or ``features.shape`` when features are outside the graph)."""
        if self.features.get("kind") == "log_mel" and not self.features.get("in_graph", True):
            return [int(v) for v in self.features["shape"]]
        return [int(v) for v in self.input["shape"]]


def validate(d: Any) -> None:
    """Check the rules of `JSON_SCHEMA` that matter to a reader; raise `ContractError` naming the key."""
    if not isinstance(d, dict):
        raise ContractError("the model contract must be a JSON object")
    if d.get("schema") != SCHEMA:
        raise ContractError(f"not a sensorlab model contract (schema {d.get('schema')!r})")
    version = str(d.get("version", ""))
    try:
        major = int(version.split(".")[0])
    except ValueError:
        raise ContractError(f"contract version {version!r} is not MAJOR.MINOR") from None
    if major > MAJOR:
        raise ContractError(f"model contract {version} is newer than this sensorlab reads ({MAJOR}.x); update sensorlab")
    for key in JSON_SCHEMA["required"]:
        if key not in d:
            raise ContractError(f"model contract: missing key {key!r}")
    if d["task"] not in TASKS:
        raise ContractError(f"model contract: task {d['task']!r} is not one of {', '.join(TASKS)}")
    inp = d["input"]
    for key in JSON_SCHEMA["properties"]["input"]["required"]:
        if key not in inp:
            raise ContractError(f"model contract: missing key input.{key}")
    norm = inp["normalization"]
    if norm.get("kind") == "standardize" and not (len(norm.get("mean", [])) == len(norm.get("std", [])) == len(inp["channels"])):
        raise ContractError("model contract: input.normalization mean and std need one value per channel")
    if not isinstance(d["labels"], list) or len(d["labels"]) < 2:
        raise ContractError("model contract: labels must list at least two class names")


def from_onnxruntime(session) -> ModelContract:
    """The contract of an ``onnxruntime.InferenceSession`` (onnxruntime only, no onnx package)."""
    meta = session.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in meta:
        raise ContractError(f"this ONNX model has no {METADATA_KEY!r} metadata; export it with `sensorlab export` or map its inputs by hand")
    return ModelContract.from_json(meta[METADATA_KEY])


__all__ = ["JSON_SCHEMA", "METADATA_KEY", "SCHEMA", "VERSION", "ContractError", "ModelContract", "from_onnxruntime", "validate"]
