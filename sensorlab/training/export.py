"""``sensorlab export RUN --format onnx``: the trained model as an ONNX graph carrying its contract.

The graph's input is the prepared window (`ModelContract.prepare`), in the dataset's layout,
with a dynamic batch axis; audio models hold their log-mel front end as graph ops. The
contract JSON is stored in ``metadata_props`` under `sensorlab.contract.METADATA_KEY`.
Export checks itself: onnxruntime and PyTorch must agree on real dataset windows within
`ATOL` + `RTOL` × |logit| (float32 op-order differences only), and on every argmax.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from pathlib import Path

import numpy as np

from sensorlab.contract import METADATA_KEY, ModelContract
from sensorlab.training.staged import staged

ATOL = 1e-4
RTOL = 1e-3
#: Real windows the self-check runs (test split first).
CHECK_WINDOWS = 256


class ExportError(RuntimeError):
    """The export failed or does not match PyTorch: one line saying so."""


def check_windows(contract: ModelContract, dataset: Path | None, n: int = CHECK_WINDOWS, split: str | None = None) -> np.ndarray:
    """Prepared real windows for self-checks: the run's test split (``split``), else ``test``, else every window."""
    from sensorlab.datasets.dataset import Dataset

    if dataset is None or not Path(dataset).exists():
        raise ExportError(f"the dataset the model was trained on ({dataset}) is needed to check the export; pass --dataset DATASET.h5")
    with Dataset.open(dataset) as ds:
        split = next((s for s in (split, "test") if s in ds.split_names), None)
        x, _ = ds.arrays(contract.input["stream"], split)
        if len(x) == 0:
            x, _ = ds.arrays(contract.input["stream"], None)
    idx = np.linspace(0, len(x) - 1, min(n, len(x))).astype(int) if len(x) else np.empty(0, int)
    return contract.prepare(x[idx])


def set_metadata(path: Path, contract: ModelContract, extra: dict[str, str] | None = None) -> None:
    import onnx

    m = onnx.load(str(path))
    props = {p.key: p.value for p in m.metadata_props}
    props.update({METADATA_KEY: contract.to_json(), **(extra or {})})
    del m.metadata_props[:]
    for k, v in sorted(props.items()):
        m.metadata_props.add(key=k, value=v)
    m.producer_name = "sensorlab"
    onnx.save(m, str(path))


def _drop_weights_file(path: Path) -> None:
    """Remove the weights file torch's exporter writes beside the model (``model.onnx.data``)
    once `set_metadata` has saved the weights inside the model: left behind, it made users ask
    which of the two files to ship (only ``model.onnx``: it is whole)."""
    import onnx
    from onnx.external_data_helper import uses_external_data

    weights = path.with_name(path.name + ".data")
    if weights.exists() and not any(uses_external_data(t) for t in onnx.load(str(path), load_external_data=False).graph.initializer):
        weights.unlink()


@contextlib.contextmanager
def _quiet_exporter():
    """Hide the exporter's chatter that says nothing about this model.

    torch's ONNX exporter logs one warning per torchvision operator it cannot register when
    torchvision is absent (it is not needed here), and pytree emits a deprecation FutureWarning;
    in the studio's log they buried the line that matters (the parity check).
    """
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, message=r".*LeafSpec.*")
            yield
    finally:
        registration.setLevel(level)


def export_onnx(run: Path, out: Path | None = None, dataset: Path | None = None) -> dict:
    """Write ``RUN/model.onnx`` (or ``out``); return the self-check report."""
    import torch

    from sensorlab.training.predictors import OnnxPredictor
    from sensorlab.training.checkpoint import load_checkpoint

    model, contract = load_checkpoint(run)
    run = Path(run)
    out = Path(out) if out else (run if run.is_dir() else run.parent) / "model.onnx"
    dataset = dataset or _trained_on(run)
    folder = run if run.is_dir() else run.parent
    if dataset is None and not (folder / "metrics.json").exists():
        # train writes the checkpoint, then metrics.json: a stop between the two left "the dataset (None) is needed".
        raise ExportError(f"{folder} has a checkpoint but no metrics.json: its training did not finish (stopped while the run folder "
                          f"was written); train it again, or pass --dataset DATASET.h5 to export this checkpoint anyway")  # fmt: skip
    x = check_windows(contract, dataset, split=_tested_on(run))
    example = torch.from_numpy(x[:2] if len(x) >= 2 else np.zeros((2, *contract.input["shape"]), np.float32))
    with staged(out) as tmp:  # `out` appears only once the model is whole and checked
        try:
            with _quiet_exporter():
                torch.onnx.export(model, (example,), str(tmp), input_names=[contract.input["name"]], output_names=[contract.output["name"]],
                                  dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=4096)}}, dynamo=True, optimize=True,
                                  verbose=False, report=False)  # fmt: skip
        except Exception as e:  # the exporter raises many types; one line says which step failed
            raise ExportError(f"ONNX export of {run} failed: {str(e).splitlines()[0][:300]}") from e
        set_metadata(tmp, contract)
        _drop_weights_file(tmp)
        pred = OnnxPredictor(tmp)
        with torch.inference_mode():
            ref = model(torch.from_numpy(x)).numpy()
        got = pred.predict(x)
        del pred
        report = parity(ref, got, "onnx fp32 vs pytorch")
        report.update({"file": str(out), "size_bytes": tmp.stat().st_size})
        if not report["ok"]:
            raise ExportError(f"{out}: onnxruntime differs from PyTorch by {report['max_abs_diff']:.3g} on {report['windows']} windows "
                              f"(tolerance {ATOL} + {RTOL}·|logit|); the exported graph is not the trained model, so it was not written")  # fmt: skip
    return report


def parity(ref: np.ndarray, got: np.ndarray, what: str, atol: float = ATOL, rtol: float = RTOL) -> dict:
    diff = np.abs(ref - got)
    tol = atol + rtol * np.abs(ref)
    agree = float((ref.argmax(1) == got.argmax(1)).mean()) if len(ref) else 1.0
    return {"what": what, "windows": int(len(ref)), "max_abs_diff": float(diff.max()) if diff.size else 0.0,
            "within_tolerance": bool((diff <= tol).all()), "argmax_agreement": agree,
            "ok": bool((diff <= tol).all()) and agree == 1.0, "tolerance": f"{atol} + {rtol}*|logit|"}  # fmt: skip


def _run_metrics(run: Path) -> dict:
    """The metrics.json of a run folder (or of the folder a model file sits in); empty if none."""
    run = Path(run)
    m = (run if run.is_dir() else run.parent) / "metrics.json"
    return json.loads(m.read_text()) if m.exists() else {}


def _trained_on(run: Path) -> Path | None:
    """The dataset path a run was trained on (recorded in its metrics.json), if still there."""
    p = _run_metrics(run).get("dataset_path")
    return Path(p) if p else None


def _tested_on(run: Path) -> str | None:
    """The split a run held out and tested on (``test``, or a speaker's name in a leave-one-out file)."""
    return _run_metrics(run).get("test_split")
