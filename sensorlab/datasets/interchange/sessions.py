"""The one place imported data becomes session files: `SessionWriter` plus a label sidecar.

Imported sessions are ordinary sessions: one signal stream (audio or time series) written
through the session writer's public listener API (as `sensorlab.session.synthetic` does
without devices), and the labels saved as the session's ``.labels.json`` sidecar through the
labeling store, so `sensorlab info`, `sensorlab label` and `sensorlab dataset build` see them
like any recording. Tags (``subject=…``) go into the session metadata, where dataset specs
filter and split on them.

The session clock starts at 0.0 (host seconds): an imported file has no host clock, so
absolute times and times from the start are the same. The metadata holds nothing of the
importing machine or moment (no host name, no current time: the wall-clock start is the
source file's modification time), so importing the same input twice gives the same samples,
labels and metadata (the HDF5 bytes may still differ, so the session hashes a dataset
records can differ between two imports).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.labeling.annotations import AnnotationSet, Segment, Tier
from sensorlab.labeling.store import backup_path, save_annotations, sidecar_path
from sensorlab.session.metadata import SessionMetadata, iso

#: Host time of an imported session's first sample.
T0 = 0.0
#: Samples appended per writer call (bounded memory per call, few HDF5 resizes).
BLOCK = 1 << 16
#: Label values that mean "no label" in a per-sample label column (compared case-insensitively).
DEFAULT_UNLABELED = ("", "unlabeled", "nan", "none", "null")


class InputError(ValueError):
    """A file that cannot be imported; the message is one line naming it and the fix."""


@dataclass
class Recording:
    """One session to write: samples of one stream, labeled spans and tags.

    ``ts`` are seconds from the session start (regular at ``rate`` for clips; as read for a
    table with a time column). ``segments`` are ``(label, start, end, source)`` in the same
    seconds.
    """

    name: str
    ts: np.ndarray
    data: np.ndarray  # (n, channels) float32
    rate: float
    channel_names: tuple[str, ...]
    segments: list[tuple[str, float, float, str]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    mtime: float | None = None  # source file's modification time (the wall-clock start)
    units: tuple[str, ...] = ()


def runs_to_segments(labels: Sequence[str | None], ts: np.ndarray, rate: float, source: str) -> list[tuple[str, float, float, str]]:
    """Segments from runs of equal per-sample labels; ``None`` is unlabeled.

    A run from sample ``i`` to ``j - 1`` becomes ``[ts[i], ts[j])`` (the next sample's time, or
    ``ts[-1] + 1/rate`` at the end), so consecutive runs touch and every labeled sample is
    inside its segment.

    Examples
    --------
    >>> runs_to_segments(["a", "a", None, "b"], np.arange(4.0), 1.0, "x")
    [('a', 0.0, 2.0, 'x'), ('b', 3.0, 4.0, 'x')]
    """
    out: list[tuple[str, float, float, str]] = []
    n = len(labels)
    if n == 0:
        return out
    lab = np.asarray([("\0" if x is None else x) for x in labels], dtype=object)
    change = np.flatnonzero(lab[1:] != lab[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [n]))
    for i, j in zip(starts.tolist(), ends.tolist()):
        if labels[i] is None:
            continue
        t1 = float(ts[j]) if j < n else float(ts[-1]) + 1.0 / rate
        out.append((str(labels[i]), float(ts[i]), t1, source))
    return out


def write_recording(rec: Recording, out_dir: Path, *, stream: str, kind: StreamKind, tier: str, note: str) -> Path:
    """Write ``rec`` as ``out_dir/<name>.h5`` with its labels in the sidecar; return the path.

    Raises
    ------
    FileExistsError
        The session exists (imports never overwrite a session; the caller decides).
    """
    path = out_dir / f"{rec.name}.h5"
    channels = rec.data.shape[1]
    info = StreamInfo(stream, kind, float(rec.rate), channel_names=tuple(rec.channel_names), units=tuple(rec.units),
                      dtype="float32", sample_shape=(channels,), device=note)  # fmt: skip
    meta = _metadata(rec)
    from sensorlab.session.writer import (
        SessionWriter,  # the session layer's public writer
    )

    writer = SessionWriter(path)
    writer.on_start({stream: info}, meta)
    try:
        ts = T0 + np.asarray(rec.ts, dtype=np.float64)
        data = np.asarray(rec.data, dtype=np.float32)
        for i in range(0, len(ts), BLOCK):
            writer.on_chunk(stream, Chunk(data[i : i + BLOCK], ts[i : i + BLOCK]))
        end = float(ts[-1] + 1.0 / rec.rate) if len(ts) else T0
        writer.on_stop(
            {n: {"count": s.count, "first_time": s.first_time, "last_time": s.last_time} for n, s in writer.stores.items()},
            {"end_host_time": end, "duration": end - T0, "complete": True, "stop_reason": "stopped"},
        )
    except BaseException:
        writer.close()
        path.unlink(missing_ok=True)
        raise
    segs = [Segment.create(tier, lab, T0 + a, T0 + b, source=src) for lab, a, b, src in rec.segments]
    save_annotations(AnnotationSet(segs, [Tier(tier, "imported labels")]), sidecar_path(path), keep_backup=False, session=path.name)
    return path


def _metadata(rec: Recording) -> SessionMetadata:
    from sensorlab import __version__
    from sensorlab.session.format import SCHEMA_VERSION

    m = SessionMetadata(name=rec.name, notes=rec.notes, tags=dict(rec.tags), software_version=__version__, schema_version=SCHEMA_VERSION,
                        start_host_time=T0)  # fmt: skip
    if rec.mtime is not None:
        m = m.model_copy(update={"start_time_iso": iso(rec.mtime), "start_time_epoch": float(rec.mtime)})
    return m


def prepare_outputs(out_dir: Path, names: Sequence[str], force: bool) -> None:
    """Create ``out_dir``; refuse (or with ``force`` remove) sessions that would be overwritten."""
    out_dir.mkdir(parents=True, exist_ok=True)
    exist = [n for n in names if (out_dir / f"{n}.h5").exists()]
    if exist and not force:
        more = f" and {len(exist) - 1} more" if len(exist) > 1 else ""
        raise FileExistsError(f"{out_dir / (exist[0] + '.h5')}{more} already exist(s); import into an empty folder or pass --force to replace them")
    for n in exist:
        p = out_dir / f"{n}.h5"
        for q in (p, sidecar_path(p), backup_path(sidecar_path(p)), p.with_name(p.stem + ".pyramid.h5")):
            if q.is_dir():
                shutil.rmtree(q)
            else:
                q.unlink(missing_ok=True)


@dataclass
class ImportResult:
    """What an import did: sessions written, items imported, items skipped with the reason."""

    sessions: list[Path] = field(default_factory=list)
    items: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    segments: int = 0

    def summary(self, what: str = "files") -> str:
        lines = [f"imported {self.items} {what} into {len(self.sessions)} session(s), {self.segments} labeled segment(s)"]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} {what}:")
            lines += [f"  {name}: {reason}" for name, reason in self.skipped[:20]]
            if len(self.skipped) > 20:
                lines.append(f"  … and {len(self.skipped) - 20} more")
        return "\n".join(lines)


__all__ = ["DEFAULT_UNLABELED", "T0", "ImportResult", "InputError", "Recording", "prepare_outputs", "runs_to_segments", "write_recording"]
