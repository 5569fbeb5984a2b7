"""The mapping dialog's first guess for a model without a sensorlab contract: which stream
feeds it and the layout of its window input, read from the input's shape.

The dialog started on the first stream by name (often the demo model's own ``clap_pred``, a
predictions stream) and on layout NTC whatever the model took. A guess is only offered where
the shape leaves one answer: a stream whose channel count matches one axis of the input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from sensorlab.acquisition.source import StreamInfo
from sensorlab.inference.engine import is_predictions
from sensorlab.inference.model import TensorSpec


def _fixed(d) -> int | None:
    """A dimension's size, or None when it is dynamic (a name, None or negative)."""
    return d if isinstance(d, int) and d >= 0 else None


def window_input(inputs: Sequence[TensorSpec]) -> TensorSpec | None:
    """The input that most likely takes the window: the one with the most axes (a sample-rate
    or state input has fewer)."""
    return max(inputs, key=lambda t: len(t.shape), default=None)


def layout_for(shape: Sequence, channels: int) -> str | None:
    """The layout of an input of ``shape`` fed windows of ``channels`` channels, when exactly one
    fits: ``[N, T]`` → NT (one channel); ``[N, a, b]`` → NTC when b is the channel count, NCT
    when a is; None when neither or both fit (e.g. ``[1, 3, 3]`` with 3 channels)."""
    if len(shape) == 2:
        return "NT" if channels == 1 else None
    if len(shape) != 3:
        return None
    a, b = _fixed(shape[1]), _fixed(shape[2])
    fits = [layout for layout, size in (("NTC", b), ("NCT", a)) if size == channels]
    return fits[0] if len(fits) == 1 else None


def guess_feed(inputs: Sequence[TensorSpec], streams: Mapping[str, StreamInfo]) -> tuple[str | None, str | None]:
    """``(stream, layout)`` to start the dialog from: the first stream by name (predictions
    streams last) whose channel count fits the window input's shape with one layout, and that
    layout; else the first signal stream and no layout (None: keep the dialog's own)."""
    names = sorted(streams, key=lambda n: (is_predictions(streams[n]), n))
    target = window_input(inputs)
    if target is not None:
        for name in names:
            layout = layout_for(target.shape, streams[name].channel_count)
            if layout is not None:
                return name, layout
    return (names[0] if names else None), None


#: Operators that pass their input's values through unchanged in kind (a probability stays one).
_PASS_THROUGH = {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Cast", "Transpose", "Gather", "Slice"}


def scores_kind_for(model_path: str | Path, output: str) -> str:
    """What ``output`` of the ONNX model holds, read from the operator that computes it:
    ``"probabilities"`` after a Softmax or a Sigmoid (the mapping's ``"sigmoid"`` means *apply*
    one), else ``"logits"`` (also after LogSoftmax: a softmax of log-probabilities gives the
    probabilities back). Reshapes, casts and the like in between are looked through.

    The dialog started on "logits" for every model, so one that already ends in a softmax had
    a second softmax applied to its probabilities: the top class stays, but every probability
    drawn and every threshold compared was wrong."""
    try:
        import onnx

        graph = onnx.load(str(model_path), load_external_data=False).graph
    except Exception:  # noqa: BLE001 - not readable as ONNX (e.g. a .tflite): no guess
        return "logits"
    producer = {out: node for node in graph.node for out in node.output}
    name = output
    for _ in range(len(graph.node)):
        node = producer.get(name)
        if node is None:
            break
        if node.op_type in ("Softmax", "Sigmoid"):
            return "probabilities"
        if node.op_type not in _PASS_THROUGH or not node.input:
            break
        name = node.input[0]
    return "logits"


__all__ = ["guess_feed", "layout_for", "scores_kind_for", "window_input"]
