"""Training settings: defaults per task, overridable from a TOML file (`train.toml`).

The resolved settings (every default filled in) are written into the run folder, so a run
can be repeated exactly: ``sensorlab train DATA.h5 --task audio --config RUN/config.toml``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

TASKS = ("audio", "timeseries", "image")


class TrainConfig(BaseModel):
    """Every knob of a training run. Unknown keys are an error (a typo must not be ignored)."""

    model_config = ConfigDict(extra="forbid")

    task: Literal["audio", "timeseries", "image"] = "timeseries"
    stream: Optional[str] = Field(None, description="dataset stream to train on (default: the one suiting the task)")
    seed: int = 0
    epochs: int = Field(40, ge=1)
    batch_size: int = Field(64, ge=1)
    lr: float = Field(3e-3, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    patience: int = Field(8, ge=1, description="epochs without a better validation loss before stopping")
    val_fraction: float = Field(0.15, ge=0, lt=1, description="part of train held out when the dataset has no 'val' split")
    test_split: str = "test"
    class_weighting: bool = True
    augment: bool = True
    threads: int = Field(1, ge=1, description="torch CPU threads (results are reproducible for a given count)")
    width: Optional[int] = Field(None, ge=2, description="channels of the first layer (default per task)")
    # Audio front end (log-mel, computed inside the model so the exported graph holds it).
    n_mels: int = Field(40, ge=4)
    frame_length: float = Field(0.032, gt=0, description="seconds per STFT frame (rounded to a power of two of samples)")
    frame_hop: float = Field(0.016, gt=0, description="seconds between STFT frames")

    def resolved_width(self) -> int:
        return self.width or {"audio": 64, "timeseries": 16, "image": 8}[self.task]


class ConfigError(ValueError):
    """A bad training config: one line naming the key."""


def load_config(path: Path | None, task: str, **overrides) -> TrainConfig:
    data: dict = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML ({e})") from None
    data.update({k: v for k, v in overrides.items() if v is not None})
    data["task"] = task
    try:
        return TrainConfig(**data)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{path or 'config'}: {key}: {err['msg']} (got {err.get('input')!r})") from None


def dump_config(cfg: TrainConfig) -> str:
    import tomli_w

    return tomli_w.dumps({k: v for k, v in cfg.model_dump().items() if v is not None})
