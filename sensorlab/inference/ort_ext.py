"""The live model run through onnxruntime's C API, when it can be had: `_ort` (sensorlab/inference/_ort.c).

`pip install -e .` builds the extension (setup.py; optional, like `_hop`). It links nothing: at the
first live model it dlopens the shared library the onnxruntime wheel ships beside its Python
binding (``onnxruntime/capi/libonnxruntime.so.<version>``), or the file ``SENSORLAB_ORT_LIBRARY``
names, and checks its version and C API table (`_ort.load`). When any of that fails — the
extension not built, no such library, another onnxruntime version than the Python package's (whose
results the live call must equal bit for bit), a table that does not match — `native()` returns
None with the reason in `ort_path()`, and the engine runs the model through onnxruntime's Python
binding (`run_with_iobinding`), as before. ``SENSORLAB_ORT_NATIVE=0`` asks for that path.
`sensorlab --version` prints `ort_path()`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sensorlab.optional_extension import load_optional_extension

_ORT = load_optional_extension("sensorlab.inference._ort", "live model run", "onnxruntime's Python binding")
compiled_ort = _ORT.module


class _NeverRaised(Exception):
    """`OrtError` where the extension is not built (nothing raises it)."""


#: What the C API path raises for a status onnxruntime returned (a failed run).
OrtError: type[Exception] = compiled_ort.OrtError if compiled_ort is not None else _NeverRaised

#: A path to onnxruntime's shared library to load instead of the wheel's own.
LIBRARY_ENV = "SENSORLAB_ORT_LIBRARY"
#: ``0``: keep onnxruntime's Python binding for the live run.
NATIVE_ENV = "SENSORLAB_ORT_NATIVE"

_state: tuple[object | None, str] | None = None  # (the loaded module or None, what runs / why not)


def _wheel_library() -> Path | None:
    """The onnxruntime wheel's own shared library, found without importing onnxruntime."""
    from importlib.util import find_spec

    spec = find_spec("onnxruntime")
    for root in (spec.submodule_search_locations or []) if spec is not None else []:
        found = sorted((Path(root) / "capi").glob("libonnxruntime.so*"))
        if found:
            return found[-1]
    return None


def _load() -> tuple[object | None, str]:
    if compiled_ort is None:
        return None, _ORT.not_built()
    if os.environ.get(NATIVE_ENV, "1") == "0":
        return None, f"{NATIVE_ENV}=0"
    path = os.environ.get(LIBRARY_ENV) or _wheel_library()
    if not path:
        return None, "the onnxruntime package ships no libonnxruntime.so in onnxruntime/capi"
    try:
        version = compiled_ort.load(str(path))
    except (ImportError, OSError) as e:
        return None, f"{e} ({path})"
    try:
        import onnxruntime

        want = onnxruntime.__version__
    except ImportError:
        return None, "onnxruntime's Python package is not installed"
    if version != want:
        return None, f"{path} is onnxruntime {version}, the Python package {want}: the live run must equal the Python binding's; set {LIBRARY_ENV} to its {want} library"
    return compiled_ort, f"{version}, {path}"


def native():
    """The `_ort` module with onnxruntime's C API loaded, or None (the reason: `ort_path`)."""
    global _state
    if _state is None:
        _state = _load()
    return _state[0]


def ort_path() -> str:
    """Which code calls onnxruntime for the live model run, in words."""
    native()
    assert _state is not None
    if _state[0] is not None:
        return f"live model run: onnxruntime's C API (sensorlab/inference/_ort.c; onnxruntime {_state[1]})"
    return f"live model run: onnxruntime's Python binding (the C API path is off: {_state[1]})"


def wake_ready() -> bool:
    """True when the engine's whole usual wake-up can be one C call (`Session.wake`): the C API
    path is loaded and the extension can make the predictions chunk's NumPy arrays (`_ort.numpy_api`)."""
    ext = native()
    return ext is not None and ext.numpy_api() == ""


#: ONNX's element type codes (onnx.TensorProto.DataType), by NumPy dtype: what `_ort.Session` binds.
_ONNX_TYPES = {np.dtype(t): c for t, c in ((np.float32, 1), (np.uint8, 2), (np.int8, 3), (np.uint16, 4), (np.int16, 5), (np.int32, 6),
                                            (np.int64, 7), (np.bool_, 9), (np.float16, 10), (np.float64, 11), (np.uint32, 12), (np.uint64, 13))}  # fmt: skip


def native_session(graph: bytes, raw: str, probs: str, raw_buf: np.ndarray, probs_buf: np.ndarray, constants: dict, state: list, pairs: dict):
    """(``_ort.Session`` for the fused ``graph`` over the bound call's arrays, "") — the raw window
    (``raw_buf``, rebound per run), the ``constants``, each ``state`` pair's input and output
    buffers (copied output → input after each run, in C; ``pairs``: output name → input name)
    and the probabilities (``probs_buf``), every array kept alive by the session — or (None,
    why not: "" when the C API path is off, see `ort_path`; onnxruntime's message when it refused
    the graph, or a tensor type it does not bind; the engine then keeps the Python binding)."""
    ext = native()
    if ext is None:
        return None, ""

    def tensor(name: str, a: np.ndarray) -> tuple:
        if not a.flags.c_contiguous or a.dtype not in _ONNX_TYPES:
            raise ValueError(f"{name}: a {a.dtype} array the C API path does not bind")
        return (name, a.ctypes.data, list(a.shape), _ONNX_TYPES[a.dtype], a.nbytes)

    try:
        inputs = [tensor(raw, raw_buf)] + [tensor(k, v) for k, v in constants.items()]
        outputs = [tensor(probs, probs_buf)]
        copies, keep = [], [raw_buf, probs_buf, *constants.values()]
        for (sout, sin), (o, i) in zip(state, pairs.items()):
            copies.append((len(outputs), len(inputs)))
            inputs.append(tensor(i, sin))
            outputs.append(tensor(o, sout))
            keep += [sin, sout]
        return ext.Session(graph, inputs, outputs, 0, 0, copies, keep), ""
    except Exception as e:  # noqa: BLE001 - OrtError, or a tensor type it does not bind: the Python binding stays
        return None, str(e)


__all__ = ["LIBRARY_ENV", "NATIVE_ENV", "OrtError", "compiled_ort", "native", "native_session", "ort_path", "wake_ready"]
