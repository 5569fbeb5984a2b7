"""What is in a dataset: class counts and durations per split, windows per session and group,
warnings, and PNG plots (class balance, an example window per class).

`dataset_report` reads only the per-window columns and attributes (small), and the plots
read one window per class, so a report on a large dataset is quick.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sensorlab.datasets.dataset import Dataset


@dataclass
class DatasetReport:
    path: Path
    windows: int
    classes: list[str]
    split_names: list[str]
    split: dict
    streams: list[dict]
    window: dict
    counts: np.ndarray  # (splits, classes) windows
    seconds: np.ndarray  # (splits, classes) seconds of time the windows cover (overlap counted once)
    per_session: list[tuple[str, str, str, int]]  # (session, group, split, windows)
    per_group: list[tuple[str, str, int]]  # (group, split, windows)
    warnings: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    content_hash: str = ""
    sensorlab_version: str = ""


def dataset_report(path: str | Path) -> DatasetReport:
    """Summarize a dataset file (raises `dataset.DatasetError` if it is not one)."""
    with Dataset.open(path) as ds:
        label, split, session = ds.column("label"), ds.column("split"), ds.column("session")
        classes, names, inputs = ds.classes, ds.split_names, ds.inputs
        window = ds._jattr("window", {})
        counts = np.zeros((len(names), len(classes)), np.int64)
        np.add.at(counts, (split.astype(np.int64), label.astype(np.int64)), 1)
        # Windows overlap when hop < length: each window stands for `min(hop, length)` s of new time.
        step = min(float(window.get("hop", 0.0)), float(window.get("length", 0.0)))
        per_session = []
        groups: dict[tuple[str, str], int] = {}
        assignment = ds.split.get("assignment", {})
        for i, inp in enumerate(inputs):
            m = session == i
            sp = str(assignment.get(str(inp.get("group", "")), "-"))
            per_session.append((inp["name"], str(inp.get("group", "")), sp, int(m.sum())))
            key = (str(inp.get("group", "")), sp)
            groups[key] = groups.get(key, 0) + int(m.sum())
        return DatasetReport(
            Path(path), len(ds), classes, names, ds.split, list(ds.streams.values()), window, counts, counts * step,
            per_session, sorted((g, s, n) for (g, s), n in groups.items()), ds.warnings, ds.skipped,
            str(ds.attrs.get("content_hash", "")), str(ds.attrs.get("sensorlab_version", "")),
        )  # fmt: skip


def empty_split_lines(rep: DatasetReport) -> list[str]:
    """"split 'x' has no windows" for each empty split the build's warnings do not already
    name with the reason (one session split three ways said it twice, without the reason)."""
    said = [w for w in rep.warnings if w.startswith("split") and ("no windows" in w or "0 windows" in w)]
    return [f"split {n!r} has no windows" for i, n in enumerate(rep.split_names)
            if rep.counts[i].sum() == 0 and not any(repr(n) in w.split(":")[0] for w in said)]  # fmt: skip


def _table(rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for j, r in enumerate(rows):
        out.append("  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def classes_text(n: int) -> str:
    """How reports count classes: "1 class", "3 classes" (they said "1 classes")."""
    return f"{n} class" if n == 1 else f"{n} classes"


def format_report(rep: DatasetReport) -> str:
    """The report as text: header, classes per split, windows per group and session, warnings."""
    lines = [f"{rep.path.name}: {rep.windows} windows, {classes_text(len(rep.classes))}, sensorlab {rep.sensorlab_version}",
             f"window {rep.window.get('length')} s, hop {rep.window.get('hop')} s, label rule {rep.window.get('rule')}"
             f" (min coverage {rep.window.get('min_coverage')}), gaps: {rep.window.get('gaps')}"]  # fmt: skip
    for s in rep.streams:
        ch = f"{len(s['channels'])} ch ({', '.join(s['channels'])})" if s["channels"] else s["kind"]
        lines.append(f"stream {s['name']}: {s['rate']:g} Hz × {s['n_samples']} samples, {ch}, from {', '.join(f'{r:g}' for r in s.get('source_rates', [s['source_rate']]))} Hz ({s['resampler']})")
    sp = rep.split
    lines.append(f"split: {sp.get('method')} by {sp.get('by')!r}, seed {sp.get('seed')}{', stratified' if sp.get('stratified') else ''}")
    lines.append(f"content hash: {rep.content_hash[:16]}…")
    lines.append("")
    rows = [["class", *[f"{n} (windows / s)" for n in rep.split_names], "total"]]
    for j, c in enumerate(rep.classes):
        cells = [f"{rep.counts[i, j]} / {rep.seconds[i, j]:.0f}" for i in range(len(rep.split_names))]
        rows.append([c, *cells, f"{rep.counts[:, j].sum()} / {rep.seconds[:, j].sum():.0f}"])
    rows.append(["all", *[f"{rep.counts[i].sum()} / {rep.seconds[i].sum():.0f}" for i in range(len(rep.split_names))],
                 f"{rep.counts.sum()} / {rep.seconds.sum():.0f}"])  # fmt: skip
    lines += _table(rows, set(range(1, len(rows[0]))))
    lines.append("")
    lines += _table([["group", "split", "windows"], *[[g, s, str(n)] for g, s, n in rep.per_group]], {2})
    lines.append("")
    lines += _table([["session", "group", "split", "windows"], *[[a, b, c, str(n)] for a, b, c, n in rep.per_session]], {3})
    warnings = list(rep.warnings) + empty_split_lines(rep)
    missing = [(n, c) for i, n in enumerate(rep.split_names) for j, c in enumerate(rep.classes) if rep.counts[i, j] == 0 and rep.counts[i].sum() > 0]
    warnings += [f"class {c!r} has no windows in split {n!r}" for n, c in missing]
    if rep.skipped:
        lines.append("")
        lines.append(f"skipped {len(rep.skipped)} session(s):")
        lines += [f"  {s['session']}: {s['reason']}" for s in rep.skipped]
    if warnings:
        lines.append("")
        lines.append(f"{len(warnings)} warning(s):")
        lines += [f"  {w}" for w in warnings]
    return "\n".join(lines)


def write_plots(path: str | Path, out_dir: str | Path) -> list[Path]:
    """Write ``class_balance.png`` and ``examples.png`` (one window per class) into ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no Qt
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rep = dataset_report(path)
    written = []
    fig, ax = plt.subplots(figsize=(max(5.0, 1.0 + 0.9 * len(rep.classes)), 3.6), dpi=100)
    width = 0.8 / max(1, len(rep.split_names))
    x = np.arange(len(rep.classes))
    for i, name in enumerate(rep.split_names):
        ax.bar(x + (i - (len(rep.split_names) - 1) / 2) * width, rep.counts[i], width, label=name)
    ax.set_xticks(x, rep.classes, rotation=30 if len(rep.classes) > 6 else 0)
    ax.set_ylabel("windows")
    ax.set_title(f"{rep.path.name}: class balance per split")
    if len(rep.split_names) <= 12:
        ax.legend(fontsize=8)
    fig.tight_layout()
    written.append(out_dir / "class_balance.png")
    fig.savefig(written[-1])
    plt.close(fig)
    with Dataset.open(path) as ds:
        stream = next(iter(ds.streams.values()), None)
        label = ds.column("label")
        if stream is not None and len(rep.classes):
            n = len(rep.classes)
            fig, axes = plt.subplots(n, 1, figsize=(7, 1.6 * n + 0.6), dpi=100, squeeze=False)
            for j, c in enumerate(rep.classes):
                ax = axes[j, 0]
                idx = np.flatnonzero(label == j)
                if not len(idx):
                    ax.text(0.5, 0.5, f"{c}: no windows", ha="center", va="center", transform=ax.transAxes)
                    ax.set_axis_off()
                    continue
                w = ds.windows(stream["name"], int(idx[len(idx) // 2]))
                if stream["channels"]:
                    t = np.arange(w.shape[0]) / stream["rate"]
                    for k, ch in enumerate(stream["channels"][:8]):
                        ax.plot(t, w[:, k], lw=0.8, label=ch)
                    ax.set_ylabel(c)
                    if j == 0:
                        ax.legend(fontsize=7, ncol=min(8, len(stream["channels"])), loc="upper right")
                else:
                    frame = w[len(w) // 2]
                    ax.imshow(frame[..., ::-1] if frame.ndim == 3 and frame.shape[-1] == 3 else frame, aspect="auto")
                    ax.set_ylabel(c)
            axes[-1, 0].set_xlabel(f"seconds ({stream['name']}, one window per class)")
            fig.tight_layout()
            written.append(out_dir / "examples.png")
            fig.savefig(written[-1])
            plt.close(fig)
    return written


__all__ = ["DatasetReport", "classes_text", "dataset_report", "empty_split_lines", "format_report", "write_plots"]
