"""CSV / NPZ sensor recordings with a per-sample label column → sessions.

Each file (or each recording inside an NPZ, or each subject inside a CSV with a subject
column) becomes one session; runs of equal labels become segments
(`sessions.runs_to_segments`), values such as ``""`` or ``UNLABELED`` are unlabeled time.

CSV: a header row; a label column (``label``); an optional time column (``time``,
``timestamp`` or ``t``; unit from ``--time-unit`` or the name's ``_ms``/``_us`` suffix);
an optional subject column; every other numeric column is a channel (or the ``columns``
given). The rate is given, or inferred from the time column's median step.

NPZ, one recording: arrays ``x`` (T, C), ``y`` (T,), optional ``t`` (T,) seconds. Several
recordings: ``<name>_x``, ``<name>_y`` (``<name>_t``) per recording. Shared, optional:
``label_names`` (integer labels index it), ``channel_names``, ``rate`` (Hz), and per
recording ``<name>_tags`` (a JSON object, e.g. ``{"subject": "01"}``). A name pattern
(``u{subject}_e{experiment}_r{take}``) turns recording names into tags.
"""

from __future__ import annotations

import csv
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from sensorlab.acquisition.source import StreamKind
from sensorlab.datasets.interchange.clips import write_recordings
from sensorlab.datasets.interchange.pattern import NamePattern, natural_key, safe_name
from sensorlab.datasets.interchange.sessions import (
    DEFAULT_UNLABELED,
    ImportResult,
    InputError,
    Recording,
    runs_to_segments,
)

_TIME_NAMES = ("time", "timestamp", "t", "time_s", "time_ms", "time_us", "timestamp_ms")
_UNIT = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def infer_rate(ts: np.ndarray) -> float:
    """Samples per second from timestamps (median step), snapped to 1e-6 relative of an integer."""
    d = np.diff(np.asarray(ts, dtype=np.float64))
    d = d[d > 0]
    if len(d) == 0:
        raise InputError("cannot infer the rate from the time column (fewer than two increasing times); pass --rate")
    rate = 1.0 / float(np.median(d))
    r = round(rate)
    return float(r) if r and abs(rate / r - 1) < 1e-6 else rate


def _labels_of(values, names: list[str] | None, unlabeled: set[str]) -> list[str | None]:
    out: list[str | None] = []
    for v in values:
        if names is not None:
            s = names[int(v)] if 0 <= int(v) < len(names) else str(v)
        else:
            s = str(v.item() if hasattr(v, "item") else v)
            if s.endswith(".0") and s[:-2].lstrip("-").isdigit():  # float column of integer labels
                s = s[:-2]
        out.append(None if s.strip().lower() in unlabeled else s)
    return out


def _recording(name, ts, x, rate, labels, channels, tags, source, mtime, unlabeled) -> Recording:
    if rate is None:
        if ts is None:
            raise InputError("no time column and no rate: pass --rate HZ (or add a time column)")
        rate = infer_rate(ts)
    if ts is None:
        ts = np.arange(len(x)) / rate
    else:
        ts = np.asarray(ts, dtype=np.float64) - float(ts[0])
        if np.any(np.diff(ts) <= 0):
            i = int(np.flatnonzero(np.diff(ts) <= 0)[0]) + 1
            raise InputError(f"times do not increase at row {i + 1}; sort the rows by time or drop the time column and pass --rate")
    segs = runs_to_segments(labels, ts, rate, f"import:{source}")
    return Recording(safe_name(name), ts, np.asarray(x, np.float32).reshape(len(x), -1), float(rate), tuple(channels), segs, tags,
                     f"imported from {source}", mtime)  # fmt: skip


def csv_recordings(path: Path, *, label_column: str, time_column: str | None, time_unit: str | None, subject_column: str | None,
                   columns: list[str] | None, rate: float | None, pattern: NamePattern | None, unlabeled: set[str]) -> list[Recording]:  # fmt: skip
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader, [])]
            rows = [r for r in reader if r]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"cannot read it as CSV ({' '.join(str(e).split())})") from None
    if label_column not in header:
        raise InputError(f"no label column {label_column!r} (columns: {', '.join(header)}); name it with --label-column")
    if time_column is None:
        time_column = next((h for h in header if h.lower() in _TIME_NAMES), None)
    elif time_column not in header:
        raise InputError(f"no time column {time_column!r} (columns: {', '.join(header)})")
    if subject_column is not None and subject_column not in header:
        raise InputError(f"no subject column {subject_column!r} (columns: {', '.join(header)})")
    bad = [i for i, r in enumerate(rows) if len(r) != len(header)]
    if bad:
        raise InputError(f"row {bad[0] + 2} has {len(rows[bad[0]])} values, the header {len(header)}")
    cols = {h: [r[i] for r in rows] for i, h in enumerate(header)}
    skip = {label_column, time_column, subject_column}
    chans = columns or [h for h in header if h not in skip]
    missing = [c for c in chans if c not in header]
    if missing:
        raise InputError(f"no column {missing[0]!r} (columns: {', '.join(header)})")
    try:
        x = np.array([[float(v) for v in cols[c]] for c in chans], dtype=np.float64).T.reshape(len(rows), len(chans))
    except ValueError as e:
        raise InputError(f"a channel column holds a non-number ({e}); list the channels with --columns") from None
    ts = None
    if time_column:
        unit = time_unit or ("ms" if time_column.lower().endswith("_ms") else "us" if time_column.lower().endswith("_us") else "s")
        try:
            ts = np.array([float(v) for v in cols[time_column]]) * _UNIT[unit]
        except ValueError as e:
            raise InputError(f"time column {time_column!r} holds a non-number ({e})") from None
    labels = _labels_of(cols[label_column], None, unlabeled)
    tags = dict(pattern.match(path.name) or {}) if pattern else {}
    base = path.stem
    if subject_column is None:
        return [_recording(base, ts, x, rate, labels, chans, tags, path.name, os.stat(path).st_mtime, unlabeled)]
    subj = np.array(cols[subject_column], dtype=object)
    out = []
    for s in sorted(set(subj.tolist()), key=natural_key):
        m = subj == s
        out.append(_recording(f"{base}-{s}", None if ts is None else ts[m], x[m], rate, [lab for lab, k in zip(labels, m) if k], chans,
                              {**tags, "subject": str(s)}, path.name, os.stat(path).st_mtime, unlabeled))  # fmt: skip
    return out


def npz_recordings(path: Path, *, rate: float | None, pattern: NamePattern | None, unlabeled: set[str]) -> list[Recording]:
    try:
        z = np.load(path, allow_pickle=False)
        keys = set(z.files)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"not a readable .npz file ({' '.join(str(e).split())})") from None
    with z:
        names = [str(v) for v in z["label_names"]] if "label_names" in keys else None
        r = float(z["rate"]) if "rate" in keys and rate is None else rate
        if "x" in keys and "y" in keys:
            recs = [""]
        else:
            recs = sorted((k[:-2] for k in keys if k.endswith("_x") and k[:-2] + "_y" in keys), key=natural_key)
        if not recs:
            raise InputError(f"no recordings: expected arrays 'x' and 'y', or '<name>_x' and '<name>_y' (it has {', '.join(sorted(keys)[:8])})")
        out = []
        for rec in recs:
            k = (lambda s: s) if rec == "" else (lambda s, rec=rec: f"{rec}_{s}")
            x = np.asarray(z[k("x")])
            y = np.asarray(z[k("y")])
            if x.ndim == 1:
                x = x[:, None]
            if len(x) != len(y):
                raise InputError(f"recording {rec or path.stem!r}: {len(x)} samples but {len(y)} labels")
            chans = [str(c) for c in z["channel_names"]] if "channel_names" in keys else [f"ch{i}" for i in range(x.shape[1])]
            if len(chans) != x.shape[1]:
                raise InputError(f"channel_names lists {len(chans)} names for {x.shape[1]} channels")
            tags = {}
            if k("tags") in keys:
                tags = {str(a): str(b) for a, b in json.loads(str(z[k("tags")])).items()}
            if pattern is not None and rec:
                tags.update(pattern.match(rec) or {})
            ts = np.asarray(z[k("t")], np.float64) if k("t") in keys else None
            if names is not None and y.dtype.kind not in "iu":
                raise InputError(f"label_names is given, so labels must be integers (recording {rec!r} has {y.dtype})")
            labels = _labels_of(y, names, unlabeled)
            out.append(_recording(rec or path.stem, ts, x, r, labels, chans, tags, f"{path.name}:{rec}" if rec else path.name,
                                  os.stat(path).st_mtime, unlabeled))  # fmt: skip
        return out


def import_tables(paths: list[str | Path], out_dir: str | Path, *, label_column: str = "label", time_column: str | None = None,
                  time_unit: str | None = None, subject_column: str | None = None, columns: list[str] | None = None,
                  rate: float | None = None, pattern: str | None = None, unlabeled: list[str] | None = None, stream: str = "signal",
                  kind: str = "timeseries", tier: str = "label", force: bool = False, progress=None) -> ImportResult:  # fmt: skip
    """Import CSV and NPZ recordings (files or folders of them) as sessions; see the module docstring.

    A file that cannot be read is named and skipped; the others are imported.

    Examples
    --------
    >>> import_tables(["hapt.npz"], "hapt-sessions/", pattern="u{subject}_e{experiment}_r{take}").summary("recordings")  # doctest: +SKIP
    """
    if time_unit is not None and time_unit not in _UNIT:
        raise InputError(f"--time-unit must be one of s, ms, us (got {time_unit!r})")
    if rate is not None and not rate > 0:
        raise InputError(f"--rate must be > 0 (got {rate:g})")
    pat = NamePattern.compile(pattern) if pattern else None
    unl = {u.strip().lower() for u in (unlabeled if unlabeled is not None else DEFAULT_UNLABELED)}
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted((q for q in p.iterdir() if q.suffix.lower() in (".csv", ".npz")), key=lambda q: natural_key(q.name))
        elif p.exists():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    result = ImportResult()
    recs: list[Recording] = []
    for f in files:
        try:
            if f.suffix.lower() == ".npz":
                got = npz_recordings(f, rate=rate, pattern=pat, unlabeled=unl)
            elif f.suffix.lower() == ".csv":
                got = csv_recordings(f, label_column=label_column, time_column=time_column, time_unit=time_unit, subject_column=subject_column,
                                     columns=columns, rate=rate, pattern=pat, unlabeled=unl)  # fmt: skip
            else:
                raise InputError("not a .csv or .npz file")
        except InputError as e:
            result.skipped.append((f.name, str(e)))
            continue
        recs += got
        result.items += len(got)
    if not recs:
        why = f" ({result.skipped[0][0]}: {result.skipped[0][1]})" if result.skipped else ""
        raise InputError(f"no recordings to import{why}")
    k = StreamKind(kind)
    return write_recordings(recs, Path(out_dir), stream=stream, kind=k, tier=tier, note="imported table", force=force, result=result, progress=progress)


__all__ = ["csv_recordings", "import_tables", "infer_rate", "npz_recordings"]
