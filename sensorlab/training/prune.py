"""``sensorlab prune RUN --sparsity 0.5``: structured magnitude pruning, fine-tuning, a new run folder.

Pruning removes whole filters (output channels) of each convolution, ranked by magnitude with
``torch.nn.utils.prune.ln_structured`` (L1 norm), and then *physically* removes them: the
pruned model is the same architecture built with fewer channels per layer (``widths``), so the
checkpoint, the ONNX file and the TFLite C array all get smaller and faster. Zeroing weights in
place (unstructured pruning) would not: ONNX and TFLite store dense tensors, zeros included, so
only the compressed size of the file shrinks (docs/TRAINING.md has the measured figures).

``--sparsity`` is the fraction of filters removed from every prunable convolution; the
parameter count falls faster (a convolution loses input *and* output channels). The pruned model
is fine-tuned on the parent run's dataset with the parent's settings (for a few epochs) and
written as an ordinary run folder that `evaluate`, `export` and `quantize`
accept; its model card names the parent run and the sparsity.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np


class PruneError(ValueError):
    """The run cannot be pruned as asked: one line naming the problem and the fix."""


def parse_sparsities(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise PruneError(f"--sparsity {text!r}: give fractions like 0.5 or a list like 0.25,0.5,0.75") from None
    bad = [v for v in values if not 0.0 < v < 1.0]
    if not values or bad:
        raise PruneError(f"--sparsity {text!r}: each value must be between 0 and 1 (exclusive), e.g. 0.5")
    return values


def pruned_run_dir(run: Path, sparsity: float) -> Path:
    return run.parent / f"{run.name}-pruned{round(sparsity * 100):02d}"


def _kept_filters(conv, bn, sparsity: float):
    """Indices of the output channels to keep: the largest L1 norms of the BN-folded filters.

    Batch norm rescales every channel by gamma / sqrt(var + eps), so a filter's own magnitude does
    not say how much it contributes; the folded filter is what the exported graph multiplies by.
    """
    import torch
    from torch import nn
    from torch.nn.utils import prune

    w = conv.weight.detach()
    if bn is not None:
        scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
        w = w * scale.view(-1, *([1] * (w.dim() - 1)))
    holder = nn.Module()
    holder.weight = nn.Parameter(w.clone())
    n = w.shape[0]
    drop = min(int(round(sparsity * n)), n - 1)  # a layer keeps at least one channel
    prune.ln_structured(holder, "weight", amount=drop, n=1, dim=0)
    mask = holder.weight_mask.flatten(1).any(1)
    return torch.nonzero(mask).flatten()


def prune_model(model, arch: str, kwargs: dict, sparsity: float) -> tuple[dict, list[int]]:
    """A smaller state dict and the per-layer ``widths`` it fits (for ``build_model``).

    The models are ``features`` (convolutions, batch norms, activations, pools) then ``head``
    (linear). A full convolution (groups 1) chooses which of its filters survive; a depthwise
    convolution keeps the channels its input kept; every following layer drops the matching
    input channels.
    """
    from torch import nn
    from torch.nn.modules.batchnorm import _BatchNorm

    mods = list(model.features)
    state = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith(("features.", "head."))}
    keep, widths = None, []
    for i, m in enumerate(mods):
        p = f"features.{i}."
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            w = m.weight.detach()
            if m.groups == 1:
                if keep is not None:
                    w = w[:, keep]
                bn = mods[i + 1] if i + 1 < len(mods) and isinstance(mods[i + 1], _BatchNorm) else None
                keep = _kept_filters(m, bn, sparsity)
                w = w[keep]
                widths.append(int(len(keep)))
            elif m.groups == m.in_channels == m.out_channels:  # depthwise: one filter per kept channel
                w = w[keep] if keep is not None else w
            else:
                raise PruneError(f"{arch}: grouped convolution {p[:-1]} cannot be pruned")
            state[p + "weight"] = w.clone()
            if m.bias is not None:
                state[p + "bias"] = m.bias.detach()[keep].clone()
        elif isinstance(m, _BatchNorm):
            for name in ("weight", "bias", "running_mean", "running_var"):
                state[p + name] = getattr(m, name).detach()[keep].clone()
            state[p + "num_batches_tracked"] = m.num_batches_tracked.clone()
        elif any(True for _ in m.parameters()):
            raise PruneError(f"{arch}: layer {p[:-1]} ({type(m).__name__}) is not supported by pruning")
    state["head.weight"] = model.head.weight.detach()[:, keep].clone()
    state["head.bias"] = model.head.bias.detach().clone()
    return state, widths


def n_params(model) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def _accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    from sensorlab.training.train import _predict

    return float((_predict(model, x).argmax(1).numpy() == y).mean()) if len(y) else float("nan")


def iter_prune(run: Path, sparsities: list[float], dataset: Path | None = None, epochs: int = 5, lr: float | None = None,
               out: Path | None = None) -> Iterator[dict]:  # fmt: skip
    """Progress events for each sparsity (``prune``, then the fine-tuning's ``start``/``epoch``/``done``),
    then ``table``; each event carries ``step``/``steps`` (which sparsity of the sweep)."""
    import torch

    from sensorlab.training.config import load_config
    from sensorlab.training.data import eval_windows
    from sensorlab.training.export import _trained_on
    from sensorlab.training.models import build_model
    from sensorlab.training.checkpoint import CHECKPOINT, load_checkpoint
    from sensorlab.training.train import iter_train

    run = Path(run)
    if not (run / CHECKPOINT).is_file():
        raise PruneError(f"{run}: no {CHECKPOINT}; prune a run folder written by `sensorlab train`")
    if out is not None and len(sparsities) > 1:
        raise PruneError("--out names one run folder; a sweep writes RUN-prunedNN beside the run for each sparsity")
    outs = [Path(out)] if out is not None else [pruned_run_dir(run, s) for s in sparsities]
    for o in outs:
        if o.exists() and any(o.iterdir()):
            raise PruneError(f"{o}: run folder exists and is not empty; remove it or choose another with --out")
    dataset = Path(dataset) if dataset else _trained_on(run)
    if dataset is None or not dataset.is_file():
        raise PruneError(f"the dataset {run} was trained on ({dataset}) is not there; pass --dataset DATASET.h5")
    from sensorlab.datasets.dataset import Dataset

    ck = torch.load(run / CHECKPOINT, map_location="cpu", weights_only=True)
    parent_model, contract = load_checkpoint(run)
    with Dataset.open(dataset) as ds:
        if list(ds.classes) != list(contract.labels):
            raise PruneError(f"{dataset}: classes {', '.join(ds.classes)} differ from the run's ({', '.join(contract.labels)}); "
                             "fine-tune on the dataset the run was trained on")  # fmt: skip
    parent_metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    base = load_config(run / "config.toml", contract.task)
    cfg = base.model_copy(update={"epochs": epochs, "lr": lr if lr is not None else base.lr, "patience": max(base.patience, epochs)})
    xt, yt, _ = eval_windows(dataset, contract, base.test_split)
    parent_row = {"sparsity": 0.0, "run": str(run), "params": n_params(parent_model), "size_bytes": n_params(parent_model) * 4,
                  "accuracy_pruned": None, "accuracy": float(parent_metrics["test"]["accuracy"] if parent_metrics["test"]["accuracy"] is not None else "nan")}  # fmt: skip
    rows = [parent_row]
    for step, (s, o) in enumerate(zip(sparsities, outs), 1):
        state, widths = prune_model(parent_model, ck["arch"], ck["arch_kwargs"], s)
        kwargs = {**ck["arch_kwargs"], "widths": widths}
        small = build_model(ck["arch"], kwargs)
        small.load_state_dict(state)  # strict: every tensor has the shape the smaller model expects
        acc0 = _accuracy(small, xt, yt)
        p = n_params(small)
        tag = {"step": step, "steps": len(sparsities), "sparsity": s}
        yield {"event": "prune", **tag, "run": str(o), "widths": widths, "params": p, "parent_params": parent_row["params"],
               "accuracy_pruned": acc0}  # fmt: skip
        note = {"pruning": {"parent_run": str(run.resolve()), "parent_name": run.name, "sparsity": s, "method": "structured L1 (BN-folded filters)",
                            "widths": widths, "parent_params": parent_row["params"], "parent_accuracy": parent_row["accuracy"],
                            "accuracy_before_finetune": acc0, "finetune_epochs": epochs, "finetune_lr": cfg.lr}}  # fmt: skip
        init = {"arch": ck["arch"], "arch_kwargs": kwargs, "state_dict": small.state_dict()}
        done = {}
        for ev in iter_train(dataset, cfg, o, init=init, note=note):
            if ev["event"] == "done":
                done = ev
            yield {**ev, **tag}
        rows.append({"sparsity": s, "run": str(o), "params": p, "size_bytes": p * 4, "accuracy_pruned": acc0, "accuracy": done.get("test_accuracy")})
    report = format_table(rows)
    (run / "prune.md").write_text(f"# Pruning {run.name}\n\nStructured L1 pruning, fine-tuned {epochs} epochs "
                                  f"(learning rate {cfg.lr:g}); test split `{base.test_split}`.\n\n{report}\n", encoding="utf-8")  # fmt: skip
    yield {"event": "table", "rows": rows, "report": str(run / "prune.md"), "text": report}


def format_table(rows: list[dict]) -> str:
    """Markdown table: sparsity, parameters, float32 weight size, accuracy before and after fine-tuning."""
    lines = ["| sparsity | parameters | weights (fp32) | accuracy after pruning | accuracy fine-tuned | run |", "|---|---|---|---|---|---|"]
    for r in rows:
        a0 = "-" if r["accuracy_pruned"] is None else f"{r['accuracy_pruned']:.4f}"
        a = "-" if r["accuracy"] is None else f"{r['accuracy']:.4f}"
        lines.append(f"| {r['sparsity']:.0%} | {r['params']:,} | {r['size_bytes'] / 1024:.1f} KiB | {a0} | {a} | {Path(r['run']).name} |")
    return "\n".join(lines)
