"""Classification metrics, plots and the model card (NumPy and matplotlib only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict:
    """Accuracy, per-class precision/recall/F1/support and the confusion matrix (rows: true)."""
    k = len(labels)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    tp = np.diag(cm).astype(float)
    support = cm.sum(1)
    predicted = cm.sum(0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    n = int(cm.sum())
    per_class = {lab: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
                 for i, lab in enumerate(labels)}  # fmt: skip
    present = support > 0
    return {"n": n, "accuracy": float(tp.sum() / n) if n else float("nan"),
            "macro_f1": float(f1[present].mean()) if present.any() else float("nan"),
            "per_class": per_class, "confusion": cm.tolist(), "labels": list(labels)}  # fmt: skip


def format_metrics(m: dict) -> str:
    lines = [f"accuracy {m['accuracy']:.4f} on {m['n']} windows, macro F1 {m['macro_f1']:.4f}", "",
             f"{'class':<16}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]  # fmt: skip
    for lab, c in m["per_class"].items():
        lines.append(f"{lab[:15]:<16}{c['precision']:>10.3f}{c['recall']:>10.3f}{c['f1']:>10.3f}{c['support']:>9d}")
    lines += ["", "confusion (rows: true, columns: predicted)"]
    w = max(6, *(len(x[:10]) + 1 for x in m["labels"]))
    lines.append(" " * 16 + "".join(f"{lab[:10]:>{w}}" for lab in m["labels"]))
    for lab, row in zip(m["labels"], m["confusion"]):
        lines.append(f"{lab[:15]:<16}" + "".join(f"{v:>{w}d}" for v in row))
    return "\n".join(lines)


def plot_curves(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    ep = [h["epoch"] for h in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5), dpi=100)
    for ax, key in ((a, "loss"), (b, "acc")):
        ax.plot(ep, [h[f"train_{key}"] for h in history], label="train")
        if any(h.get(f"val_{key}") is not None for h in history):  # None: a run without validation windows
            ax.plot(ep, [np.nan if h.get(f"val_{key}") is None else h[f"val_{key}"] for h in history], label="validation")
    a.set(xlabel="epoch", ylabel="loss", title="Loss")
    b.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1.02))
    for ax in (a, b):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_confusion(m: dict, path: Path, title: str = "Confusion matrix (test)") -> None:
    from matplotlib import pyplot as plt

    fig = confusion_figure(m, title)
    fig.savefig(path)
    plt.close(fig)


def _ink_on(rgba) -> str:
    """Black or white, whichever contrasts more with a cell of colour ``rgba`` (WCAG luminance)."""
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def confusion_figure(m: dict, title: str = "Confusion matrix (test)"):
    """The confusion matrix as a matplotlib figure: counts in cells shaded from 0 (white).

    Each count is written in the ink that contrasts with its own cell's colour: chosen from
    the count alone (white above half the largest), the smallest count was drawn white on
    white whenever the shading started at it (e.g. 18 of 33 in a 2-class matrix)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    cm = np.asarray(m["confusion"])
    k = len(m["labels"])
    fig, ax = plt.subplots(figsize=(1.0 + 0.5 * k + 2, 0.5 * k + 2), dpi=100)
    ax.imshow(cm, cmap="Blues", vmin=0, vmax=max(1, int(cm.max()) if cm.size else 1))
    ax.set_xticks(range(k), m["labels"], rotation=45, ha="right")
    ax.set_yticks(range(k), m["labels"])
    ax.set(xlabel="predicted", ylabel="true", title=title)
    image = ax.images[0]
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=_ink_on(image.cmap(image.norm(cm[i, j]))), fontsize=8)
    fig.tight_layout()
    return fig


def model_card(info: dict) -> str:
    """Markdown: data (dataset hash), architecture, size, latency, accuracy per class."""
    m = info["test"]
    rows = "\n".join(f"| {lab} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |" for lab, c in m["per_class"].items())
    c = info["contract"]
    inp = c["input"]
    pr = info.get("pruning")
    pruned = "" if not pr else f"""
## Pruning
- Pruned from run `{pr['parent_name']}` ({pr['parent_params']:,} parameters, test accuracy {pr['parent_accuracy']:.4f}):
  {pr['sparsity']:.0%} of the filters of every convolution removed ({pr['method']}), channels per layer {pr['widths']}.
- Test accuracy right after pruning {pr['accuracy_before_finetune']:.4f}; then fine-tuned {pr['finetune_epochs']} epochs at learning rate {pr['finetune_lr']:g}
  (`config.toml` holds the fine-tuning settings; repeating them needs the parent run: `sensorlab prune`).
"""
    return f"""# Model card: {info['name']}

Task: **{c['task']}** classification of {len(c['labels'])} classes ({', '.join(c['labels'])}).

## Data
- Dataset file: `{info['dataset_file']}`, content hash `{c['dataset'].get('content_hash', '?')}`
  (spec hash `{c['dataset'].get('spec_hash', '?')}`), {len(c['dataset'].get('sessions', []))} sessions.
- Input: stream `{inp['stream']}` at {inp['rate']:g} Hz, window {c['window']['length']:g} s, hop {c['window']['hop']:g} s,
  shape {tuple(inp['shape'])}, channels {', '.join(inp['channels']) or '-'}, normalization `{inp['normalization']['kind']}`.
- Features: `{c['features']['kind']}`{' (inside the model graph)' if c['features'].get('in_graph') else ''}.
- Windows: {info['n_train']} train, {info['n_val']} validation ({info['val_source']}), {m['n']} test (split `{info['test_split']}`).

## Model
- Architecture `{c['model']['arch']}`: {c['model']['params']:,} parameters, {c['model']['size_bytes'] / 1024:.1f} KiB as float32 weights.
- PyTorch CPU latency, 1 thread, one window: p50 {info['latency_ms']['p50']:.3f} ms, p99 {info['latency_ms']['p99']:.3f} ms.
- Trained {info['epochs_run']} epochs (best epoch {info['best_epoch']}), seed {info['config']['seed']}, class weighting {info['config']['class_weighting']}, augmentation {info['config']['augment']}.{' Processes: ' + str(info['processes']) + ' (DDP).' if info.get('processes', 1) > 1 else ''}
{pruned}
## Accuracy on the test split
Accuracy **{m['accuracy']:.4f}**, macro F1 {m['macro_f1']:.4f}.

| class | precision | recall | F1 | support |
|---|---|---|---|---|
{rows}

Curves: `curves.png`; confusion matrix: `confusion.png`.
"""


def epoch_summary(ev: dict, what: str = "epoch") -> str:
    """One line on a training epoch event. Without validation windows there is no validation
    loss or accuracy to show (the numbers printed were the training ones, read as validation)."""
    line = f"{what} {ev['epoch']}/{ev['epochs']}  loss {ev['train_loss']:.4f}  acc {ev['train_acc']:.3f}  "
    if ev.get("val_loss") is None:
        return line + "(no validation split)"
    return line + f"val loss {ev['val_loss']:.4f}  val acc {ev['val_acc']:.3f}"


def no_validation_note(val_fraction: float, n_train: int) -> str:
    """Why a run has no validation windows, what that changes, and what to do about it."""
    why = (f"val_fraction is {val_fraction:g}" if val_fraction <= 0
           else f"{val_fraction:.0%} of its {n_train} train windows rounds to none")  # fmt: skip
    return (f"no validation split: the dataset has no 'val' windows and {why}, so no validation loss or accuracy is "
            "measured and early stopping and the kept epoch follow the training loss; give the dataset a val split "
            "(Datasets tab: Split, val fraction > 0) or set val_fraction = 0.15 in the training config")


def no_test_note(test_split: str) -> str:
    """Said when training starts on a dataset whose test split is empty: what the run will lack, and the fix."""
    return (f"no test split: the dataset's {test_split!r} split has no windows, so this run will end with no test metrics "
            "(accuracy, macro F1, confusion matrix); give it windows (Datasets tab: Split, test fraction > 0, with "
            "enough sessions or groups that one goes to test) and build the dataset again")


def start_notes(ev: dict) -> list[str]:
    """The warnings a training run's "start" event carries (`no_validation_note`, `no_test_note`),
    for the CLI and the Training tab to show alike."""
    return [ev[key] for key in ("no_validation", "no_test") if ev.get(key)]


def test_summary(accuracy: float, macro_f1: float, windows: int) -> str:
    """One line on a run's test metrics; with no test windows it says so (they were "nan")."""
    if not windows:
        return "no test metrics: the dataset's test split has no windows (give it sessions or groups)"
    return f"test accuracy {accuracy:.4f}, macro F1 {macro_f1:.4f} on {windows} windows"
