"""`BoundRun`: the live engine's model call, one window at a time, with nothing allocated per window.

``session.run(None, {name: x})`` is what a user writes, and for a sensor model that runs in
tens of microseconds it is mostly overhead: the feed dict is checked and converted, every
output is allocated and converted to NumPy, and the result list is built. Live inference runs
the same model on windows of the same shape forever, so this binds every input and output
once (onnxruntime's IOBinding) to arrays allocated when the model opens:

- the window input: the engine's features are written straight into it (normalization with
  ``out=``, the layout as a view of the buffer, no transposed copy);
- constant inputs: bound once;
- recurrent state: each state input has a buffer, each state output another; after a run the
  output is copied into the input (a few floats), and `reset` zeroes the inputs;
- the scores output: a buffer the probabilities are computed from (the float64 arithmetic
  `LoadedModel.run` does, on Python floats: for one window of a few classes that is cheaper
  than NumPy calls).

The live call (`BoundRun.__call__`) goes one step further: it runs a copy of the graph with
the scaling in front and the probabilities behind (`sensorlab.inference.fused`), bound the same
way, so a window is one copy into the bound input, one run, and one copy of the probabilities
out — or, for a window the windower holds as the model's layout stores it (`__call__`'s
``address``), no copy in: the raw input is bound to the window where it lies; the arrays and
the path below stay for a graph that cannot be rewritten, for `batch`, for `run_input`
(another build's prepared features, in a parity comparison) and for `prepare` (the model
input a tap gets).

Where `sensorlab.inference.ort_ext` can have onnxruntime's C API, the fused graph's live call is
one C call over the same arrays (`_Fused.native`; the engine's usual wake-up: hop and run in one
call). Otherwise a run is ``session.run_with_iobinding(binding)`` without run options (with an empty
`RunOptions` onnxruntime 1.2x's Python wrapper looks up a graph-capture key, and the C++
exception of the missing key costs more than the model). On the bench's small sensor CNN that
call takes ~9 µs where ``session.run`` takes ~13 µs (docs/performance/inference.md).

Only ONNX models whose window input is float32 and whose features are computed in the graph
are bound (`bind` returns None otherwise: TFLite builds, log-mel front ends outside the graph
and other input types take `LoadedModel.run`). Results equal `LoadedModel.features` +
`LoadedModel.run`: the features bit for bit, the probabilities to float32 rounding (``math.exp``
and NumPy's ``exp`` may differ in the last bit of a float64; `tests/inference/test_bound.py`).
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from sensorlab.inference.ort_ext import native_session
from sensorlab.inference.ort_session import ModelError, concrete_shape, run_failed, session_options

_exp = math.exp

if TYPE_CHECKING:
    from sensorlab.inference.model import LoadedModel


class BoundRun:
    """Raw window ``(samples, channels)`` → class probabilities ``(1, classes)``, inputs and outputs bound once."""

    def __init__(self, model: LoadedModel, samples: int, channels: int):
        self.model = m = model
        sess = m.sess
        spec = m.window_input
        sizes = {"N": 1, "T": samples, "C": channels, "1": 1}
        shape = tuple(sizes[c] for c in m.layout)
        self.input = np.zeros(shape, np.float32)
        # The window as the engine holds it, (samples, channels), seen through the buffer's layout.
        self._window = _window_view(self.input, m.layout, samples, channels)
        # What `LoadedModel.features` gives taps: (W=1, …) without the batch axis when the layout has none.
        self.features = self.input if m.batched else self.input[None]
        mapping, contract = m.mapping, m.contract
        self._mean = self._std = None
        self._scale = np.float32(1.0)
        self._offset = np.float32(0.0)
        self._prescale: np.float32 | None = None
        if contract is not None:
            norm = contract.input["normalization"]
            if norm["kind"] == "standardize":
                from sensorlab.datasets.normalize import MIN_STD

                self._mean = np.asarray(norm["mean"], np.float64)
                self._std = np.maximum(np.asarray(norm["std"], np.float64), MIN_STD)
            elif norm["kind"] == "scale":
                self._prescale = np.float32(norm["scale"])
        else:
            if m.stats is not None:
                from sensorlab.datasets.normalize import MIN_STD

                self._mean = m.stats.mean
                self._std = np.maximum(m.stats.std, MIN_STD)
            if mapping.scale != 1.0 or mapping.offset != 0.0:
                self._scale, self._offset = np.float32(mapping.scale), np.float32(mapping.offset)
        self._tmp = np.empty((samples, channels), np.float64) if self._mean is not None else None
        self._affine = self._scale != 1.0 or self._offset != 0.0
        # Output shapes and types: one plain run on zeros (the state starts at zero too).
        names = [t.name for t in m.outputs]
        feed = {spec.name: self.input, **m.constants, **m.state}
        try:
            first = sess.run(names, feed)
        except Exception as e:  # noqa: BLE001 - onnxruntime's own exception types
            raise run_failed(m.path.name, spec.name, e, shape) from None
        self.binding = io = sess.io_binding()
        self._keep: list[np.ndarray] = []  # every bound array stays alive (and in place) as long as the binding

        def bind_in(name: str, a: np.ndarray) -> np.ndarray:
            a = np.ascontiguousarray(a)
            io.bind_input(name, "cpu", 0, a.dtype, list(a.shape), a.ctypes.data)
            self._keep.append(a)
            return a

        def bind_out(name: str, like: np.ndarray) -> np.ndarray:
            a = np.zeros(np.shape(like), np.asarray(like).dtype)
            io.bind_output(name, "cpu", 0, a.dtype, list(a.shape), a.ctypes.data)
            self._keep.append(a)
            return a

        bind_in(spec.name, self.input)
        self._constants = {k: bind_in(k, v) for k, v in m.constants.items()}
        by_name = {t.name: t for t in m.inputs}
        self._state = []  # (output buffer, input buffer)
        for o, i in m.state_pairs.items():
            sin = bind_in(i, np.zeros(concrete_shape(by_name[i].shape), by_name[i].dtype))
            self._state.append((bind_out(o, first[names.index(o)]), sin))
        self.scores = bind_out(names[m.scores_index], first[m.scores_index])
        # Probabilities, as `LoadedModel._probabilities` computes them, into preallocated arrays.
        k = int(self.scores.size)
        self._flat = self.scores.reshape(-1)
        self._kind = mapping.scores_kind if not (mapping.scores_kind == "logits" and k == 1) else "sigmoid"
        self._pair = k == 1 and len(m.labels) == 2
        self.classes = 2 if self._pair else k  # probabilities per window (columns of a call's result)
        if m.labels and (2 if self._pair else k) != len(m.labels):
            raise ModelError(f"{m.path.name}: output {m.outputs[m.scores_index].name!r} gives {k} scores but {len(m.labels)} labels are mapped; "
                             f"fix 'labels' (or 'scores')")  # fmt: skip
        self._run = sess.run_with_iobinding
        self._fused: _Fused | bool | None = None  # the one-run call (`sensorlab.inference.fused`), made on the first window
        self._scores_name = [names[m.scores_index]]
        self._batches: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}  # per batch size: input, its (W, T, C) view, float64 scratch

    def batch(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Several raw windows ``(W, samples, channels)`` in ONE run → (their model inputs ``(W, …)``:
        a buffer reused by the next batch of this size, so copy it to keep it; probabilities
        ``(W, classes)``, new). Only for a model whose batch axis is free and that has no
        recurrent state (`LoadedModel.batch_ok`; the engine checks). The inputs are computed with
        `__call__`'s arithmetic (so equal to `LoadedModel.features` bit for bit) into a buffer kept
        per batch size; the run is a plain ``session.run`` (its feed is checked once for all the
        windows) and the probabilities are `LoadedModel._probabilities`' own."""
        m = self.model
        w = len(windows)
        bufs = self._batches.get(w)
        if bufs is None:
            if len(self._batches) >= 8:  # batch sizes vary little (a stall's backlog); keep a few
                self._batches.clear()
            letters = [c for c in m.layout if c in "TC"]
            sizes = {"N": w, "T": self._window.shape[0], "C": self._window.shape[1], "1": 1}
            x = np.zeros(tuple(sizes[c] for c in m.layout), np.float32)
            view = x.reshape([w] + [sizes[c] for c in letters])
            view = view.transpose(0, 2, 1) if letters == ["C", "T"] else (view[..., None] if letters == ["T"] else view)
            tmp = np.empty((w, *self._window.shape), np.float64) if self._mean is not None else None
            bufs = self._batches[w] = (x, view, tmp)
        x, view, tmp = bufs
        self._normalize(windows, view, tmp)
        feed = {m.window_input.name: x, **m.constants} if m.constants else {m.window_input.name: x}
        try:
            scores = m.sess.run(self._scores_name, feed)[0]
        except Exception as e:  # noqa: BLE001 - onnxruntime's own exception types
            raise run_failed(m.path.name, m.window_input.name, e, x.shape) from None
        return x, m._probabilities(scores)

    def reset(self) -> None:
        """Zero the recurrent state (a gap, a skip, lost input)."""
        for _out, sin in self._state:
            sin.fill(0)

    def __call__(self, window: np.ndarray, out: np.ndarray | None = None, address: int = 0) -> np.ndarray:
        """One raw window ``(samples, channels)`` → a new ``(1, classes)`` float32 array of probabilities
        (or written into ``out``, a ``(1, classes)`` float32 array the caller made, and returned).

        The live call: one onnxruntime run of the model with its scaling and probabilities in the
        graph (`_Fused`), or, when that graph cannot be built, the scaling here, the bound run and
        the probabilities on Python floats. `features` is not written (`prepare` writes it).

        ``address``: the caller vouches that ``window`` is a C-contiguous float32 array whose first
        sample is at this address (the windower's held samples: `Windower.push_chunks` with
        ``one``). The run then reads the window where it lies — the fused graph's raw input is
        bound to that memory (`_Fused.bind_at`) instead of the window being copied into the
        bound buffer (16,000 floats a window for a 1 s window at 16 kHz) — when the model's
        layout stores a window as ``(samples, channels)`` row after row (`_Fused.zero_copy`);
        otherwise, and with ``address`` 0, the window is copied as before."""
        f = self._fused
        if f is None:
            f = self._fused = self._fuse()
        if f is False:
            self._normalize(window, self._window, self._tmp)
            if out is None:
                return self._run_bound()
            out[...] = self._run_bound()
            return out
        native = f.native  # type: ignore[union-attr]
        if native is not None:  # onnxruntime's C API (`sensorlab.inference.ort_ext`): the rebinding, the run, the state and the copy out in one call
            try:
                if address and f.zero_copy:  # type: ignore[union-attr]
                    native.run(address, out, window)  # (the session keeps ``window`` alive while its input is bound there)
                else:
                    np.copyto(f.window, window, casting="unsafe")  # type: ignore[union-attr]
                    native.run(0, out, None)
            except Exception as e:  # noqa: BLE001 - _ort.OrtError: onnxruntime's status
                raise run_failed(self.model.path.name, self.model.window_input.name, e) from None
            return f.probs.copy() if out is None else out  # type: ignore[union-attr]
        if address and f.zero_copy:  # type: ignore[union-attr]
            if address != f.bound_at:  # type: ignore[union-attr]  # (`_Fused.bind_at`, inlined: the usual hop's every window)
                f.bind(address)  # type: ignore[union-attr]
                f.bound_at = address  # type: ignore[union-attr]
                f.held = window  # type: ignore[union-attr]
        else:
            if f.bound_at != f.own:  # type: ignore[union-attr]
                f.bind_at(None, f.own)  # type: ignore[union-attr]
            np.copyto(f.window, window, casting="unsafe")  # type: ignore[union-attr]
        try:
            f.run(f.binding, None)  # type: ignore[union-attr]
        except Exception as e:  # noqa: BLE001 - onnxruntime's own exception types
            raise run_failed(self.model.path.name, self.model.window_input.name, e) from None
        for sout, sin in self._state:
            np.copyto(sin, sout)
        if out is None:
            return f.probs.copy()  # type: ignore[union-attr]
        np.copyto(out, f.probs)  # type: ignore[union-attr]
        return out

    def prepare(self, window: np.ndarray) -> np.ndarray:
        """The model input of one raw window (``features``, overwritten by the next call): for taps."""
        self._normalize(window, self._window, self._tmp)
        return self.features

    def _fuse(self) -> _Fused | bool:
        from sensorlab.inference.fused import fused_graph

        try:
            fused = fused_graph(self.model, int(self.scores.size), self._pair, self._kind, self.input.shape)
            return _Fused(self, *fused) if fused is not None else False
        except Exception:  # noqa: BLE001 - a graph this rewrite does not foresee, or onnxruntime refusing it: keep the unfused call
            return False

    def _normalize(self, raw: np.ndarray, out: np.ndarray, tmp: np.ndarray | None) -> None:
        """Raw samples → the model input, written into ``out`` (a view of a bound buffer), with
        `LoadedModel.features`' arithmetic bit for bit: a standardization is `ChannelStats.apply`
        (the subtraction and the division in float64, ``tmp``, rounded once to float32 as the
        division writes ``out``), then a mapping's scale and offset in float32."""
        if self._mean is not None:
            np.subtract(raw, self._mean, out=tmp)
            np.divide(tmp, self._std, out=out, casting="unsafe")  # float64 quotient, cast on the way out: one rounding, as astype
        elif self._prescale is not None:
            np.multiply(raw, self._prescale, out=out)
        else:
            np.copyto(out, raw, casting="unsafe")
        if self._affine:
            np.multiply(out, self._scale, out=out)
            np.add(out, self._offset, out=out)

    def run_input(self, features: np.ndarray) -> np.ndarray:
        """One window's model input, already prepared (``features``, shaped like `features`: another
        build's, in a parity comparison) → a new ``(1, classes)`` array of probabilities."""
        np.copyto(self.features, features, casting="unsafe")
        return self._run_bound()

    def _run_bound(self) -> np.ndarray:
        try:
            self._run(self.binding)
        except Exception as e:  # noqa: BLE001 - onnxruntime's own exception types
            raise run_failed(self.model.path.name, self.model.window_input.name, e) from None
        for sout, sin in self._state:
            np.copyto(sin, sout)
        # The probabilities of one window: `LoadedModel._probabilities`' float64 arithmetic on
        # Python floats, which for a few classes costs a third of the same in NumPy calls
        # (~3 µs against ~7 µs: each ufunc call on a tiny array is ~1 µs of overhead).
        v = self._flat.tolist()
        kind = self._kind
        if kind == "logits":
            top = max(v)
            e = [_exp(a - top) for a in v]
            total = sum(e)
            v = [a / total for a in e]
        elif kind == "sigmoid":
            v = [1.0 / (1.0 + _exp(-a)) for a in v]
        if self._pair:
            return np.array([[1.0 - v[0], v[0]]], np.float32)
        return np.array([v], np.float32)


class _Fused:
    """The fused graph's session, bound once: the raw window in, the probabilities out, the
    constants and the recurrent state bound to `BoundRun`'s own arrays (so its `reset` resets both)."""

    def __init__(self, bound: BoundRun, graph: bytes, raw: str):
        import onnxruntime as ort

        from sensorlab.inference.fused import PROBS

        m = bound.model
        self.sess = sess = ort.InferenceSession(graph, sess_options=session_options(), providers=["CPUExecutionProvider"])
        self.input = np.zeros(bound.input.shape, np.float32)
        w = bound._window
        # The same view of the input buffer as BoundRun's: the window (samples, channels) in the model's layout.
        self.window = _window_view(self.input, m.layout, *w.shape)
        labels = 2 if bound._pair else int(bound.scores.size)
        self.probs = np.zeros((1, labels), np.float32)
        io = sess.io_binding()
        io.bind_input(raw, "cpu", 0, np.float32, list(self.input.shape), self.input.ctypes.data)
        # Where the raw input is bound: `own` (this object's `input`) or a caller's window (`bind_at`).
        self.native = None  # the C API session (below), once made (`native_error`: why not, when the extension is loaded)
        self.own = self.bound_at = self.input.ctypes.data
        # A window (samples, channels) stored row after row is this input's memory as it is (one
        # channel, or the layout's channels after the samples): then a held window can be bound
        # where it lies instead of copied (`BoundRun.__call__`'s ``address``).
        self.zero_copy = bool(self.window.flags.c_contiguous)
        self.held: np.ndarray | None = None  # the array the input is bound into, kept alive while bound
        self._raw, self._shape = raw, list(self.input.shape)
        for k, v in bound._constants.items():
            io.bind_input(k, "cpu", 0, v.dtype, list(v.shape), v.ctypes.data)
        for (sout, sin), (o, i) in zip(bound._state, m.state_pairs.items()):
            io.bind_input(i, "cpu", 0, sin.dtype, list(sin.shape), sin.ctypes.data)
            io.bind_output(o, "cpu", 0, sout.dtype, list(sout.shape), sout.ctypes.data)
        io.bind_output(PROBS, "cpu", 0, np.float32, [1, labels], self.probs.ctypes.data)
        self.io = io
        # onnxruntime's C binding itself: its Python `run_with_iobinding` first asks the session
        # whether WebGPU graph capture is on (~1–4 µs a window); the CPU session never captures.
        native, iob = getattr(sess, "_sess", None), getattr(io, "_iobinding", None)
        if native is not None and iob is not None and hasattr(native, "run_with_iobinding"):
            self.run, self.binding = native.run_with_iobinding, iob
        else:
            self.run, self.binding = (lambda b, _opts: sess.run_with_iobinding(b)), io
        # Rebinding the raw input: the C binding's own call where it is reachable (the Python
        # wrapper's `bind_input` makes a device object and reads the dtype every time: ~2× the cost).
        # (a `partial`: called from `BoundRun.__call__` with no Python frame in between)
        device = _cpu_device()
        if device is not None and iob is not None and hasattr(iob, "bind_input"):
            self.bind = partial(iob.bind_input, raw, device, np.float32, self._shape)
        else:
            self.bind = partial(io.bind_input, raw, "cpu", 0, np.float32, self._shape)
        sess.run_with_iobinding(io)  # a first run: a graph that fails, fails here (and the call stays unfused); the state inputs are only read
        # The same graph through onnxruntime's C API over the same arrays, where it can be had
        # (`sensorlab.inference.ort_ext`): a window is then one C call with the GIL released.
        self.native, self.native_error = native_session(graph, raw, PROBS, self.input, self.probs, bound._constants, bound._state, m.state_pairs)

    @property
    def bound_at(self) -> int:
        """The address the raw input reads from: `own` or a held window's (the C API session's own record when it runs)."""
        return self.native.bound_at if self.native is not None else self._bound_at

    @bound_at.setter
    def bound_at(self, address: int) -> None:
        self._bound_at = address

    def bind_at(self, window: np.ndarray | None, address: int) -> None:
        """Bind the raw input to ``address``: the first sample of ``window`` (kept referenced, so
        its memory stays allocated for as long as the binding points into it), or `own` with None.

        Rebound before every run whose window lies elsewhere, so a run never reads memory other
        than the window it was handed: a held buffer that grows or compacts moves the next window
        to another address, which is bound then; a copied window rebinds `own` first."""
        self.bind(address)
        self.bound_at = address
        self.held = window


def _cpu_device():
    """onnxruntime's CPU device object for its C binding's `bind_input`, or None where that API differs."""
    try:
        from onnxruntime.capi import _pybind_state as C

        return C.OrtDevice(C.OrtDevice.cpu(), C.OrtDevice.default_memory(), 0)
    except Exception:  # noqa: BLE001 - another onnxruntime's internals: the public wrapper instead
        return None


def _window_view(buf: np.ndarray, layout: str, samples: int, channels: int) -> np.ndarray:
    """The window as the engine holds it, (samples, channels), seen through a buffer in the model's layout."""
    sizes = {"T": samples, "C": channels}
    letters = [c for c in layout if c in "TC"]
    view = buf.reshape([sizes[c] for c in letters])
    return view.T if letters == ["C", "T"] else (view[:, None] if letters == ["T"] else view)


def bind(model: LoadedModel, samples: int, channels: int) -> BoundRun | None:
    """A `BoundRun` for ``model`` when it can be bound (an ONNX float32 window input, features in the graph), else None."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    if not isinstance(model.sess, ort.InferenceSession) or model.window_input.dtype is not np.float32:
        return None
    c = model.contract
    if c is not None and c.model_input_shape != [int(v) for v in c.input["shape"]]:
        return None  # features computed outside the graph (log-mel): LoadedModel.run
    return BoundRun(model, samples, channels)


__all__ = ["BoundRun", "bind"]
