"""Run any build of a model on prepared windows: checkpoint (torch), ONNX (onnxruntime), TFLite (ai-edge-litert).

Each returns float logits (int8 outputs are dequantized), so every build is compared on the
same windows with the same metrics. The contract comes from the checkpoint, the ONNX
metadata, or the TFLite file's metadata table (``.contract.json`` sidecar as a fallback).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sensorlab.contract import ModelContract, from_onnxruntime
from sensorlab.training.checkpoint import ModelFileError, load_checkpoint


class Predictor:
    kind = "?"

    def __init__(self, path: Path, contract: ModelContract):
        self.path, self.contract = path, contract

    def predict(self, x: np.ndarray, batch: int = 256) -> np.ndarray:
        out = [self._run(x[i : i + batch]) for i in range(0, len(x), batch)]
        return np.concatenate(out) if out else np.empty((0, len(self.contract.labels)), np.float32)


class TorchPredictor(Predictor):
    kind = "pytorch"

    def __init__(self, path: Path):
        self.model, contract = load_checkpoint(path)
        super().__init__(path, contract)

    def _run(self, x):
        import torch

        with torch.inference_mode():
            return self.model(torch.from_numpy(np.ascontiguousarray(x, np.float32))).numpy()


class OnnxPredictor(Predictor):
    kind = "onnx"

    def __init__(self, path: Path, threads: int = 1):
        import onnxruntime as ort

        if Path(path).is_dir():  # a run folder given where its exported file is wanted
            raise ModelFileError(f"{path}: a folder, not an ONNX file; give {Path(path) / 'model.onnx'} (written by `sensorlab export {path}`)")
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            raise ModelFileError(f"{path}: not a valid ONNX model ({str(e).splitlines()[0][:200]})") from e
        super().__init__(path, from_onnxruntime(self.session))
        self.input = self.session.get_inputs()[0].name

    def _run(self, x):
        return self.session.run(None, {self.input: np.ascontiguousarray(x, np.float32)})[0]


class TFLitePredictor(Predictor):
    kind = "tflite"

    def __init__(self, path: Path, threads: int = 1):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ModelFileError(f"{path}: running TFLite models needs ai-edge-litert; pip install 'sensorlab[tflite]'") from None
        from sensorlab.training.tflite_file import TFLiteFileError, read_contract

        try:
            contract = read_contract(path)
            self.interp = Interpreter(model_path=str(path), num_threads=threads)
        except TFLiteFileError as e:
            raise ModelFileError(f"{path}: {e}" if str(path) not in str(e) else str(e)) from None
        except ValueError as e:  # the interpreter's own message for a corrupt flatbuffer
            raise ModelFileError(f"{path}: not a valid TFLite model ({str(e).splitlines()[0][:200]})") from None
        super().__init__(path, contract)
        self.interp.allocate_tensors()
        self.inp = self.interp.get_input_details()[0]
        self.out = self.interp.get_output_details()[0]

    def _run(self, x):
        rows = []
        for w in x:  # TFLite models are exported with batch 1
            xi = w[None]
            if self.inp["dtype"] in (np.int8, np.uint8):
                s, z = self.inp["quantization"]
                info = np.iinfo(self.inp["dtype"])
                xi = np.clip(np.round(xi / s + z), info.min, info.max).astype(self.inp["dtype"])
            self.interp.set_tensor(self.inp["index"], xi.astype(self.inp["dtype"]))
            self.interp.invoke()
            y = self.interp.get_tensor(self.out["index"])
            if self.out["dtype"] in (np.int8, np.uint8):
                s, z = self.out["quantization"]
                y = (y.astype(np.float32) - z) * s
            rows.append(y.reshape(-1))
        return np.stack(rows).astype(np.float32)


def load_predictor(path: Path) -> Predictor:
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file or run folder")
    if path.is_dir() or path.suffix == ".pt":
        return TorchPredictor(path)
    if path.suffix == ".onnx":
        return OnnxPredictor(path)
    if path.suffix == ".tflite":
        return TFLitePredictor(path)
    raise ModelFileError(f"{path}: unknown model type; give a run folder, a .pt checkpoint, an .onnx or a .tflite file")


def evaluate(model: Path, dataset: Path, split: str | None = "test", against: Path | None = None) -> dict:
    """Accuracy, per-class precision/recall/F1 and confusion matrix of one build on one split.

    ``against``: another build of the model (typically the run folder, i.e. PyTorch); the share of
    windows on which both give the same class is reported as ``agreement`` (each build reads the
    windows through its own contract, as it would on a device).
    """
    from sensorlab.training.data import eval_windows
    from sensorlab.training.metrics import classification_metrics

    pred = load_predictor(model)
    x, y, _ = eval_windows(dataset, pred.contract, split)
    logits = pred.predict(x)
    guess = logits.argmax(1) if len(logits) else np.empty(0, int)
    m = classification_metrics(y, guess, pred.contract.labels)
    m.update({"model": str(model), "kind": pred.kind, "dataset": str(dataset), "split": split})
    if against is not None:
        ref = load_predictor(against)
        if ref.contract.labels != pred.contract.labels:
            raise ModelFileError(f"{against}: its labels ({', '.join(ref.contract.labels)}) are not {model}'s; compare builds of one model")
        rx, _, _ = eval_windows(dataset, ref.contract, split)
        ref_guess = ref.predict(rx).argmax(1) if len(rx) else np.empty(0, int)
        m["agreement"] = {"against": str(against), "kind": ref.kind, "windows": int(len(guess)),
                          "argmax_agreement": float((guess == ref_guess).mean()) if len(guess) else float("nan")}  # fmt: skip
    return m
