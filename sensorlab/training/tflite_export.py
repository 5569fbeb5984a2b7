"""``sensorlab export RUN --format tflite [--int8]``: TFLite builds of a trained model, with the contract.

The converter is ``litert-torch`` (PyTorch → TFLite without TensorFlow); it is a ~2 GB stack
(jax among others) that takes ~20 s to import, so it is imported here only, inside the call.

- fp32: ``litert_torch.convert`` of the eval-mode model, batch 1.
- int8 (full integer): ``torch.export`` → PT2E (symmetric, per-channel weights, int8
  activations) → calibrate on real training windows (never the held-out split) → ``convert_pt2e`` → ``litert_torch.convert``
  with the PT2E quantizer; then the boundary QUANTIZE/DEQUANTIZE ops are removed so the file
  takes and returns int8 (`tflite_file.make_int8_io`).

Normalization stays *before* the graph, as for ONNX: the graph input is the window prepared by
`ModelContract.prepare` (per-channel standardization with the dataset's statistics). That
matters for int8: one input scale covers every channel, and only standardized channels share a
range (raw gyro readings in °/s would clip beside accelerations in g). The int8 contract says
so: ``input.dtype = "int8"`` and ``input.quantization = {scale, zero_point, applies_to:
"normalized"}``: ``q = round(standardized / scale) + zero_point``.

Audio (log-mel) models: fp32 keeps the front end inside the graph (CONV_2D with the Hann-windowed
DFT basis, MUL, ADD, FULLY_CONNECTED with the mel matrix, LOG): raw standardized audio in, as
for ONNX. Full int8 cannot: TFLite Micro has no int8 LOG kernel, and int8 power spectra lose the
quiet bands. The int8 file is the CNN after the front end, its input the standardized log-mel
``(frames, n_mels)`` quantized; its contract says ``features.in_graph = false`` and names every
front-end parameter plus the feature mean and std, and `sensorlab.logmel` is the reference a
device port follows (the host runs it to feed the file). Its self-check runs the whole chain —
NumPy front end, int8 model — against the whole PyTorch model on the same audio.

Self-check on real dataset windows (test split): fp32 must match PyTorch within `FP32_ATOL` +
`FP32_RTOL`·|logit| and on every argmax; int8 must agree on the argmax on at least
`INT8_MIN_AGREEMENT` of the windows (its logits differ by design: the report gives the max
difference). The report is also written beside the file (``model.int8.tflite.check.json``,
`tflite_report`), where the Training tab reads it back.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from pathlib import Path

import numpy as np

from sensorlab.contract import ModelContract
from sensorlab.training.export import ExportError, _tested_on, _trained_on, check_windows, parity
from sensorlab.training.tflite_report import report_path, write_export_report

#: fp32 TFLite vs PyTorch: the converter fuses and reorders float ops, a little looser than ONNX.
FP32_ATOL = 1e-4
FP32_RTOL = 1e-3
#: int8 vs PyTorch: share of windows with the same argmax.
INT8_MIN_AGREEMENT = 0.95


def _convert_fp32(model, example):
    import litert_torch
    from torch.fx.experimental.optimization import fuse

    # Fold batch norm into the convolutions (the converter keeps it as MUL/ADD ops): fewer ops
    # on the device, and the same weights-and-biases count as the ONNX and int8 builds.
    return litert_torch.convert(fuse(model), (example,))


def _convert_int8(model, example, calib: np.ndarray):
    import litert_torch
    import torch
    from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e import move_exported_model_to_eval
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e  # litert-torch's PT2E quantizer targets torchao

    quantizer = PT2EQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False))
    graph = torch.export.export(model, (example,)).module()
    graph = move_exported_model_to_eval(prepare_pt2e(graph, quantizer))  # exported graphs come back in train mode
    with torch.no_grad():
        for i in range(len(calib)):  # observers record activation ranges on real windows
            graph(torch.from_numpy(calib[i : i + 1]))
    graph = move_exported_model_to_eval(convert_pt2e(graph, fold_quantize=False))
    graph.training = False  # the flag the converter checks; move_exported_model_to_eval only swaps the ops
    return litert_torch.convert(graph, (example,), quant_config=QuantConfig(pt2e_quantizer=quantizer))


def _audio_backend(model):
    """The audio model after its front end: standardized log-mel ``(N, frames, n_mels)`` → logits."""
    from torch import nn

    class Backend(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.features, self.head = m.features, m.head

        def forward(self, f):
            return self.head(self.features(f.unsqueeze(1)).mean((2, 3)))

    return Backend(model).eval()


def _frontend_outside(contract: ModelContract, model) -> ModelContract:
    """The int8 audio contract: the log-mel front end named for the device, with the training feature statistics."""
    c = ModelContract.from_json(contract.to_json())
    fe = dict(c.features)
    fe.update({"in_graph": False, "mean": float(model.feat_mean), "std": float(model.feat_std), "shape": [int(fe["frames"]), int(fe["n_mels"])],
               "f_min": float(fe.get("f_min", 20.0)), "f_max": float(fe.get("f_max") or c.input["rate"] / 2), "log": "natural",
               "computed_by": "the device, before the model: sensorlab.logmel (NumPy reference) and docs/TRAINING.md"})  # fmt: skip
    c.features = fe
    return c


def export_tflite(run: Path, out: Path | None = None, dataset: Path | None = None, int8: bool = False) -> dict:
    """Write ``RUN/model.tflite`` (or ``model.int8.tflite``, or ``out``); return the self-check report."""
    import torch

    from sensorlab.training.quantize import calibration_windows
    from sensorlab.training.tflite_file import TFLiteFileError, make_int8_io, write_with_contract
    from sensorlab.training.predictors import TFLitePredictor
    from sensorlab.training.checkpoint import load_checkpoint

    model, contract = load_checkpoint(run)  # eval mode: batch norm uses its running statistics, as PT2E needs
    model.eval()
    run = Path(run)
    folder = run if run.is_dir() else run.parent
    out = Path(out) if out else folder / ("model.int8.tflite" if int8 else "model.tflite")
    dataset = dataset or _trained_on(run)
    held_out = _tested_on(run)  # a leave-one-out fold's speaker: checked on, never calibrated on
    x = check_windows(contract, dataset, split=held_out)
    example = torch.from_numpy(x[:1].copy())
    calib = calibration_windows(dataset, contract, held_out=held_out) if int8 else None
    # int8 audio: the front end moves out of the graph (see the module docstring)
    fc = _frontend_outside(contract, model) if int8 and contract.features.get("kind") == "log_mel" else None
    graph_model = _audio_backend(model) if fc else model
    if fc:
        calib = fc.extract(calib)
        example = torch.from_numpy(fc.extract(x[:1]))
    if importlib.util.find_spec("litert_torch") is None:
        # It said "No module named 'litert_torch'": name what is missing and where it is installed.
        raise ExportError("TFLite export needs the converter (litert-torch), kept in its own environment: run `make tflite-env` "
                          "once, then `.venv-tflite/bin/sensorlab export RUN --format tflite` (the studio's TFLite buttons find that "
                          "environment themselves; ONNX export works here)")  # fmt: skip
    try:
        # The converter prints its progress on stdout; `--json` promises one JSON object there.
        with contextlib.redirect_stdout(sys.stderr):
            edge = _convert_int8(graph_model, example, calib) if int8 else _convert_fp32(graph_model, example)
            data = edge.model_content()
        if int8:
            data = make_int8_io(bytes(data))
    except TFLiteFileError as e:
        raise ExportError(f"TFLite int8 export of {run}: {e}") from e
    except Exception as e:  # the converter raises many types; one line says which step failed
        raise ExportError(f"TFLite export of {run} failed: {str(e).splitlines()[0][:300] if str(e) else type(e).__name__}") from e

    c = ModelContract.from_json((fc or contract).to_json())
    c.input = {**c.input, "shape": list(c.input["shape"])}
    if int8:
        from ai_edge_litert.interpreter import Interpreter

        it = Interpreter(model_content=data)
        (s, z), (os_, oz) = it.get_input_details()[0]["quantization"], it.get_output_details()[0]["quantization"]
        applies = "log_mel_features" if fc else "normalized"  # q = round(model input / scale) + zero_point
        c.input = {**c.input, "dtype": "int8", "quantization": {"scale": float(s), "zero_point": int(z), "applies_to": applies}}
        c.output = {**c.output, "quantization": {"scale": float(os_), "zero_point": int(oz)}}
        c.model = {**c.model, "quantization": f"full int8 (PT2E symmetric, per-channel weights) calibrated on {len(calib)} train windows"}
    c.model = {**c.model, "format": "tflite", "batch": 1}
    write_with_contract(out, data, c)

    with torch.inference_mode():
        ref = model(torch.from_numpy(x)).numpy()
    pred = TFLitePredictor(out)
    got = pred.predict(pred.contract.extract(x))  # the file's own contract: NumPy log-mel first when the graph has no front end
    what = "tflite int8 vs pytorch" if int8 else "tflite fp32 vs pytorch"
    report = parity(ref, got, what, FP32_ATOL, FP32_RTOL)
    if fc:
        with torch.inference_mode():
            graph_fe = ((model.frontend(torch.from_numpy(x)) - model.feat_mean) / model.feat_std).numpy()
        report["frontend"] = {"in_graph": False, "reference": "sensorlab.logmel (NumPy, float64)", "windows": int(len(x)),
                              "max_abs_diff_vs_pytorch": float(np.abs(fc.extract(x) - graph_fe).max()) if len(x) else 0.0}  # fmt: skip
    else:
        report["frontend"] = {"in_graph": contract.features.get("kind") == "log_mel"}
    report.update({"file": str(out), "size_bytes": out.stat().st_size, "format": "tflite", "int8": int8,
                   "contract": "embedded (metadata sensorlab.contract) + " + out.with_name(out.stem + ".contract.json").name})  # fmt: skip
    if int8:
        report["ok"] = report["argmax_agreement"] >= INT8_MIN_AGREEMENT
        report["tolerance"] = f"argmax agreement >= {INT8_MIN_AGREEMENT}"
        report["input_quantization"] = c.input["quantization"]
    report["report"] = str(report_path(out))
    write_export_report(out, report)  # beside the file, failed checks too: the Training tab reads it back
    if int8:
        if not report["ok"]:
            raise ExportError(f"{out}: int8 TFLite agrees with PyTorch on {report['argmax_agreement']:.1%} of {report['windows']} windows "
                              f"(needs {INT8_MIN_AGREEMENT:.0%}); calibrate on more data or keep the fp32 build")  # fmt: skip
    elif not report["ok"]:
        raise ExportError(f"{out}: TFLite differs from PyTorch by {report['max_abs_diff']:.3g} on {report['windows']} windows "
                          f"(tolerance {FP32_ATOL} + {FP32_RTOL}·|logit|); the converted graph is not the trained model")  # fmt: skip
    return report
