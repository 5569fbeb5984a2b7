"""`LoadedModel`: an ONNX or TFLite model, its mapping, and one call from raw windows to class probabilities.

An ONNX model runs in onnxruntime with one intra-op and one inter-op thread: live inference
shares the machine with the devices and the recorder, and a single small model gains
nothing from more threads on a 2-core laptop (it only makes its latency jitter). A ``.tflite``
file runs in ai-edge-litert's interpreter, also on one thread, behind the same session calls
(`sensorlab.inference.tflite`); its contract is read from the file's metadata.

Features go through the same code as training: a sensorlab model's windows are prepared with
its contract's `ModelContract.prepare` (the dataset's `ChannelStats.apply`), exactly the call
`sensorlab.training.data` makes; a mapped model's standardization uses the same
`ChannelStats.apply`, then its scale and offset.

Every problem is a `ModelError` naming the model, the input or output concerned and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sensorlab.contract import METADATA_KEY, ContractError, ModelContract, from_onnxruntime
from sensorlab.datasets.normalize import ChannelStats
from sensorlab.inference.bound import bind
from sensorlab.inference.mapping import MappingError, ModelMapping, load_mapping, mapping_path
from sensorlab.inference.ort_session import ModelError, concrete_shape, run_failed, session_options
from sensorlab.inference.tflite import TFLiteError, TFLiteSession

#: onnxruntime element types → NumPy dtypes (the ones small sensor models use).
_ORT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16, "tensor(int8)": np.int8,
              "tensor(uint8)": np.uint8, "tensor(int16)": np.int16, "tensor(int32)": np.int32, "tensor(int64)": np.int64,
              "tensor(bool)": np.bool_}  # fmt: skip


@dataclass(frozen=True)
class TensorSpec:
    """One graph input or output as onnxruntime reports it (dims: int, or a name/None when dynamic)."""

    name: str
    shape: tuple
    type: str

    @property
    def dtype(self) -> type:
        return _ORT_TYPES.get(self.type, np.float32)

    def describe(self) -> str:
        dims = ", ".join(str(d) if isinstance(d, int) and d >= 0 or isinstance(d, str) and d else "?" for d in self.shape)
        return f"{self.name} {self.type.removeprefix('tensor(').rstrip(')')} [{dims}]"


def describe_model(path: str | Path) -> tuple[list[TensorSpec], list[TensorSpec], ModelContract | None]:
    """Inputs, outputs and contract (None for a foreign model) of an ONNX or TFLite file, for the mapping dialog."""
    sess = _open_session(Path(path))
    try:
        contract = _contract(sess)
    except ContractError:
        contract = None
    return _specs(sess.get_inputs()), _specs(sess.get_outputs()), contract


def _contract(sess) -> ModelContract:
    """The session's embedded contract; `ContractError` (naming 'sensorlab.contract') when it has none."""
    if isinstance(sess, TFLiteSession):
        if sess.contract is None:
            raise ContractError(f"this TFLite model has no {METADATA_KEY!r} metadata; export it with `sensorlab export` or map its inputs by hand")
        return sess.contract
    return from_onnxruntime(sess)


def _specs(items) -> list[TensorSpec]:
    return [TensorSpec(i.name, tuple(i.shape), i.type) for i in items]


def _open_session(path: Path):
    import onnxruntime as ort

    if path.is_dir():  # a run folder: name the exported file in it, or how to write one
        inside = sorted(path.glob("*.onnx"), key=lambda p: (p.name != "model.onnx", p.name))  # the fp32 build first
        hint = (f" (e.g. {inside[0]})" if inside else f" (export one first: sensorlab export {path})" if (path / "model.pt").exists() else "")
        raise ModelError(f"{path}: a folder, not a model file; give the .onnx or .tflite file{hint}")
    if not path.is_file():
        raise ModelError(f"{path}: no such model file; give the path of a .onnx or .tflite file")
    if path.suffix.lower() in (".pt", ".pth", ".ckpt"):
        # A run folder's model.pt (the trained weights) picked where its export is wanted: the
        # generic "not a valid ONNX model (INVALID_PROTOBUF …)" did not say what to run.
        folder = path.parent
        raise ModelError(f"{path.name}: a PyTorch checkpoint, not a model to run; export it first with "
                         f"`sensorlab export {folder} --format onnx` (writes {folder / 'model.onnx'}), or Export ONNX in the Training tab")  # fmt: skip
    if path.suffix.lower() == ".tflite":
        try:
            return TFLiteSession(path)
        except (TFLiteError, ContractError) as e:
            raise ModelError(str(e) if path.name in str(e) else f"{path.name}: {e}") from None
    try:
        return ort.InferenceSession(str(path), sess_options=session_options(), providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types for bad files
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelError(f"{path.name}: not a valid ONNX model ({first[:200]}); load a .onnx file exported by sensorlab export or another ONNX exporter") from None


# Pairs of (output, input) naming conventions for recurrent state: h_out → h_in, state_out → state_in …
_STATE_PATTERNS = [("_out", "_in"), ("out_", "in_"), ("_output", "_input"), ("output_", "input_"), ("_next", ""), ("next_", ""), ("_new", ""), ("new_", "")]


def _state_partner(output: str, input_names: set[str]) -> str | None:
    for o, i in _STATE_PATTERNS:
        for cand in (output.replace(o, i, 1) if o in output else None,):
            if cand and cand != output and cand in input_names:
                return cand
    m = re.fullmatch(r"(.*?)(out|output)(\d*)", output)
    if m and f"{m.group(1)}in{m.group(3)}" in input_names:
        return f"{m.group(1)}in{m.group(3)}"
    return None


class LoadedModel:
    """An ONNX or TFLite model ready to turn raw windows ``(W, samples, channels)`` into probabilities.

    Parameters
    ----------
    path
        The ``.onnx`` or ``.tflite`` file.
    mapping
        For a model without a sensorlab contract; default: the ``MODEL.mapping.json`` beside it.
        A sensorlab model's contract wins unless a mapping is given explicitly.
    """

    def __init__(self, path: str | Path, mapping: ModelMapping | None = None):
        self.path = Path(path)
        self.sess = _open_session(self.path)
        self.inputs = _specs(self.sess.get_inputs())
        self.outputs = _specs(self.sess.get_outputs())
        self._output_names = [t.name for t in self.outputs]
        self.contract: ModelContract | None = None
        if mapping is None:
            try:
                self.contract = _contract(self.sess)
            except ContractError as e:
                if "no 'sensorlab.contract'" not in str(e):
                    raise ModelError(f"{self.path.name}: {e}") from None
            if self.contract is not None:
                try:
                    mapping = ModelMapping.from_contract(self.contract)
                except MappingError as e:
                    raise ModelError(f"{self.path.name}: {e}") from None
            else:
                try:
                    mapping = load_mapping(self.path)
                except MappingError as e:
                    raise ModelError(str(e)) from None
        if mapping is None:
            ins = "; ".join(t.describe() for t in self.inputs)
            raise ModelError(f"{self.path.name} is not a sensorlab model and has no mapping (inputs: {ins}); map it in the studio (Load model…) "
                             f"or write {mapping_path(self.path).name} (docs/INFERENCE.md)")  # fmt: skip
        self.mapping = mapping
        self._resolve()
        self.reset()

    # -- resolving the graph's inputs and outputs ------------------------------------------------
    def _resolve(self) -> None:
        m, name = self.mapping, self.path.name
        by_name = {t.name: t for t in self.inputs}
        out_names = [t.name for t in self.outputs]
        for k in m.constants:
            if k not in by_name:
                raise ModelError(f"{name}: the mapping sets constant input {k!r}, but the model's inputs are {', '.join(by_name)}; fix 'constants'")
        # Recurrent state: pairs set in the mapping, then outputs matched to inputs by name and shape.
        self.state_pairs: dict[str, str] = {}
        for o, i in m.state.items():
            if o not in out_names or i not in by_name:
                raise ModelError(f"{name}: mapping state {o!r} → {i!r}: the model has outputs {', '.join(out_names)} and inputs {', '.join(by_name)}; fix 'state'")
            self.state_pairs[o] = i
        window_input = m.input
        if window_input and window_input not in by_name:
            raise ModelError(f"{name}: the mapping feeds the window to input {window_input!r}, but the model's inputs are {', '.join(by_name)}; fix 'input'")
        taken = set(m.constants) | set(self.state_pairs.values()) | ({window_input} if window_input else set())
        for out in self.outputs:
            if out.name in self.state_pairs:
                continue
            partner = _state_partner(out.name, set(by_name) - taken)
            if partner and concrete_shape(by_name[partner].shape) == concrete_shape(out.shape):
                self.state_pairs[out.name] = partner
                taken.add(partner)
        free = [t.name for t in self.inputs if t.name not in taken]
        if not window_input:
            if len(free) != 1:
                raise ModelError(f"{name}: cannot tell which input takes the window ({', '.join(by_name[f].describe() for f in free) or 'none left'}); "
                                 f"set 'input' in the mapping and map the others as 'constants' or 'state'")  # fmt: skip
            window_input = free[0]
            free = []
        else:
            free = [f for f in free if f != window_input]
        if free:
            t = by_name[free[0]]
            # The output that could carry it: the one other output of its type and shape (a
            # stateful model whose names follow no convention), else a placeholder to fill in.
            scores_name = m.scores or (self.outputs[0].name if self.outputs else "")
            carriers = [o.name for o in self.outputs if o.name != scores_name and o.name not in self.state_pairs
                        and o.type == t.type and concrete_shape(o.shape) == concrete_shape(t.shape)]  # fmt: skip
            carrier = carriers[0] if len(carriers) == 1 else "<output>"
            raise ModelError(f"{name}: model input {t.describe()} is not mapped; set it in the mapping as a constant (\"constants\": {{\"{t.name}\": 0}}) "
                             f"or as recurrent state (\"state\": {{\"{carrier}\": \"{t.name}\"}})")  # fmt: skip
        self.window_input = by_name[window_input]
        if self.contract is not None and self.window_input.name != self.contract.input["name"]:
            raise ModelError(f"{name}: its contract names input {self.contract.input['name']!r}, which the graph does not have; re-export the model")
        scores = m.scores or (self.outputs[0].name if self.outputs else "")
        if scores not in out_names:
            raise ModelError(f"{name}: no output {scores!r} to read scores from (outputs: {', '.join(out_names)}); fix 'scores' in the mapping")
        self.scores_index = out_names.index(scores)
        self.constants = {k: np.asarray(v, dtype=by_name[k].dtype).reshape(concrete_shape(by_name[k].shape) if np.size(v) == int(np.prod(concrete_shape(by_name[k].shape))) else np.shape(v))
                          for k, v in m.constants.items()}  # fmt: skip
        self.layout = m.layout
        self.batched = m.layout.startswith("N")
        # A batch of windows in one call only when nothing is carried from one window to the next.
        dims = self.window_input.shape
        self.batch_ok = self.batched and not self.state_pairs and (len(dims) > 0 and not isinstance(dims[0], int) or dims[0] == -1)
        if len(dims) != len(m.layout):
            raise ModelError(f"{name}: input {self.window_input.describe()} has {len(dims)} axes but the layout {m.layout!r} has {len(m.layout)}; "
                             f"set 'layout' to one letter per axis (N batch, T samples, C channels, 1 singleton)")  # fmt: skip
        self.stats = ChannelStats(np.asarray(m.mean, np.float64), np.asarray(m.std, np.float64)) if m.mean else None
        if not m.labels:
            last = self.outputs[self.scores_index].shape[-1:] or (1,)
            if not isinstance(last[0], int) or last[0] <= 0:
                raise ModelError(f"{name}: output {scores!r} does not say how many classes it scores; list the class names in 'labels'")
            m.labels = [f"class{i}" for i in range(last[0])]

    def check_window(self, samples: int, channels: int) -> None:
        """Raise `ModelError` unless windows of ``samples`` × ``channels`` fit the input's fixed axes."""
        c = self.contract
        if c is not None and c.model_input_shape != [int(v) for v in c.input["shape"]]:
            # Features computed before the model (int8 TFLite audio: log-mel outside the graph):
            # the window must be the contract's raw window; `prepare` makes the model input.
            want = [int(v) for v in c.input["shape"]]
            if [samples, channels] != want:
                raise ModelError(f"{self.path.name}: the model's front end takes windows of {want[0]} samples × {want[1]} channel(s) "
                                 f"({c.window['length']:g} s at {c.input['rate']:g} Hz); the mapping gives {samples} × {channels}")  # fmt: skip
            return
        sizes = {"T": samples, "C": channels, "1": 1}
        swapped = self.layout.translate(str.maketrans("TC", "CT"))
        if "T" in self.layout and "C" in self.layout and not self._fits(self.layout, sizes) and self._fits(swapped, sizes):
            # Samples and channels the other way round: the per-axis message below then
            # proposed a window of a few milliseconds instead of the layout.
            raise ModelError(f"{self.path.name}: input {self.window_input.describe()} takes {channels} channel(s) × {samples} samples "
                             f"in the order {swapped!r}, the mapping's layout is {self.layout!r}; set 'layout' to {swapped!r}")  # fmt: skip
        for letter, dim in zip(self.layout, self.window_input.shape):
            if letter == "N" or not isinstance(dim, int) or dim <= 0:
                continue
            if sizes[letter] != dim:
                what = {"T": f"{samples} samples (window {self.mapping.window:g} s at {self.rate_text()})", "C": f"{channels} channel(s)", "1": "1"}[letter]
                fix = {"T": f"set window to {dim / (samples / self.mapping.window):g} s or rate to {dim / self.mapping.window:g} Hz",
                       "C": f"pick {dim} channel(s) in 'channels'", "1": "fix 'layout'"}[letter]  # fmt: skip
                raise ModelError(f"{self.path.name}: input {self.window_input.describe()} takes {dim} along {letter}, the mapping gives {what}; {fix}")
        if "C" not in self.layout and channels != 1:
            raise ModelError(f"{self.path.name}: layout {self.layout!r} has no channel axis but {channels} channels are mapped; add C to 'layout' or map one channel")
        if self.stats is not None and len(self.mapping.mean) != channels:
            raise ModelError(f"{self.path.name}: the mapping's mean/std have {len(self.mapping.mean)} values for {channels} channel(s); give one per channel")

    def _fits(self, layout: str, sizes: dict[str, int]) -> bool:
        """Whether windows of ``sizes`` (T, C, 1) fill every fixed axis of the input in ``layout``."""
        return all(letter == "N" or not isinstance(dim, int) or dim <= 0 or sizes[letter] == dim
                   for letter, dim in zip(layout, self.window_input.shape))  # fmt: skip

    def rate_text(self) -> str:
        return f"{self.mapping.rate:g} Hz" if self.mapping.rate else "the stream's rate"

    @property
    def labels(self) -> list[str]:
        return list(self.mapping.labels)

    # -- running -----------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget recurrent state (a gap in the stream, a restart)."""
        by_name = {t.name: t for t in self.inputs}
        self.state = {i: np.zeros(concrete_shape(by_name[i].shape), by_name[i].dtype) for i in self.state_pairs.values()}
        bound = getattr(self, "_bound", None)
        if bound:
            bound.reset()

    def bound(self, samples: int, channels: int):
        """The live engine's one-window call with inputs and outputs bound once (`sensorlab.inference.bound`),
        or None when this model cannot be bound (it then takes `features` + `run`). Made on first use:
        a model that fails at run time fails here, on its first window, with `run`'s message."""
        if getattr(self, "_bound", None) is None:
            self._bound = bind(self, samples, channels) or False
        return self._bound or None

    def features(self, windows: np.ndarray) -> np.ndarray:
        """Raw windows ``(W, samples, channels)`` → model input ``(W, …)`` (without the batch axis
        when the layout has none), scaled as in training."""
        x = np.asarray(windows)
        if self.contract is not None:
            x = self.contract.prepare(x)  # the call training makes (dataset ChannelStats)
        else:
            if self.stats is not None:
                x = self.stats.apply(x)
            x = x.astype(np.float32, copy=False)
            if self.mapping.scale != 1.0 or self.mapping.offset != 0.0:
                x = x * np.float32(self.mapping.scale) + np.float32(self.mapping.offset)
        return self._arrange(x)

    def _arrange(self, x: np.ndarray) -> np.ndarray:
        W, T, C = x.shape
        if "C" not in self.layout:
            x = x[..., 0]
            order = [0, 1]
        else:
            letters = [c for c in self.layout if c in "TC"]
            order = [0] + [1 if c == "T" else 2 for c in letters]
        x = x.transpose(order)
        shape = [W] + [{"T": T, "C": C, "1": 1}[c] for c in self.layout.removeprefix("N")]
        return np.ascontiguousarray(x.reshape(shape), dtype=self.window_input.dtype)

    def run(self, features: np.ndarray) -> np.ndarray:
        """Model inputs from `features` → probabilities ``(W, classes)``; state carried window to window."""
        if self.batch_ok:
            return self._probabilities(self._call(features))
        out = [self._probabilities(self._call(features[i : i + 1] if self.batched else features[i])) for i in range(len(features))]
        return np.concatenate(out) if out else np.empty((0, max(1, len(self.labels))), np.float32)

    def _call(self, x: np.ndarray) -> np.ndarray:
        feed = {self.window_input.name: x, **self.constants, **self.state} if self.constants or self.state else {self.window_input.name: x}
        try:
            outs = self.sess.run(self._output_names, feed)
        except Exception as e:  # noqa: BLE001 - onnxruntime's own exception types
            raise run_failed(self.path.name, self.window_input.name, e, x.shape) from None
        for o, i in self.state_pairs.items():
            self.state[i] = outs[self._output_names.index(o)]
        return np.asarray(outs[self.scores_index])

    def _probabilities(self, scores: np.ndarray) -> np.ndarray:
        s = np.asarray(scores, np.float64)
        s = s.reshape(len(s), -1) if s.ndim > 1 and self.batched else s.reshape(1, -1)
        kind = self.mapping.scores_kind
        if kind == "logits" and s.shape[1] > 1:
            e = np.exp(s - s.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
        elif kind in ("sigmoid", "logits"):
            p = 1.0 / (1.0 + np.exp(-s))
        else:
            p = s
        if p.shape[1] == 1 and len(self.labels) == 2:
            p = np.concatenate((1.0 - p, p), axis=1)  # one probability of the second label
        if self.labels and p.shape[1] != len(self.labels):
            raise ModelError(f"{self.path.name}: output {self.outputs[self.scores_index].name!r} gives {p.shape[1]} scores but {len(self.labels)} labels are mapped; "
                             f"fix 'labels' (or 'scores')")  # fmt: skip
        return p.astype(np.float32)


__all__ = ["LoadedModel", "ModelError", "TensorSpec", "describe_model"]
