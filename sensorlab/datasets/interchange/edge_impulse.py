"""Edge Impulse files: data-acquisition JSON, CSV samples, and ``info.labels``.

What Edge Impulse documents (docs.edgeimpulse.com, "Data acquisition format", "CSV" and
"Edge Impulse labels / info.labels"), and how sensorlab writes it:

- **JSON sample**: ``{"protected": {"ver": "v1", "alg": "none"}, "signature": <64 zeros>,
  "payload": {"device_type", "interval_ms", "sensors": [{"name", "units"}], "values"}}``.
  ``values`` is one row per sample (``[[ax, ay, az], …]``); audio is one int16 value per
  sample with ``units = "wav"``. Files are unsigned (``alg = "none"``); the Edge Impulse
  uploader accepts them and does not re-sign them.
- **CSV sample**: first column ``timestamp`` in milliseconds, then one column per channel;
  sensorlab adds a ``label`` column per row (the CSV wizard can use it).
- **info.labels** (JSON, at the export root): ``{"version": 1, "files": [{"path", "name",
  "category": "training"|"testing", "label": {"type": "label", "label": …} or {"type":
  "multi-label", "labels": [{"label", "startIndex", "endIndex"}]}, "metadata": {…}}]}``;
  ``startIndex``/``endIndex`` are milliseconds from the start of the sample.

Reading accepts what the writer writes, and a sample without an ``info.labels`` entry gets
its label from the file name before the first dot, as the Edge Impulse uploader does.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np

from sensorlab.acquisition.source import StreamKind
from sensorlab.datasets.interchange.clips import Clip, group_clips, write_recordings
from sensorlab.datasets.interchange.sessions import ImportResult, InputError
from sensorlab.datasets.interchange.tables import infer_rate

UNSIGNED = "0" * 64
INFO_LABELS = "info.labels"


def _num(v: float) -> float | int:
    """Milliseconds as an int when whole (Edge Impulse's own files use integers)."""
    v = round(float(v), 6)
    return int(v) if v == int(v) else v


def sample_json(values: np.ndarray, rate: float, sensors: list[tuple[str, str]], device_type: str = "sensorlab", audio: bool = False) -> dict:
    """One data-acquisition document for ``values`` ``(n, channels)`` sampled at ``rate``."""
    if audio:
        if values.shape[1] != 1:
            raise InputError(f"Edge Impulse audio samples are mono; this stream has {values.shape[1]} channels (export one with --channel)")
        vals = np.clip(np.rint(values[:, 0].astype(np.float64) * 32768.0), -32768, 32767).astype(np.int64).tolist()
        sensors = [("audio", "wav")]
    else:
        vals = values.astype(np.float64).tolist()  # float32 → float64 is exact, so reading back is exact
    return {"protected": {"ver": "v1", "alg": "none"}, "signature": UNSIGNED,
            "payload": {"device_type": device_type, "interval_ms": 1000.0 / rate, "sensors": [{"name": n, "units": u} for n, u in sensors],
                        "values": vals}}  # fmt: skip


def write_sample_csv(path: Path, values: np.ndarray, rate: float, names: list[str], labels: list[str] | None = None) -> None:
    """An Edge Impulse CSV sample: ``timestamp`` (ms), the channels, and optionally ``label``."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", *names, *(["label"] if labels is not None else [])])
        for i, row in enumerate(values.astype(np.float64).tolist()):
            w.writerow([_num(i * 1000.0 / rate), *(repr(v) for v in row), *([labels[i]] if labels is not None else [])])


def write_info_labels(root: Path, files: list[dict]) -> Path:
    p = root / INFO_LABELS
    p.write_text(json.dumps({"version": 1, "files": files}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return p


def label_entry(path: str, category: str, label: str | None = None, ranges: list[tuple[str, float, float]] | None = None, metadata: dict | None = None) -> dict:
    """One ``info.labels`` entry: a single label, or labeled ranges (seconds, written as ms)."""
    if ranges is not None:
        lab = {"type": "multi-label", "labels": [{"label": n, "startIndex": _num(a * 1000), "endIndex": _num(b * 1000)} for n, a, b in ranges]}
    else:
        lab = {"type": "label", "label": label} if label is not None else {"type": "unlabeled"}
    return {"path": path, "name": Path(path).stem, "category": category, "label": lab, "metadata": {k: str(v) for k, v in (metadata or {}).items()}}


def read_sample(path: Path) -> tuple[np.ndarray, float, list[str], list[str], list[str] | None]:
    """An Edge Impulse JSON or CSV sample → ``(values (n, C) float32, rate, names, units, per-row labels or None)``."""
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            p = doc["payload"]
            sensors = p["sensors"]
            vals = np.asarray(p["values"], dtype=np.float64)
            rate = 1000.0 / float(p["interval_ms"])
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
            raise InputError(f"not an Edge Impulse data-acquisition JSON file ({' '.join(str(e).split())})") from None
        names = [s.get("name", f"ch{i}") for i, s in enumerate(sensors)]
        units = [s.get("units", "") for i, s in enumerate(sensors)]
        if vals.ndim == 1:
            vals = vals[:, None]
        if units == ["wav"]:
            vals = vals / 32768.0
        if vals.shape[1] != len(names):
            raise InputError(f"{vals.shape[1]} values per sample but {len(names)} sensors")
        r = round(rate)
        return vals.astype(np.float32), float(r) if r and abs(rate / r - 1) < 1e-9 else rate, names, units, None
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"cannot read it as CSV ({e})") from None
    if not rows or not rows[0] or rows[0][0].strip().lower() not in ("timestamp", "time"):
        raise InputError("an Edge Impulse CSV sample starts with a 'timestamp' column (milliseconds)")
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if r]
    li = header.index("label") if "label" in header else None
    chans = [i for i in range(1, len(header)) if i != li]
    try:
        ts = np.array([float(r[0]) for r in body]) / 1000.0
        vals = np.array([[float(r[i]) for i in chans] for r in body], dtype=np.float64).reshape(len(body), len(chans))
    except (ValueError, IndexError) as e:
        raise InputError(f"a value is not a number ({e})") from None
    labels = [r[li] for r in body] if li is not None else None
    return vals.astype(np.float32), infer_rate(ts), [header[i] for i in chans], [""] * len(chans), labels


def _entries(folder: Path) -> dict[str, dict]:
    """``info.labels`` entries of a folder and its ``training``/``testing`` subfolders, by path."""
    out: dict[str, dict] = {}
    for base in (folder, folder / "training", folder / "testing"):
        p = base / INFO_LABELS
        if not p.exists():
            continue
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise InputError(f"{p}: not valid JSON ({e})") from None
        for e in doc.get("files", []):
            out[str((base / e["path"]).resolve())] = e
    return out


def edge_impulse_clips(folder: Path, result: ImportResult) -> list[Clip]:
    """Samples of an Edge Impulse export folder (``.json``/``.csv``, with ``info.labels`` if any) as clips."""
    from sensorlab.datasets.interchange.pattern import natural_key
    from sensorlab.datasets.interchange.sessions import runs_to_segments

    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    entries = _entries(folder)
    files = sorted((p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".json", ".csv")), key=lambda p: natural_key(str(p.relative_to(folder))))
    clips = []
    for p in files:
        e = entries.get(str(p.resolve()))
        try:
            vals, rate, names, units, row_labels = read_sample(p)
        except InputError as err:
            result.skipped.append((str(p.relative_to(folder)), str(err)))
            continue
        fields = {k: str(v) for k, v in (e or {}).get("metadata", {}).items()}
        if e is not None:
            fields["category"] = e.get("category", "")
        lab = (e or {}).get("label") or {}
        segments = None
        if lab.get("type") == "multi-label":
            segments = [(x["label"], float(x["startIndex"]) / 1000.0, float(x["endIndex"]) / 1000.0) for x in lab.get("labels", [])]
            fields["label"] = ""
        elif lab.get("type") == "label":
            fields["label"] = str(lab["label"])
        elif row_labels is not None:
            segments = [(a, b, c) for a, b, c, _ in runs_to_segments([x or None for x in row_labels], np.arange(len(vals)) / rate, rate, "")]
            fields["label"] = ""
        else:
            fields["label"] = p.name.split(".")[0]  # the uploader's rule: the name before the first dot
        units_t = tuple("" if u == "wav" else u for u in units)
        clips.append(Clip(str(p.relative_to(folder)), vals, rate, fields, tuple("audio" if u == "wav" else n for n, u in zip(names, units)),
                          segments, os.stat(p).st_mtime, units_t))  # fmt: skip
    return clips


def import_edge_impulse(folder: str | Path, out_dir: str | Path, *, session_per: str | None = None, gap: float = 0.5, stream: str | None = None,
                        tier: str = "label", force: bool = False, progress=None) -> ImportResult:  # fmt: skip
    """Import an Edge Impulse export (JSON / CSV samples, ``info.labels``) as sessions.

    Samples are grouped like WAV clips (`clips.group_clips`): one session per value of
    ``session_per`` (a metadata key such as ``subject``), or per sample (``"clip"``, the
    default when samples carry no ``subject``).
    """
    result = ImportResult()
    folder = Path(folder)
    clips = edge_impulse_clips(folder, result)
    if not clips:
        why = f" ({result.skipped[0][0]}: {result.skipped[0][1]})" if result.skipped else ""
        raise InputError(f"{folder}: no Edge Impulse samples to import{why}")
    per = session_per or ("subject" if all("subject" in c.fields for c in clips) else "clip")
    audio = all(c.channel_names == ("audio",) for c in clips)
    recs = group_clips(clips, per, gap, result)
    return write_recordings(recs, Path(out_dir), stream=stream or ("audio" if audio else "signal"), kind=StreamKind.AUDIO if audio else StreamKind.TIMESERIES,
                            tier=tier, note=f"imported Edge Impulse samples ({folder.name})", force=force, result=result, progress=progress)  # fmt: skip


__all__ = ["INFO_LABELS", "edge_impulse_clips", "import_edge_impulse", "label_entry", "read_sample", "sample_json", "write_info_labels", "write_sample_csv"]
