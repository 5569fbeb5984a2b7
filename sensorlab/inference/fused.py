"""The live model call as one onnxruntime run: features and probabilities inside the graph.

`BoundRun` already runs the model with its inputs and outputs bound once, but around that run it
still did NumPy work per window: the standardization before (4,000 samples subtracted and divided
in float64 for the FSDD keyword model: ~10 µs) and the probabilities after (softmax on Python
floats, a new array). Here both move into the graph, once, when the model opens:

- a copy of the model (the user's file is never touched) gets a new input, ``sensorlab_raw``:
  the raw window in the model's own layout; the model's window input becomes the output of the
  scaling nodes — a standardization in float32 (`standardize_f32`, below), a contract's
  ``scale`` and a mapping's ``scale``/``offset`` as float32 ``Mul``/``Add``, as `BoundRun`
  computes them;
- the scores output is flattened to one row and turned into probabilities in the graph
  (``Softmax`` for logits, ``Sigmoid``, one probability of two labels as ``[1 - p, p]``),
  the new output ``sensorlab_probs``; other outputs the engine does not read are dropped, so
  onnxruntime does not compute them; recurrent state outputs stay.

The probabilities are computed in float32 where `LoadedModel._probabilities` uses float64: with
the standardization they differ by float32 rounding (≤ 1e-6; `tests/inference/test_fused.py` checks ≤ 1e-5 against the
unfused call for every kind of mapping). A graph that cannot be rewritten (no ``onnx`` package,
an opset older than 13, onnxruntime refusing the copy) returns None: the engine then keeps
`BoundRun`'s own call.

**The standardization in float32.** Training's `ChannelStats.apply` computes ``(x − mean) / std``
in float64 and rounds once to float32; the graph computes it as ``(x − m_hi) · (1/std) − c``
with three float32 nodes: ``m_hi`` is the mean rounded to float32, ``c`` the rest of the mean
in units of std (``(mean − m_hi) / std``, rounded to float32). A raw sample is a float32, so for
one near the mean (within a factor 2 of it) ``x − m_hi`` is exact, whatever the mean's size;
what is left is the rounding of ``1/std``, of the product and of the last subtraction: ≤ 2
float32 steps of the standardized value (measured: 1 step almost always, 2 at most;
``tests/inference/test_fused_standardization.py``), so ≤ 1e-4 — the contract's tolerance between
training's features and the live ones — for every standardized value below 512 in size, however
many standard deviations the mean lies from zero. (Subtracting the float32 mean alone, as before
issue 12's fourteenth round, left the mean's own rounding in every value: ~6e-8 × mean / std,
3e-3 for a mean 10⁵ std away; so such models were standardized in float64 — ``Cast → Sub → Div
→ Cast``, ~130 K instructions a window for the demo clap detector's 1,200 values, more than its
model.) Beyond 512 std from the mean float32's own spacing passes 6e-5, and the two may differ
by its last step or two (relative ≤ 2.4e-7). One case keeps the float64 nodes: a channel that
was constant in training (its std at `MIN_STD`, 1e-8), where any live change is a standardized
value of 10⁶ or more and only the float64 arithmetic gives training's value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sensorlab.inference.model import LoadedModel

RAW = "sensorlab_raw"
PROBS = "sensorlab_probs"
#: Below this (in units of a standardized value) the mean's float32 remainder is left out:
#: the two-node ``(x − m_hi) · (1/std)``, one node less (means within ~16 std of zero, most channels).
_NEGLIGIBLE_REST = 2.0**-20
#: Windows up to this many values get the standardization's constants at their own shape (see `fused_graph`).
_FULL_CONSTANTS = 1 << 16


def standardize_f32(mean: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The float32 constants of ``(x − mean) / std`` as the graph computes it: ``m_hi``, ``1/std``
    and ``c`` for ``(x − m_hi) · (1/std) − c`` (None when the mean's remainder is negligible).

    Examples
    --------
    >>> hi, inv, c = standardize_f32(np.array([1.0 + 1e-9]), np.array([1e-6]))
    >>> float(hi[0]), float(inv[0]), round(float(c[0]), 6)
    (1.0, 1000000.0, 0.001)
    """
    mean, std = np.asarray(mean, np.float64), np.asarray(std, np.float64)
    hi = mean.astype(np.float32)
    rest = ((mean - hi.astype(np.float64)) / std).astype(np.float32)
    return hi, (1.0 / std).astype(np.float32), (rest if np.max(np.abs(rest), initial=0.0) >= _NEGLIGIBLE_REST else None)


def fused_graph(model: LoadedModel, k: int, pair: bool, kind: str, shape: tuple[int, ...] | None = None) -> tuple[bytes, str] | None:
    """The model with its scaling before and its probabilities after, serialized, and the name of
    its raw-window input (`RAW`, or the model's own when nothing scales it); None when it cannot be built.

    ``k``: scores per window; ``pair``: one score for two labels; ``kind``: ``logits``,
    ``sigmoid`` or ``probabilities`` (as `BoundRun` resolved them); ``shape``: the window input's
    shape as the live call binds it (one window), which lets the standardization's constants be
    stored at the window's shape when channels are its last axis (below)."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return None
    try:
        proto = onnx.load(str(model.path))
    except Exception:  # noqa: BLE001 - a file onnxruntime opened but onnx cannot parse: keep the unfused call
        return None
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 13:
        return None  # Softmax's axis and ReduceSum's axes input changed at 13; older graphs keep the unfused call
    g = proto.graph
    taken = {n for node in g.node for n in (*node.input, *node.output)} | {t.name for t in g.input} | {t.name for t in g.output} | {t.name for t in g.initializer}
    if RAW in taken or PROBS in taken:
        return None
    win = model.window_input.name
    count = iter(range(1_000_000))

    def name(what: str) -> str:
        while True:
            n = f"sensorlab_{what}_{next(count)}"
            if n not in taken:
                taken.add(n)
                return n

    def const(what: str, a: np.ndarray) -> str:
        n = name(what)
        g.initializer.append(numpy_helper.from_array(np.asarray(a), n))
        return n

    # -- before: the raw window → the model input, as `BoundRun._normalize` computes it ------------
    m, c = model.mapping, model.contract
    layout = m.layout
    mean = std = None
    prescale = None
    scale, offset = 1.0, 0.0
    if c is not None:
        norm = c.input["normalization"]
        if norm["kind"] == "standardize":
            from sensorlab.datasets.normalize import MIN_STD

            mean, std = np.asarray(norm["mean"], np.float64), np.maximum(np.asarray(norm["std"], np.float64), MIN_STD)
        elif norm["kind"] == "scale":
            prescale = np.float32(norm["scale"])
    else:
        if model.stats is not None:
            from sensorlab.datasets.normalize import MIN_STD

            mean, std = model.stats.mean, np.maximum(model.stats.std, MIN_STD)
        scale, offset = float(m.scale), float(m.offset)
    nodes = []
    cur = RAW
    if mean is not None:
        # Per channel, along the layout's C axis (broadcast over the others).
        bshape = [len(mean) if a == "C" else 1 for a in layout] if "C" in layout else [1] * len(layout)
        if "C" not in layout and len(mean) != 1:
            return None
        # Channels last (samples × channels, row after row): onnxruntime broadcasts a per-channel
        # constant over spans as short as the channels, a few floats, with a loop's overhead each
        # (the demo clap detector's three Sub/Mul/Sub on 400 × 3 cost more than its model); a
        # constant of the window's own shape is one flat vectorized pass (4.8 KB each there).
        full = tuple(shape) if shape is not None and layout[-1] == "C" and len(mean) > 1 and int(np.prod(shape)) <= _FULL_CONSTANTS else None

        def per_channel(what: str, a: np.ndarray) -> str:
            a = a.reshape(bshape)
            return const(what, np.ascontiguousarray(np.broadcast_to(a, full)) if full is not None else a)

        if np.min(std) > MIN_STD:
            # float32 (the module doc: within 2 float32 steps of ChannelStats.apply's float64)
            hi, inv, rest = standardize_f32(mean, std)
            c32 = name("centred")
            nodes.append(helper.make_node("Sub", [cur, per_channel("mean_hi", hi)], [c32]))
            cur = name("standardized")
            nodes.append(helper.make_node("Mul", [c32, per_channel("inv_std", inv)], [cur]))
            if rest is not None:  # the mean's float32 remainder, in units of std
                out = name("standardized")
                nodes.append(helper.make_node("Sub", [cur, per_channel("mean_rest", rest)], [out]))
                cur = out
        else:  # a channel constant in training (std at the floor): float64, as ChannelStats.apply (the module doc)
            d = name("f64")
            nodes.append(helper.make_node("Cast", [cur], [d], to=TensorProto.DOUBLE))
            s = name("centred")
            nodes.append(helper.make_node("Sub", [d, const("mean", mean.reshape(bshape))], [s]))
            q = name("scaled")
            nodes.append(helper.make_node("Div", [s, const("std", std.reshape(bshape))], [q]))
            cur = name("f32")
            nodes.append(helper.make_node("Cast", [q], [cur], to=TensorProto.FLOAT))
    elif prescale is not None:
        out = name("prescaled")
        nodes.append(helper.make_node("Mul", [cur, const("prescale", np.array(prescale, np.float32))], [out]))
        cur = out
    if scale != 1.0 or offset != 0.0:
        out = name("gain")
        nodes.append(helper.make_node("Mul", [cur, const("scale", np.array(scale, np.float32))], [out]))
        cur = name("offset")
        nodes.append(helper.make_node("Add", [out, const("offset", np.array(offset, np.float32))], [cur]))
    # The window input: the scaled raw window (renamed so the model's own nodes read it unchanged).
    win_info = next(t for t in g.input if t.name == win)
    raw_info = onnx.ValueInfoProto()
    raw_info.CopyFrom(win_info)
    raw_info.name = RAW
    if nodes:
        nodes[-1].output[0] = win
        inputs = [raw_info if t.name == win else t for t in g.input]
    else:
        inputs = list(g.input)  # nothing to scale: the raw window is the model's own input (an Identity would copy it)
    # -- after: the scores → one row of probabilities ------------------------------------------------
    scores = model.outputs[model.scores_index].name
    row = name("row")
    post = [helper.make_node("Reshape", [scores, const("shape", np.array([1, -1], np.int64))], [row])]
    score_type = next((o.type.tensor_type.elem_type for o in g.output if o.name == scores), TensorProto.FLOAT)
    if score_type != TensorProto.FLOAT:
        f = name("row32")
        post.append(helper.make_node("Cast", [row], [f], to=TensorProto.FLOAT))
        row = f
    p = row
    if kind == "logits":
        p = name("softmax")
        post.append(helper.make_node("Softmax", [row], [p], axis=1))
    elif kind == "sigmoid":
        p = name("sigmoid")
        post.append(helper.make_node("Sigmoid", [row], [p]))
    if pair:
        q = name("complement")
        post.append(helper.make_node("Sub", [const("one", np.array(1.0, np.float32)), p], [q]))
        post.append(helper.make_node("Concat", [q, p], [PROBS], axis=1))
    else:
        post.append(helper.make_node("Identity", [p], [PROBS]))
    labels = 2 if pair else k
    keep = [o for o in g.output if o.name in model.state_pairs]
    new_nodes = [*nodes, *g.node, *post]
    del g.node[:]
    g.node.extend(new_nodes)
    del g.input[:]
    g.input.extend(inputs)
    del g.output[:]
    g.output.extend([helper.make_tensor_value_info(PROBS, TensorProto.FLOAT, [1, labels]), *keep])
    # Shape annotations of the old outputs may now contradict the reshaped ones: drop the scores'.
    for vi in list(g.value_info):
        if vi.name in (scores, win):
            g.value_info.remove(vi)
    return proto.SerializeToString(), (RAW if nodes else win)


__all__ = ["PROBS", "RAW", "fused_graph", "standardize_f32"]
