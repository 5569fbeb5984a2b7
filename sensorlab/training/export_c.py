"""``sensorlab export-c MODEL.tflite``: the model as C source for TensorFlow Lite Micro, with its contract.

Writes ``NAME.h`` and ``NAME.c`` (plain C99: they compile with ``-std=c99 -Wall -Werror``):

- the model as a 16-byte aligned ``const unsigned char`` array (TFLM reads tensors in place
  and needs the alignment) and its length;
- the contract as C constants: labels, channel names and order, sample rate, window length
  and hop, per-channel mean and std (normalization happens on the device, before
  quantizing), and for int8 models the input/output scale and zero point
  (``q = round(standardized / scale) + zero_point``);
- ``NAME_ARENA_SIZE``: the tensor arena, measured by running the model in the TFLM
  interpreter on this host (the smallest arena with which it allocates and runs), plus
  `ARENA_MARGIN` for the difference between host and device builds (pointer size, alignment).

The report (``NAME.export-c.json``) also gives TFLM-vs-LiteRT agreement on real dataset
windows: both interpreters run the same quantized inputs and must give the same argmax.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path

import numpy as np

from sensorlab.contract import ModelContract

#: Bytes added to the measured host arena (TFLM's own docs suggest headroom; 64-bit host vs 32-bit MCU differ).
ARENA_MARGIN = 1024
#: Windows both interpreters run for the agreement figure.
AGREEMENT_WINDOWS = 128


class ExportCError(ValueError):
    """The C export failed: one line naming the problem and the fix."""


def _tflm():
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        raise ExportCError("measuring the tensor arena needs the TFLite Micro interpreter; pip install --pre tflite-micro") from None
    return runtime


@contextlib.contextmanager
def _quiet_stderr():
    """TFLM's C++ code logs every failed allocation of the arena search to fd 2: hide those lines."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def measure_arena(data: bytes, x1: np.ndarray | None = None, hi: int = 1 << 22) -> int:
    """Smallest tensor arena (bytes, 16-byte steps) with which TFLM allocates and runs the model."""
    runtime = _tflm()

    def fits(size: int) -> bool:
        try:
            it = runtime.Interpreter.from_bytes(data, arena_size=size)
            if x1 is not None:
                it.set_input(x1, 0)
            it.invoke()
            return True
        except (RuntimeError, ValueError):
            return False

    with _quiet_stderr():
        return _search(fits, hi)


def _search(fits, hi: int) -> int:
    if not fits(hi):
        raise ExportCError(f"TFLite Micro cannot run this model even with a {hi >> 20} MiB arena (an op TFLM lacks?)")
    lo = 0
    while hi - lo > 16:
        mid = (lo + hi) // 2 // 16 * 16
        if mid <= lo:
            break
        if fits(mid):
            hi = mid
        else:
            lo = mid
    return hi


def tflm_vs_litert(data: bytes, x_q: np.ndarray, arena: int) -> dict:
    """Run the same (already quantized) inputs through TFLM (with the ``arena`` the header declares) and LiteRT; compare raw outputs.

    Outputs may differ by a quantization step: LiteRT's optimized kernels and TFLM's reference
    kernels round intermediate sums differently; the argmax must not change."""
    from ai_edge_litert.interpreter import Interpreter

    runtime = _tflm()
    lite = Interpreter(model_content=data, num_threads=1)
    lite.allocate_tensors()
    li, lo = lite.get_input_details()[0], lite.get_output_details()[0]
    micro = runtime.Interpreter.from_bytes(data, arena_size=arena)
    a, b = [], []
    for w in x_q:
        lite.set_tensor(li["index"], w[None])
        lite.invoke()
        a.append(lite.get_tensor(lo["index"]).reshape(-1).astype(np.float64))
        micro.set_input(w[None], 0)
        micro.invoke()
        b.append(np.asarray(micro.get_output(0)).reshape(-1).astype(np.float64))
    a, b = np.array(a), np.array(b)
    return {"windows": int(len(a)), "argmax_agreement": float((a.argmax(1) == b.argmax(1)).mean()) if len(a) else 1.0,
            "identical_outputs": float((a == b).all(1).mean()) if len(a) else 1.0,
            "max_abs_diff": float(np.abs(a - b).max()) if a.size else 0.0}  # fmt: skip


def _ident(name: str) -> str:
    s = re.sub(r"\W", "_", name).strip("_").lower() or "model"
    return "m_" + s if s[0].isdigit() else s


def _c_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _f(v: float) -> str:
    """A C float literal: 50 → 50.0f, 1e-05 → 1e-05f."""
    s = f"{float(v):.9g}"
    return (s if ("." in s or "e" in s) else s + ".0") + "f"


def render(data: bytes, contract: ModelContract, name: str, arena: int) -> tuple[str, str]:
    """The header and source text."""
    P, p = name.upper(), name
    inp = contract.input
    q = inp.get("quantization") or {}
    oq = contract.output.get("quantization") or {}
    norm = inp["normalization"]
    mean, std = norm.get("mean"), norm.get("std")
    shape = [int(v) for v in inp["shape"]]
    guard = f"{P}_H_"
    h = [f"/* {name}.h: generated by `sensorlab export-c` from a sensorlab model; do not edit. */",
         f"#ifndef {guard}", f"#define {guard}", "", "#include <stddef.h>", "", "#ifdef __cplusplus", 'extern "C" {', "#endif", "",
         f"/* Tensor arena for tflite::MicroInterpreter: measured on the host in TFLM, plus {ARENA_MARGIN} bytes. */",
         f"#define {P}_ARENA_SIZE {arena + ARENA_MARGIN}", "", f"/* Input: stream '{inp['stream']}', one window of shape ({', '.join(map(str, shape))}). */",
         f"#define {P}_SAMPLE_RATE_HZ {_f(inp['rate'])}", f"#define {P}_WINDOW_SECONDS {_f(contract.window['length'])}",
         f"#define {P}_HOP_SECONDS {_f(contract.window['hop'])}", f"#define {P}_INPUT_ELEMENTS {int(np.prod(contract.model_input_shape))}",
         f"#define {P}_WINDOW_SAMPLES {shape[0]}", f"#define {P}_NUM_CHANNELS {len(inp['channels'])}",
         f"#define {P}_NUM_LABELS {len(contract.labels)}", f"#define {P}_INPUT_INT8 {1 if inp['dtype'] == 'int8' else 0}"]  # fmt: skip
    fe = contract.features
    if fe.get("kind") == "log_mel" and not fe.get("in_graph", True):
        # The graph starts after the front end: the device computes it (sensorlab/logmel.py is the reference).
        h += ["/* Log-mel front end, computed on the device before the model (not in the graph): frame t = standardized",
              " * window[t*HOP + n] * hann[n] (periodic Hann, no padding), power of its N_FFT-point real DFT (bins 0..N_FFT/2),",
              " * times the HTK mel matrix (triangles of peak 1, F_MIN..F_MAX), ln(x + LOG_OFFSET), then (x - FEATURE_MEAN) / FEATURE_STD.",
              " * The model input is FRAMES x N_MELS, frame-major; int8 models quantize it with INPUT_SCALE / INPUT_ZERO_POINT. */",
              f"#define {P}_FEATURES_LOG_MEL 1", f"#define {P}_N_FFT {int(fe['n_fft'])}", f"#define {P}_FRAME_HOP {int(fe['hop_length'])}",
              f"#define {P}_N_MELS {int(fe['n_mels'])}", f"#define {P}_FRAMES {int(fe['frames'])}", f"#define {P}_F_MIN_HZ {_f(fe['f_min'])}",
              f"#define {P}_F_MAX_HZ {_f(fe['f_max'])}", f"#define {P}_LOG_OFFSET {_f(fe['log_offset'])}",
              f"#define {P}_FEATURE_MEAN {_f(fe['mean'])}", f"#define {P}_FEATURE_STD {_f(fe['std'])}"]  # fmt: skip
    if q:
        h += ["/* int8 input: q = round(model input / SCALE) + ZERO_POINT, clamped to [-128, 127]. */",
              f"#define {P}_INPUT_SCALE {_f(q['scale'])}", f"#define {P}_INPUT_ZERO_POINT ({int(q['zero_point'])})",
              "/* int8 output: logit = (q - ZERO_POINT) * SCALE. */",
              f"#define {P}_OUTPUT_SCALE {_f(oq.get('scale', 1.0))}", f"#define {P}_OUTPUT_ZERO_POINT ({int(oq.get('zero_point', 0))})"]  # fmt: skip
    h += ["", f"extern const unsigned char {p}_tflite[];", f"extern const size_t {p}_tflite_len;",
          f"extern const char *const {p}_labels[{P}_NUM_LABELS];", f"extern const char *const {p}_channels[{P}_NUM_CHANNELS];"]  # fmt: skip
    if norm["kind"] == "standardize":
        h += ["/* Normalization before the model: standardized = (raw - mean[c]) / std[c], per channel c. */",
              f"extern const float {p}_channel_mean[{P}_NUM_CHANNELS];", f"extern const float {p}_channel_std[{P}_NUM_CHANNELS];"]  # fmt: skip
    h += ["/* The full model contract (JSON), as embedded in the .tflite metadata. */", f"extern const char {p}_contract_json[];",
          "", "#ifdef __cplusplus", "}", "#endif", f"#endif /* {guard} */", ""]  # fmt: skip

    body = ",\n".join("  " + ", ".join(f"0x{b:02x}" for b in data[i : i + 12]) for i in range(0, len(data), 12))
    c = [f"/* {name}.c: generated by `sensorlab export-c`; do not edit. */", f'#include "{name}.h"', "",
         "/* TFLM reads the flatbuffer in place: keep it 16-byte aligned. */", "#if defined(__GNUC__) || defined(__clang__)",
         "#define SENSORLAB_ALIGNED_16 __attribute__((aligned(16)))", "#elif defined(_MSC_VER)",
         "#define SENSORLAB_ALIGNED_16 __declspec(align(16))", "#else", "#define SENSORLAB_ALIGNED_16", "#endif", "",
         f"SENSORLAB_ALIGNED_16 const unsigned char {p}_tflite[] = {{", body, "};",
         f"const size_t {p}_tflite_len = {len(data)};", "",
         f"const char *const {p}_labels[{P}_NUM_LABELS] = {{{', '.join(_c_str(s) for s in contract.labels)}}};",
         f"const char *const {p}_channels[{P}_NUM_CHANNELS] = {{{', '.join(_c_str(s) for s in inp['channels'])}}};"]  # fmt: skip
    if norm["kind"] == "standardize":
        c += [f"const float {p}_channel_mean[{P}_NUM_CHANNELS] = {{{', '.join(_f(v) for v in mean)}}};",
              f"const float {p}_channel_std[{P}_NUM_CHANNELS] = {{{', '.join(_f(v) for v in std)}}};"]  # fmt: skip
    c += [f"const char {p}_contract_json[] = {_c_str(contract.to_json())};", ""]
    return "\n".join(h), "\n".join(c)


def export_c(model: Path, out_dir: Path | None = None, name: str | None = None, dataset: Path | None = None) -> dict:
    """Write ``NAME.h``, ``NAME.c`` and ``NAME.export-c.json`` beside the model (or in ``out_dir``)."""
    from sensorlab.training.export import ExportError, _tested_on, _trained_on, check_windows
    from sensorlab.training.tflite_file import TFLiteFileError, read_contract

    model = Path(model)
    if model.suffix != ".tflite" or not model.exists():
        raise ExportCError(f"{model}: give a .tflite file written by `sensorlab export --format tflite --int8`")
    try:
        contract = read_contract(model)
    except TFLiteFileError as e:
        raise ExportCError(str(e)) from None
    data = model.read_bytes()
    name = _ident(name or model.name.replace(".tflite", ""))
    out_dir = Path(out_dir) if out_dir else model.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        x = check_windows(contract, dataset or _trained_on(model.parent), AGREEMENT_WINDOWS, split=_tested_on(model.parent))
    except ExportError as e:
        raise ExportCError(str(e)) from None
    q = contract.input.get("quantization")
    if q:
        x = np.clip(np.round(x / q["scale"] + q["zero_point"]), -128, 127).astype(np.int8)
    arena = measure_arena(data, x[:1] if len(x) else None)
    agreement = tflm_vs_litert(data, x, arena + ARENA_MARGIN)
    header, source = render(data, contract, name, arena)
    (out_dir / f"{name}.h").write_text(header, encoding="utf-8")
    (out_dir / f"{name}.c").write_text(source, encoding="utf-8")
    report = {"model": str(model), "header": str(out_dir / f"{name}.h"), "source": str(out_dir / f"{name}.c"), "model_bytes": len(data),
              "arena_bytes_measured": arena, "arena_size_define": arena + ARENA_MARGIN, "int8": bool(q), "tflm_vs_litert": agreement}  # fmt: skip
    (out_dir / f"{name}.export-c.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report
