"""What `model` (the loaded model) and `bound` (its bound live call) share: onnxruntime's
session options, the `ModelError` every problem is, the message of a failed run, and a
tensor's shape with its free axes as 1. Apart from both, so that neither imports the other
for them.
"""

from __future__ import annotations


class ModelError(ValueError):
    """A model that cannot be used as given: one line naming the model, the input and the fix."""


def run_failed(model: str, input_name: str, error: Exception, shape: tuple[int, ...] | None = None) -> ModelError:
    """The `ModelError` for an onnxruntime run that raised ``error``: the model's file name, the
    input (with the shape fed, when known), onnxruntime's first line, and what to check."""
    first = str(error).strip().splitlines()[0][:300]
    fed = "" if shape is None else f" of shape {list(shape)}"
    return ModelError(f"{model}: onnxruntime failed on input {input_name!r}{fed} ({first}); "
                      f"check the mapping's layout, window and channels against the model's inputs")  # fmt: skip


def session_options():
    """One intra-op and one inter-op thread, sequential, onnxruntime's warnings off (why: the module doc of sensorlab/inference/model.py)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3  # onnxruntime's own warnings go to stderr otherwise
    return opts


def concrete_shape(shape: tuple) -> tuple[int, ...]:
    """An ONNX tensor shape with every named or unknown axis as 1."""
    return tuple(d if isinstance(d, int) and d > 0 else 1 for d in shape)


__all__ = ["ModelError", "concrete_shape", "run_failed", "session_options"]
