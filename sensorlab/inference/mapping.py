"""How a model is fed and what its output means: the mapping, saved beside the model as JSON.

A sensorlab model carries its contract (`sensorlab.contract`), and `ModelMapping.from_contract`
turns it into a mapping. Any other ONNX model gets a mapping the user fills in (the studio's
"Load model…" dialog, or a ``MODEL.mapping.json`` written by hand): which stream and
channels, the model's sample rate (the stream is resampled when it differs), window and hop
in seconds (the window may be longer than the hop), the input tensor layout, scaling,
constant inputs, which output holds the scores and what kind they are, label names, and
which outputs are recurrent state fed back into which inputs.

Layout letters, one per axis of the model input: ``N`` batch (first, if present), ``T`` time
(samples of the window), ``C`` channels, ``1`` a singleton axis. ``"NTC"`` is a batch of
``(samples, channels)`` windows (the sensorlab default), ``"NCT"`` channels first, ``"N1T"``
one channel as ``(batch, 1, samples)``, ``"T"`` a bare sample vector without a batch axis.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sensorlab.contract import ModelContract

#: Suffix of the mapping file beside a model: ``kws.onnx`` → ``kws.mapping.json``.
MAPPING_SUFFIX = ".mapping.json"


class MappingError(ValueError):
    """A mapping that cannot be used; one line naming the key and the fix."""


class ModelMapping(BaseModel):
    """Everything needed to turn a stream into model inputs and model outputs into class scores."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    stream: str = Field(min_length=1)
    channels: list[str | int] = []  # names or indices in the stream; empty: all, in stream order
    rate: float | None = Field(default=None, gt=0)  # the model's rate; None: the stream's
    window: float = Field(gt=0)  # seconds of samples per window
    hop: float = Field(gt=0)  # seconds between window starts
    input: str = ""  # graph input that takes the window; "": the one input not otherwise mapped
    layout: str = Field(default="NTC", pattern=r"^N?[TC1]+$")
    mean: list[float] = []  # per-channel standardization (as a dataset's ChannelStats), before scale
    std: list[float] = []
    scale: float = 1.0  # then x * scale + offset
    offset: float = 0.0
    constants: dict[str, float | int | list[float]] = {}  # input name → value (e.g. a sample-rate scalar)
    scores: str = ""  # output holding the scores; "": the first output
    scores_kind: Literal["logits", "probabilities", "sigmoid"] = "logits"
    labels: list[str] = []  # class names; empty: class0, class1, …
    state: dict[str, str] = {}  # output name → input name it is fed back into (besides automatic matching)

    @field_validator("layout")
    @classmethod
    def _one_time_axis(cls, v: str) -> str:
        if v.count("T") != 1 or v.count("C") > 1 or v.count("N") > 1:
            raise ValueError("layout needs exactly one T, at most one C and one N (first), e.g. \"NTC\" or \"NCT\"")
        return v

    @model_validator(mode="after")
    def _stats(self) -> ModelMapping:
        if len(self.mean) != len(self.std):
            raise ValueError("mean and std need the same number of values (one per channel)")
        return self

    # -- sensorlab models -----------------------------------------------------------------------
    @classmethod
    def from_contract(cls, c: ModelContract) -> ModelMapping:
        """The mapping a sensorlab model's contract implies (its `prepare` still does the scaling)."""
        try:
            return cls._from_contract(c)
        except ValidationError as e:  # a hand-edited or foreign contract: rate 0, a string, …
            first = e.errors()[0]
            key = {"rate": "input.rate", "window": "window.length", "hop": "window.hop"}.get(str(first["loc"][0]) if first["loc"] else "", ".".join(map(str, first["loc"])))
            raise MappingError(f"the model contract's {key} is unusable ({first['msg'].removeprefix('Value error, ')}, got {first.get('input')!r}); "
                               "export the model again with `sensorlab export`, or give it a mapping with --mapping (docs/INFERENCE.md)") from None  # fmt: skip
        except (KeyError, TypeError) as e:
            raise MappingError(f"the model contract lacks or mistypes {e}; export the model again with `sensorlab export`") from None

    @classmethod
    def _from_contract(cls, c: ModelContract) -> ModelMapping:
        inp = c.input
        norm = inp.get("normalization", {})
        return cls(
            stream=inp["stream"],
            channels=list(inp["channels"]),
            rate=float(inp["rate"]),
            window=float(c.window["length"]),
            hop=float(c.window["hop"]),
            input=inp["name"],
            layout="NTC",
            mean=list(norm.get("mean", [])) if norm.get("kind") == "standardize" else [],
            std=list(norm.get("std", [])) if norm.get("kind") == "standardize" else [],
            scores=c.output.get("name", ""),
            scores_kind="probabilities" if c.output.get("kind") == "probabilities" else "logits",
            labels=list(c.labels),
        )

    # -- files ---------------------------------------------------------------------------------------
    def save(self, model_path: str | Path) -> Path:
        path = mapping_path(model_path)
        path.write_text(self.model_dump_json(indent=2) + "\n")
        return path

    @classmethod
    def parse(cls, text: str, source: str = "mapping") -> ModelMapping:
        try:
            return cls.model_validate(json.loads(text))
        except json.JSONDecodeError as e:
            raise MappingError(f"{source}: not valid JSON ({e.msg}, line {e.lineno}); fix the file or delete it and map the model again") from None
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
            msg = first["msg"].removeprefix("Value error, ")
            if first["type"] == "extra_forbidden":
                msg = "unknown key: remove it or check its spelling (docs/INFERENCE.md lists the keys)"
            elif first["type"] == "missing":
                msg = "missing: add it"
            raise MappingError(f"{source}: {loc}: {msg}") from None


def mapping_path(model_path: str | Path) -> Path:
    p = Path(model_path)
    return p.with_name(p.stem + MAPPING_SUFFIX)


def load_mapping(model_path: str | Path) -> ModelMapping | None:
    """The mapping saved beside ``model_path``, or None when there is none."""
    path = mapping_path(model_path)
    if not path.is_file():
        return None
    return ModelMapping.parse(path.read_text(encoding="utf-8", errors="replace"), source=path.name)


__all__ = ["MAPPING_SUFFIX", "MappingError", "ModelMapping", "load_mapping", "mapping_path"]
