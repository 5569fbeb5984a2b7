"""Folders of labeled clips (WAV files, Edge Impulse samples) → sessions.

Where the label comes from: a file-name pattern (``{label}_{subject}_{take}.wav``) or an
index CSV (columns ``file``, ``label`` and any others, e.g. ``subject``). Every field other
than the label becomes a session tag when all clips of the session share it.

**One session per subject, not per clip (the default).** The clips of one subject are laid
end to end on one session clock, in natural file-name order, with ``gap`` seconds of
digital silence (zeros) between them; each clip's span is one labeled segment, so windows
never take their label from the padding unless a spec asks for a background class. Why:

- thousands of tiny files cost a session header, a sidecar and an open each (FSDD: 2,500
  clips → 5 sessions instead of 2,500);
- clips shorter than a window still give windows (the window covers the clip plus silence;
  ``labels.min_coverage`` decides how much digit a window needs), the way keyword-spotting
  sets pad short clips;
- a subject's clips show on one labeling timeline.

Splitting by subject works either way: every session carries its ``subject`` tag.
``session_per="clip"`` writes one session per clip instead (a dataset window then lies within
one clip, which is what re-importing exported windows needs).
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sensorlab.acquisition.source import StreamKind
from sensorlab.datasets.interchange.pattern import NamePattern, natural_key, safe_name
from sensorlab.datasets.interchange.sessions import (
    ImportResult,
    InputError,
    Recording,
    prepare_outputs,
    write_recording,
)


@dataclass
class Clip:
    """One labeled clip: samples ``(n, channels)`` float32 at ``rate``, and its fields.

    ``segments`` (``(label, start, end)`` seconds within the clip) override the single
    ``fields["label"]`` covering the whole clip (Edge Impulse multi-label samples).
    """

    source: str
    data: np.ndarray
    rate: float
    fields: dict[str, str]
    channel_names: tuple[str, ...] = ()
    segments: list[tuple[str, float, float]] | None = None
    mtime: float | None = None
    units: tuple[str, ...] = ()


def read_wav(path: Path) -> tuple[np.ndarray, float]:
    """A WAV file as ``(n, channels)`` float32 in [-1, 1] and its rate; `InputError` if unreadable.

    Integer PCM is scaled by its full range (int16 / 32768, …) so int16 sources round-trip exactly.
    """
    from scipy.io import wavfile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown chunks (LIST, …) are fine
            rate, x = wavfile.read(path)
    except (ValueError, OSError, EOFError, IndexError, TypeError) as e:
        raise InputError(f"not a readable WAV file ({' '.join(str(e).split())}); re-save it as PCM or float WAV") from None
    x = np.asarray(x)
    if x.dtype == np.uint8:
        y = (x.astype(np.float32) - 128.0) / 128.0
    elif x.dtype.kind == "i":
        y = x.astype(np.float32) / float(2 ** (8 * x.dtype.itemsize - 1))
    elif x.dtype.kind == "f":
        y = x.astype(np.float32)
    else:
        raise InputError(f"WAV samples of type {x.dtype} are not supported; re-save it as 16-bit PCM or float")
    if len(y) == 0:
        raise InputError("the WAV file holds no samples")
    return (y.reshape(len(y), -1), float(rate))


def read_index(path: Path) -> dict[str, dict[str, str]]:
    """An index CSV (``file``, ``label``, other columns) → file name → fields."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{path}: cannot read the index ({e})") from None
    if not rows or not {"file", "label"} <= set(rows[0]):
        raise InputError(f"{path}: an index needs the columns 'file' and 'label' (it has {', '.join(rows[0]) if rows else 'no rows'})")
    return {Path(r["file"]).name: {k: v for k, v in r.items() if k != "file" and k is not None and v is not None} for r in rows}


def wav_clips(folder: Path, pattern: str | None, index: Path | None, result: ImportResult) -> list[Clip]:
    """The WAV clips of ``folder`` (not recursive) with their fields; bad files go to ``result.skipped``."""
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    if (pattern is None) == (index is None):
        raise InputError("say where labels come from: --pattern '{label}_{subject}_{take}.wav' or --index index.csv")
    pat = NamePattern.compile(pattern) if pattern else None
    if pat is not None and "label" not in pat.fields:
        raise InputError(f"pattern {pattern!r} has no {{label}} field")
    table = read_index(index) if index else {}
    clips: list[Clip] = []
    for p in sorted(folder.iterdir(), key=lambda q: natural_key(q.name)):
        if not p.is_file() or p.suffix.lower() != ".wav":
            continue
        if pat is not None:
            fields = pat.match(p.name)
            if fields is None:
                result.skipped.append((p.name, f"does not match the pattern {pattern!r}"))
                continue
        else:
            fields = table.get(p.name)
            if fields is None:
                result.skipped.append((p.name, f"not listed in {index.name}"))
                continue
        try:
            data, rate = read_wav(p)
        except InputError as e:
            result.skipped.append((p.name, str(e)))
            continue
        clips.append(Clip(p.name, data, rate, fields, tuple(f"ch{i}" for i in range(data.shape[1])), mtime=os.stat(p).st_mtime))
    return clips


def group_clips(clips: Iterable[Clip], session_per: str, gap: float, result: ImportResult, prefix: str = "") -> list[Recording]:
    """Lay clips into recordings: one per clip, or one per value of the field ``session_per``.

    Clips that do not fit their session (another rate or channel count than its first clip,
    or no value for ``session_per``) are skipped with the reason.
    """
    groups: dict[str, list[Clip]] = {}
    for c in clips:
        if session_per == "clip":
            key = Path(c.source).stem
        elif session_per in c.fields and c.fields[session_per] != "":
            key = c.fields[session_per]
        else:
            result.skipped.append((c.source, f"no {session_per!r} field to group sessions by (use --session-per clip, or a field of the pattern)"))
            continue
        groups.setdefault(key, []).append(c)
    recs = []
    for key, members in groups.items():
        first = members[0]
        ok = []
        for c in members:
            if c.rate != first.rate or c.data.shape[1] != first.data.shape[1]:
                why = (f"{c.rate:g} Hz × {c.data.shape[1]} channel(s), but {first.source} in the same session is "
                       f"{first.rate:g} Hz × {first.data.shape[1]}; convert it, or import it separately")  # fmt: skip
                result.skipped.append((c.source, why))
                continue
            ok.append(c)
        recs.append(_lay_out(key if session_per == "clip" else f"{session_per}-{key}", ok, gap, prefix, session_per))
        result.items += len(ok)
    return recs


def _lay_out(key: str, clips: list[Clip], gap: float, prefix: str, session_per: str) -> Recording:
    rate = clips[0].rate
    pad = round(gap * rate)
    parts, segs, pos = [], [], 0
    for i, c in enumerate(clips):
        if i and pad:
            parts.append(np.zeros((pad, c.data.shape[1]), np.float32))
            pos += pad
        t0 = pos / rate
        if c.segments is None:
            segs.append((c.fields["label"], t0, (pos + len(c.data)) / rate, f"import:{c.source}"))
        else:
            segs += [(lab, t0 + a, t0 + b, f"import:{c.source}") for lab, a, b in c.segments]
        parts.append(c.data)
        pos += len(c.data)
    data = np.concatenate(parts) if len(parts) > 1 else parts[0]
    # Tags: the fields every clip of the session shares (subject=…), never the label.
    shared = {k: v for k, v in clips[0].fields.items() if k != "label" and all(c.fields.get(k) == v for c in clips)}
    notes = f"imported from {len(clips)} clip(s)" + (f", {gap:g} s of silence between clips" if len(clips) > 1 and gap else "")
    mtimes = [c.mtime for c in clips if c.mtime is not None]
    return Recording(safe_name(prefix + key), np.arange(len(data)) / rate, data, rate, clips[0].channel_names or tuple(f"ch{i}" for i in range(data.shape[1])),
                     segs, shared, notes, min(mtimes) if mtimes else None, clips[0].units)  # fmt: skip


def write_recordings(recs: list[Recording], out_dir: Path, *, stream: str, kind: StreamKind, tier: str, note: str, force: bool,
                     result: ImportResult, progress=None) -> ImportResult:  # fmt: skip
    """Write every recording as a session (see `sessions.write_recording`)."""
    recs = [r for r in recs if len(r.data)]
    names = [r.name for r in recs]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"two sessions would both be named {dup[0]!r}; choose --session-per so names differ")
    prepare_outputs(out_dir, names, force)
    for r in recs:
        result.sessions.append(write_recording(r, out_dir, stream=stream, kind=kind, tier=tier, note=note))
        result.segments += len(r.segments)
        if progress is not None:
            progress(r.name)
    return result


def import_wav_folder(folder: str | Path, out_dir: str | Path, *, pattern: str | None = None, index: str | Path | None = None,
                      session_per: str | None = None, gap: float = 0.5, stream: str = "audio", tier: str = "label",
                      force: bool = False, progress=None) -> ImportResult:  # fmt: skip
    """Import a folder of labeled WAV clips as sessions (see the module docstring).

    Parameters
    ----------
    pattern, index
        Where labels (and subjects) come from: a file-name pattern, or an index CSV.
    session_per
        ``"clip"``, or a field name; default ``"subject"`` when clips have one, else ``"clip"``.
    gap
        Seconds of silence between clips of one session.

    Examples
    --------
    >>> import_wav_folder("fsdd/", "sessions/", pattern="{label}_{subject}_{take}.wav").summary()  # doctest: +SKIP
    'imported 2500 files into 5 session(s), 2500 labeled segment(s)'
    """
    if gap < 0:
        raise InputError(f"--gap must be >= 0 (got {gap:g})")
    result = ImportResult()
    folder = Path(folder)
    clips = wav_clips(folder, pattern, Path(index) if index else None, result)
    if not clips:
        why = f" ({result.skipped[0][0]}: {result.skipped[0][1]})" if result.skipped else ""
        raise InputError(f"{folder}: no WAV clips to import{why}")
    per = session_per or ("subject" if all("subject" in c.fields for c in clips) else "clip")
    recs = group_clips(clips, per, gap, result)
    return write_recordings(recs, Path(out_dir), stream=stream, kind=StreamKind.AUDIO, tier=tier, note=f"imported WAV clips ({folder.name})",
                            force=force, result=result, progress=progress)  # fmt: skip


__all__ = ["Clip", "group_clips", "import_wav_folder", "read_index", "read_wav", "wav_clips", "write_recordings"]
