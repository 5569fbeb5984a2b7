"""``sensorlab train``: a dataset file → a run folder (checkpoint, config, metrics, plots, model card).

`iter_train` is a generator of progress events (plain dicts, printed as JSON lines with
``--json``), so the GUI can run it as a subprocess and plot live curves. Runs are seeded:
the same dataset, config and thread count give the same weights.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sensorlab.datasets.dataset import Dataset
from sensorlab.training.checkpoint import CHECKPOINT, CHECKPOINT_FORMAT
from sensorlab.training.config import TrainConfig, dump_config
from sensorlab.training.data import base_contract, choose_stream, load_splits
from sensorlab.training.metrics import classification_metrics, model_card, no_test_note, no_validation_note, plot_confusion, plot_curves


class RunFolderError(ValueError):
    """The finished run could not be put in place; the message names where it is kept."""


def finite_json(obj):
    """``obj`` with every NaN or infinity replaced by None: strict JSON (jq, JavaScript and
    other languages' parsers reject the bare ``NaN`` Python writes), "no value" for metrics
    that do not exist, e.g. the accuracy of an empty test split."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    return obj


def default_run_dir(dataset: Path, task: str, root: Path = Path("runs")) -> Path:
    base = root / f"{dataset.stem}-{task}"
    if not base.exists():
        return base
    i = 2
    while (root / f"{base.name}-{i}").exists():
        i += 1
    return root / f"{base.name}-{i}"


def partial_run_dir(out: Path) -> Path:
    """The hidden folder beside ``out`` that a run is written into before it is renamed to ``out``."""
    return out.parent / f".{out.name}.partial-{os.getpid()}"


def remove_killed_partials(out: Path) -> None:
    """Delete hidden folders that runs into ``out`` left when they were killed while writing
    (their process is gone); a run still writing one is left alone."""
    import glob

    for stale in out.parent.glob(f".{glob.escape(out.name)}.partial-*"):
        pid = stale.name.rsplit("-", 1)[1]
        if not pid.isdigit():
            continue
        if int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
                continue  # alive: another training is writing it
            except ProcessLookupError:
                pass
            except OSError:
                continue  # someone else's process: not ours to judge
        shutil.rmtree(stale, ignore_errors=True)


def publish_run_dir(partial: Path, out: Path) -> None:
    """Rename the finished ``partial`` folder to ``out`` in one step (``out`` may be an empty folder,
    as `train --out` allows). A folder that filled up meanwhile is named in the error, with the
    finished run kept beside it under its hidden name."""
    try:
        os.replace(partial, out)
    except OSError as e:
        if e.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
            raise
        raise RunFolderError(f"{out} was filled (or made a file) while training ran: the finished run is kept as {partial}; "
                         "rename it to a free name to use it") from None  # fmt: skip


def _arch(cfg: TrainConfig, contract, n_classes: int) -> tuple[str, dict]:
    from sensorlab.training.models import frontend_params

    shape = contract.input["shape"]
    w = cfg.resolved_width()
    if cfg.task == "audio":
        fe = frontend_params(contract.input["rate"], shape[0], cfg.n_mels, cfg.frame_length, cfg.frame_hop, shape[-1] if len(shape) == 2 else 1)
        contract.features = fe
        return "audio_dscnn", {"n_classes": n_classes, "frontend": fe, "width": w}
    if cfg.task == "timeseries":
        return "timeseries_cnn", {"n_channels": shape[-1], "n_classes": n_classes, "width": w}
    return "image_cnn", {"n_frames": shape[0], "n_classes": n_classes, "width": w}


def _predict(model, x, batch: int = 256):
    import torch

    model.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(x), batch):
            out.append(model(torch.from_numpy(x[i : i + batch])))
    return torch.cat(out) if out else torch.empty(0, 0)


def torch_latency(model, one: np.ndarray, runs: int = 50) -> dict:
    """p50/p99 milliseconds for one window at 1 thread (after a warm-up)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model.eval()
    x = torch.from_numpy(one[None])
    times = []
    with torch.inference_mode():
        for i in range(runs + 5):
            t = time.perf_counter()
            model(x)
            if i >= 5:
                times.append((time.perf_counter() - t) * 1e3)
    torch.set_num_threads(threads)
    return {"p50": float(np.percentile(times, 50)), "p99": float(np.percentile(times, 99))}


def iter_train(dataset: Path, cfg: TrainConfig, out: Path, init: dict | None = None, note: dict | None = None) -> Iterator[dict]:
    """Progress events; the run folder is written at the end (by rank 0 only under torchrun).

    ``init`` (a checkpoint dict: ``arch``, ``arch_kwargs``, ``state_dict``) starts from a trained
    model instead of a fresh one (fine-tuning a pruned model); ``note`` goes into metrics.json
    and the model card (``note["pruning"]``).
    """
    import torch
    from torch import nn

    from sensorlab.training import distributed
    from sensorlab.training.models import augment, build_model

    ctx = distributed.from_env()
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    with Dataset.open(dataset) as ds:
        stream = choose_stream(ds, cfg.task, cfg.stream)
        contract = base_contract(ds, cfg.task, stream)
        data = load_splits(ds, stream, contract, cfg.test_split, cfg.val_fraction, cfg.seed)
    labels = contract.labels
    k = len(labels)
    arch, kwargs = _arch(cfg, contract, k)
    if init is not None:
        arch, kwargs = init["arch"], init["arch_kwargs"]
    model = build_model(arch, kwargs)
    if init is not None:
        model.load_state_dict(init["state_dict"])
    # No validation windows: say so once, and never report the training figures as validation ones.
    notes = {} if len(data.y["val"]) else {"no_validation": no_validation_note(cfg.val_fraction, len(data.y["train"]))}
    # No test windows: say so now, not only in the run's last line ("no test metrics").
    if not len(data.y["test"]):
        notes["no_test"] = no_test_note(data.test_split)
    yield {"event": "start", "run": str(out), "stream": stream, "arch": arch, "classes": labels,
           "windows": {s: int(len(v)) for s, v in data.y.items()}, "params": sum(p.numel() for p in model.parameters()), **notes}  # fmt: skip

    if init is None and hasattr(model, "set_feature_stats"):
        model.set_feature_stats(torch.from_numpy(data.x["train"]))
    counts = np.bincount(data.y["train"], minlength=k).astype(float)
    weights = np.where(counts > 0, counts.sum() / (k * np.maximum(counts, 1)), 0.0) if cfg.class_weighting else np.ones(k)
    crit = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    # Under DDP each process sums its share's weighted losses over the *whole* batch's weight,
    # times the process count (DDP averages gradients): the single-process gradient of the batch.
    share_crit = nn.CrossEntropyLoss(weight=crit.weight, reduction="sum")
    net = ctx.wrap(model)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    g = torch.Generator().manual_seed(cfg.seed)
    xtr, ytr = torch.from_numpy(data.x["train"]), torch.from_numpy(data.y["train"])
    xva, yva = data.x["val"], torch.from_numpy(data.y["val"])
    history, best, stale, best_epoch = [], float("inf"), 0, 0
    best_state = {n: t.detach().clone() for n, t in model.state_dict().items()}
    for epoch in range(1, cfg.epochs + 1):
        net.train()
        perm = torch.randperm(len(xtr), generator=g)
        tot, correct, seen = 0.0, 0, 0
        for i in range(0, len(perm), cfg.batch_size):
            idx = perm[i : i + cfg.batch_size]
            if len(idx) < 2 * ctx.world:  # batch norm needs two samples (in each process)
                continue
            xb = augment(cfg.task, xtr[idx], g) if cfg.augment else xtr[idx]
            yb = ytr[idx]
            if ctx.world == 1:
                logits = net(xb)
                loss = crit(logits, yb)
            else:
                xb, ys = ctx.share(xb), ctx.share(yb)
                logits = net(xb)
                loss = share_crit(logits, ys) * ctx.world / crit.weight[yb].sum()
                yb = ys
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(idx) / ctx.world
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(yb)
        sched.step()
        if ctx.world > 1:
            ctx.sync_buffers(model)
            tot, correct, seen = ctx.sum(tot, correct, seen)
        if len(xva):
            lv = _predict(model, xva)
            val_loss, val_acc = float(crit(lv, yva)), float((lv.argmax(1) == yva).float().mean())
            watched = val_loss = ctx.from_main(val_loss)  # every process stops at the same epoch
        else:
            val_loss = val_acc = None  # nothing measured (the training figures are in their own keys)
            watched = tot / max(seen, 1)
        h = {"event": "epoch", "epoch": epoch, "epochs": cfg.epochs, "train_loss": tot / max(seen, 1), "train_acc": correct / max(seen, 1),
             "val_loss": val_loss, "val_acc": val_acc, "lr": float(opt.param_groups[0]["lr"])}  # fmt: skip
        history.append(h)
        yield h
        if watched < best - 1e-6:
            best, stale = watched, 0
            best_state = {n: t.detach().clone() for n, t in model.state_dict().items()}
            best_epoch = epoch
        else:
            stale += 1
            if stale >= cfg.patience:
                yield {"event": "early_stop", "epoch": epoch, "best_epoch": best_epoch}
                break
    model.load_state_dict(best_state)
    model.eval()
    if not ctx.main:  # the other processes are done; rank 0 writes the run folder
        ctx.close()
        return
    test_pred = _predict(model, data.x["test"]).argmax(1).numpy() if len(data.x["test"]) else np.empty(0, int)
    test = classification_metrics(data.y["test"], test_pred, labels)
    params = sum(p.numel() for p in model.parameters())
    contract.model = {"arch": arch, "params": int(params), "size_bytes": int(params * 4), "run": out.name}
    one = data.x["test"][0] if len(data.x["test"]) else data.x["train"][0]
    info = {"name": out.name, "dataset_file": Path(dataset).name, "contract": json.loads(contract.to_json()), "test": test,
            "n_train": int(len(data.y["train"])), "dataset_path": str(Path(dataset).resolve()), "n_val": int(len(data.y["val"])), "val_source": data.val_source if len(data.y["val"]) else "none",
            "test_split": data.test_split, "latency_ms": torch_latency(model, one), "epochs_run": len(history),
            "best_epoch": best_epoch, "config": cfg.model_dump(), "history": history, "processes": ctx.world, **(note or {})}  # fmt: skip
    # Written under a hidden name beside it, then renamed into place: a run killed meanwhile
    # (SIGKILL, power) leaves no folder that looks like a run (model.pt without metrics.json),
    # only the hidden one, which no listing shows.
    partial = partial_run_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_killed_partials(out)
    partial.mkdir()
    try:
        torch.save({"format": CHECKPOINT_FORMAT, "version": 1, "arch": arch, "arch_kwargs": kwargs, "state_dict": model.state_dict(),
                    "contract": contract.to_json()}, partial / CHECKPOINT)  # fmt: skip
        (partial / "config.toml").write_text(dump_config(cfg), encoding="utf-8")
        (partial / "contract.json").write_text(json.dumps(info["contract"], indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (partial / "metrics.json").write_text(json.dumps(finite_json(info), indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
        plot_curves(history, partial / "curves.png")
        plot_confusion(test, partial / "confusion.png")
        (partial / "MODEL_CARD.md").write_text(model_card(info), encoding="utf-8")
        publish_run_dir(partial, out)
    except BaseException as e:
        if not isinstance(e, RunFolderError):  # that one names the finished run it keeps
            shutil.rmtree(partial, ignore_errors=True)
        raise
    ctx.close()
    yield {"event": "done", "run": str(out), "test_accuracy": test["accuracy"], "macro_f1": test["macro_f1"], "params": int(params),
           "best_epoch": best_epoch, "test_windows": int(test["n"])}  # fmt: skip
