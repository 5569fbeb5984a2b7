"""A training run's checkpoint (``model.pt`` in its run folder): its name, its format tag, and
loading it back as a model in eval mode with its contract; `ModelFileError` for a file that is
not a model sensorlab can run (raised here and by `predictors`).

Apart from `train` (which writes checkpoints) and `predictors` (which runs them), so that
neither imports the other.
"""

from __future__ import annotations

from pathlib import Path

CHECKPOINT = "model.pt"
CHECKPOINT_FORMAT = "sensorlab.checkpoint"


class ModelFileError(ValueError):
    """Not a model sensorlab can run: one line naming the file and the fix."""


def load_checkpoint(path: Path):
    """(model in eval mode, contract) from a run folder or a ``model.pt``."""
    import torch

    from sensorlab.contract import ModelContract
    from sensorlab.training.models import build_model

    path = Path(path)
    fix = "give a run folder written by `sensorlab train` (e.g. runs/imu-timeseries) or its model.pt"
    if not path.exists():
        raise ModelFileError(f"{path}: no such run folder or checkpoint; {fix}")
    if path.is_dir():
        if not (path / CHECKPOINT).is_file():
            raise ModelFileError(f"{path}: no {CHECKPOINT} in this folder, so not a run folder; {fix}")
        path = path / CHECKPOINT
    try:  # a dataset, an ONNX file or any other file: torch's many exception types (and
        # their long texts about its own options) as one line that names the file and the fix
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ModelFileError(f"{path}: not a sensorlab checkpoint; {fix}") from e
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT:
        raise ModelFileError(f"{path}: not a sensorlab checkpoint; {fix}")
    model = build_model(ck["arch"], ck["arch_kwargs"])
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model, ModelContract.from_json(ck["contract"])


__all__ = ["CHECKPOINT", "CHECKPOINT_FORMAT", "ModelFileError", "load_checkpoint"]
