"""Export a dataset file, or sessions, to other tools; each export re-imports to the same windows and labels.

Formats (``fmt``):

``ei-json`` / ``ei-csv``
    Edge Impulse samples (`edge_impulse`) plus an ``info.labels`` at the export root.
    A dataset: one sample per window, in ``training/`` (train, val, folds) or ``testing/``
    (test), labeled; split, session and group in each entry's metadata. Sessions: one sample
    per session with its segments as multi-label ranges (CSV: also a ``label`` column).
``wav``
    WAV clips (32-bit float, lossless) plus ``index.csv`` (``file``, ``label``, …). A dataset:
    one clip per window. Sessions: one clip per labeled segment.
``npz``
    NumPy. A dataset: ``x_<stream>`` (N, n, C), ``label`` (index into ``classes``),
    ``split`` (into ``split_names``), ``session`` (into ``session_names``), ``offset``,
    ``start``, ``coverage``, ``flags``, ``rate_<stream>``, ``channels_<stream>``. Sessions:
    the recording layout `tables` imports (``<session>_x``, ``<session>_y`` into
    ``label_names`` with 0 = unlabeled, ``<session>_t``, ``<session>_tags``, ``rate``,
    ``channel_names``).

Round trips (tested in tests/datasets/test_interchange_roundtrip.py): dataset windows
exported as samples or clips, re-imported one session per clip and built with window
length = hop = the exported window length, give the same windows and labels; sessions
exported as npz / CSV / JSON re-import to the same samples and segments (labels on sample
times), so the same spec gives the same windows; WAV clips per segment re-import to the
same labeled samples (the unlabeled time between segments is not exported).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from sensorlab.datasets.interchange.edge_impulse import (
    label_entry,
    sample_json,
    write_info_labels,
    write_sample_csv,
)
from sensorlab.datasets.interchange.pattern import safe_name
from sensorlab.datasets.interchange.sessions import InputError

FORMATS = ("ei-json", "ei-csv", "wav", "npz")


@dataclass
class ExportResult:
    out: Path
    files: int = 0
    items: int = 0  # windows or segments
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return "\n".join([f"wrote {self.files} file(s) ({self.items} labeled window(s)/segment(s)) to {self.out}", *self.notes])


def is_dataset(path: Path) -> bool:
    try:
        with h5py.File(path, "r") as f:
            v = f.attrs.get("schema", "")
            return (v.decode() if isinstance(v, bytes) else v) == "sensorlab.dataset"
    except OSError:
        return False


def _prepare(out: Path, force: bool) -> None:
    if out.exists() and any(out.iterdir()) and not force:
        raise InputError(f"{out} exists and is not empty; export into a new folder or pass --force to add to it")
    out.mkdir(parents=True, exist_ok=True)


def _wav_rate(rate: float) -> int:
    if abs(rate - round(rate)) > 1e-9:
        raise InputError(f"WAV needs a whole-number rate; this stream is {rate:g} Hz (resample it in the dataset spec: streams.rate)")
    return round(rate)


def _write_wav(path: Path, x: np.ndarray, rate: float) -> None:
    from scipy.io import wavfile

    wavfile.write(path, _wav_rate(rate), np.ascontiguousarray(x, dtype=np.float32))


# -- datasets ---------------------------------------------------------------------------------------


def export_dataset(path: str | Path, out: str | Path, fmt: str, *, stream: str | None = None, force: bool = False) -> ExportResult:
    """Export every window of a dataset file (see the module docstring for the layouts)."""
    from sensorlab.datasets.dataset import Dataset

    out = Path(out)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    with Dataset.open(path) as ds:
        streams = ds.streams
        if fmt == "npz":
            _prepare(out.parent if out.suffix == ".npz" else out, True)
            target = out if out.suffix == ".npz" else out / (Path(path).stem + ".npz")
            arrays = {f"x_{n}": ds.windows(n, slice(None)) for n in streams}
            arrays.update({f"rate_{n}": np.float64(s["rate"]) for n, s in streams.items()})
            arrays.update({f"channels_{n}": np.array(s.get("channels") or [], dtype=str) for n, s in streams.items()})
            arrays.update({k: ds.column(k) for k in ("label", "split", "session", "offset", "start", "coverage", "flags")})
            arrays.update(classes=np.array(ds.classes, dtype=str), split_names=np.array(ds.split_names, dtype=str),
                          session_names=np.array([i["name"] for i in ds.inputs], dtype=str), groups=np.array([str(i.get("group", "")) for i in ds.inputs], dtype=str))  # fmt: skip
            np.savez(target, **arrays)
            return ExportResult(target, 1, len(ds))
        if stream is None:
            if len(streams) != 1:
                raise InputError(f"this dataset has streams {', '.join(streams)}; choose one with --stream (one sample or clip holds one stream)")
            stream = next(iter(streams))
        if stream not in streams:
            raise InputError(f"no stream {stream!r} in the dataset (it has {', '.join(streams)})")
        info = streams[stream]
        if info["kind"] not in ("audio", "timeseries"):
            raise InputError(f"stream {stream!r} is {info['kind']}; only audio and time-series windows export to {fmt}")
        _prepare(out, force)
        classes, split_names, inputs = ds.classes, ds.split_names, ds.inputs
        by = ds.split.get("by", "session")
        cols = {k: ds.column(k) for k in ("label", "split", "session", "offset")}
        rate, chans = float(info["rate"]), list(info.get("channels") or [])
        audio = info["kind"] == "audio"
        entries, index = [], []
        n = len(ds)
        for lo in range(0, n, 1024):  # a block of windows at a time: bounded memory on any size
            block = ds.windows(stream, slice(lo, min(n, lo + 1024)))
            for j, x in enumerate(block):
                i = lo + j
                label = classes[int(cols["label"][i])]
                split = split_names[int(cols["split"][i])]
                inp = inputs[int(cols["session"][i])]
                sess = Path(inp["name"]).stem
                meta = {"split": split, "session": sess, "offset": repr(float(cols["offset"][i])), by: str(inp.get("group", ""))}
                category = "testing" if split == "test" else "training"
                stem = f"{safe_name(label)}.{safe_name(sess)}_{i:06d}"
                if fmt == "wav":
                    rel = f"clips/{i:06d}_{safe_name(label)}.wav"
                    (out / "clips").mkdir(exist_ok=True)
                    _write_wav(out / rel, x, rate)
                    index.append({"file": rel, "label": label, **meta})
                    continue
                (out / category).mkdir(exist_ok=True)
                rel = f"{category}/{stem}.{'json' if fmt == 'ei-json' else 'csv'}"
                if fmt == "ei-json":
                    doc = sample_json(x, rate, [(c, "") for c in chans], audio=audio)
                    (out / rel).write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
                else:
                    write_sample_csv(out / rel, x, rate, chans)
                entries.append(label_entry(rel, category, label=label, metadata=meta))
        if fmt == "wav":
            _write_index(out / "index.csv", index)
        else:
            write_info_labels(out, entries)
        res = ExportResult(out, n + 1, n)
        if audio and fmt == "ei-json":
            res.notes.append("audio values are int16 (Edge Impulse's 'wav' units): exact for 16-bit sources, else rounded to 1/32768")
        return res


def _write_index(path: Path, rows: list[dict]) -> None:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


# -- sessions ---------------------------------------------------------------------------------------


def _session_signal(s, stream: str | None) -> str:
    sig = [n for n, r in s.streams.items() if r.info.kind.value in ("audio", "timeseries")]
    if stream is not None:
        if stream not in sig:
            raise InputError(f"no audio or time-series stream {stream!r} (it has {', '.join(sig) or 'none'})")
        return stream
    if len(sig) != 1:
        raise InputError(f"it has streams {', '.join(sig) or '(no audio or time series)'}; choose one with --stream")
    return sig[0]


def _session_tier(ann, tier: str | None) -> str:
    tiers = sorted({seg.tier for seg in ann.segments(suggested=False)})
    if tier is not None:
        return tier
    if len(tiers) != 1:
        raise InputError(f"its labels are on tiers {', '.join(tiers) or '(none)'}; choose one with --tier")
    return tiers[0]


def per_sample_labels(ts: np.ndarray, spans) -> tuple[np.ndarray, list[str]]:
    """Index into the span labels (+1; 0 = unlabeled) of each sample: spans cover ``start <= t < end``."""
    y = np.zeros(len(ts), np.int32)
    names = sorted({sp.label for sp in spans})
    for sp in sorted(spans, key=lambda s: (s.start, s.end)):
        if sp.end > sp.start:
            a, b = np.searchsorted(ts, [sp.start, sp.end], "left")
            y[a:b] = names.index(sp.label) + 1
    return y, names


def export_sessions(paths: list[str | Path], out: str | Path, fmt: str, *, stream: str | None = None, tier: str | None = None,
                    force: bool = False) -> ExportResult:  # fmt: skip
    """Export sessions (whole streams with their labels; see the module docstring)."""
    from sensorlab.datasets.sources import open_session, read_annotations, tier_spans

    out = Path(out)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    _prepare(out, force)
    res = ExportResult(out)
    entries, index, npz = [], [], {}
    common: dict[str, object] = {}
    for p in map(Path, paths):
        try:
            with open_session(p) as s:
                name = _session_signal(s, stream)
                chunk = s.streams[name].read()
                info = s.streams[name].info
                tags = dict(s.metadata.tags)
        except (OSError, RuntimeError, ValueError, KeyError) as e:
            raise InputError(f"{p.name}: {e}") from None
        ann = read_annotations(p)
        spans = tier_spans(ann, _session_tier(ann, tier))
        ts = np.asarray(chunk.timestamps, np.float64)
        x = np.asarray(chunk.data, np.float32).reshape(len(ts), -1)
        if len(ts) == 0:
            res.notes.append(f"{p.name}: stream {name!r} is empty; skipped")
            continue
        rel_t = ts - ts[0]
        rate = float(info.nominal_rate)
        chans = list(info.channel_names) or [f"ch{i}" for i in range(x.shape[1])]
        stem = safe_name(p.stem)
        rel_spans = [(sp.label, sp.start - ts[0], sp.end - ts[0]) for sp in spans if sp.end > sp.start]
        res.items += len(rel_spans)
        if fmt == "wav":
            (out / "clips").mkdir(exist_ok=True)
            for k, sp in enumerate(sp for sp in spans if sp.end > sp.start):
                a, b = np.searchsorted(ts, [sp.start, sp.end], "left")
                if b <= a:
                    continue
                rel = f"clips/{stem}_{k:04d}_{safe_name(sp.label)}.wav"
                _write_wav(out / rel, x[a:b], rate)
                index.append({"file": rel, "label": sp.label, "session": stem, "start": repr(float(ts[a] - ts[0])), "end": repr(float(ts[b - 1] - ts[0] + 1 / rate)), **tags})
                res.files += 1
            continue
        y, names = per_sample_labels(ts, spans)
        if fmt == "npz":
            for key, val in (("rate", rate), ("channel_names", chans)):
                if common.setdefault(key, val) != val:
                    raise InputError(f"{p.name}: {key} {val} differs from the other sessions' {common[key]}; export them separately")
            all_names = common.setdefault("label_names", ["UNLABELED"])
            for nm in names:
                if nm not in all_names:
                    all_names.append(nm)
            remap = np.array([0] + [all_names.index(nm) for nm in names], np.int16)
            npz.update({f"{stem}_x": x, f"{stem}_y": remap[y], f"{stem}_t": rel_t, f"{stem}_tags": np.array(json.dumps(tags))})
            continue
        audio = info.kind.value == "audio"
        rel = f"{stem}.{'json' if fmt == 'ei-json' else 'csv'}"
        if fmt == "ei-json":
            (out / rel).write_text(json.dumps(sample_json(x, rate, [(c, "") for c in chans], audio=audio), separators=(",", ":")), encoding="utf-8")
        else:
            labels = [names[v - 1] if v else "" for v in y.tolist()]
            write_sample_csv(out / rel, x, rate, chans, labels)
        entries.append(label_entry(rel, "training", ranges=rel_spans, metadata=tags))
        res.files += 1
    if fmt == "npz":
        target = out / "sessions.npz"
        np.savez(target, rate=np.float64(common.get("rate", 0.0)), channel_names=np.array(common.get("channel_names", []), dtype=str),
                 label_names=np.array(common.get("label_names", ["UNLABELED"]), dtype=str), **npz)  # fmt: skip
        res.files = 1
    elif fmt == "wav":
        _write_index(out / "index.csv", index)
        res.files += 1
    else:
        write_info_labels(out, entries)
        res.files += 1
    return res


def export(inputs: list[str | Path], out: str | Path, fmt: str, *, stream: str | None = None, tier: str | None = None, force: bool = False) -> ExportResult:
    """Export one dataset file, or one or more sessions (told apart by their schema)."""
    paths = [Path(p) for p in inputs]
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: no such file")
    kinds = [is_dataset(p) for p in paths]
    if any(kinds):
        if len(paths) != 1:
            raise InputError("export one dataset file at a time (or only session files)")
        return export_dataset(paths[0], out, fmt, stream=stream, force=force)
    return export_sessions(paths, out, fmt, stream=stream, tier=tier, force=force)


def load_dataset_npz(path: str | Path) -> dict[str, np.ndarray]:
    """A dataset exported as ``.npz``, as a dict of arrays (plain `numpy.load`, no pickle)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


__all__ = ["FORMATS", "ExportResult", "export", "export_dataset", "export_sessions", "is_dataset", "load_dataset_npz", "per_sample_labels"]
