"""The per-session unit of work: one session in, its labeled windows out (a picklable function).

`process_session` runs unchanged in this process, in a ``spawn`` worker process, or on a Dask
worker: it takes a `SessionTask` (plain data) and returns a `SessionResult` (numpy arrays),
touching nothing but the session file it reads. It reads the session in groups of nearby
windows (`GROUP_SECONDS` of windows plus the filter's margins), so memory is bounded by one
group of input and the session's output windows, never the whole stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sensorlab.datasets.resample import gap_threshold, rational_ratio, resample_margin
from sensorlab.datasets.sources import SIGNAL_KINDS, file_sha256, one_line, open_session, read_span
from sensorlab.datasets.spec import DatasetSpec
from sensorlab.datasets.windows import Span, cap_evenly, cut_frames, cut_windows, label_windows, n_samples, window_starts

#: Seconds of windows read together (one HDF5 read per stream per group).
GROUP_SECONDS = 30.0
#: Flags bits stored per window.
FLAG_FILLED = 1
FLAG_BACKGROUND = 2
#: A measured rate further than this from the nominal one is worth a warning.
RATE_TOLERANCE = 0.01


@dataclass(frozen=True)
class StreamLayout:
    """How one stream is stored in the dataset (resolved once, the same for every session)."""

    name: str
    kind: str
    source_rate: float
    rate: float
    channels: tuple[str, ...]  # stored channel names (signals), in order
    channel_index: tuple[int, ...]  # their columns in the recorded samples
    sample_shape: tuple[int, ...]  # frames: the shape of one frame
    dtype: str  # stored dtype
    n_samples: int

    @property
    def is_signal(self) -> bool:
        return self.kind in {k.value for k in SIGNAL_KINDS}

    @property
    def resampler(self) -> str:
        if not self.is_signal:
            return "nearest"
        up, down = rational_ratio(self.source_rate, self.rate)
        return "none" if up == down else f"resample_poly {up}/{down}"

    def describe(self) -> dict:
        return {"name": self.name, "kind": self.kind, "rate": self.rate, "source_rate": self.source_rate, "channels": list(self.channels),
                "n_samples": self.n_samples, "dtype": self.dtype, "resampler": self.resampler}  # fmt: skip


@dataclass(frozen=True)
class SessionTask:
    path: str
    spec: DatasetSpec
    streams: tuple[StreamLayout, ...]
    spans: tuple[Span, ...]
    #: The session's name in the build (`build_plan.session_names`): its file name unless another
    #: folder holds the same one.
    name: str = ""


@dataclass
class SessionResult:
    """Windows of one session (in time order), or why it failed (``error``)."""

    name: str
    error: str = ""
    x: dict[str, np.ndarray] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    start: np.ndarray = field(default_factory=lambda: np.empty(0))
    offset: np.ndarray = field(default_factory=lambda: np.empty(0))
    coverage: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    flags: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint8))
    info: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)


def choose_windows(spec: DatasetSpec, spans: list[Span], starts: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """Indices of the windows kept, their labels, coverages and background flags (before gap checks)."""
    lab = spec.labels
    labels, coverage = label_windows(starts, spec.window.length, spans, lab.rule, lab.min_coverage)
    labeled = np.array([i for i, x in enumerate(labels) if x is not None], np.int64)
    keep = labeled
    background = np.empty(0, np.int64)
    if lab.unlabeled == "background":
        rest = np.array([i for i, x in enumerate(labels) if x is None], np.int64)
        background = cap_evenly(rest, int(np.floor(lab.background_max_ratio * len(labeled) + 1e-9)))
        keep = np.sort(np.concatenate((labeled, background)))
    is_bg = np.isin(keep, background)
    names = [lab.background_label if b else labels[i] for i, b in zip(keep.tolist(), is_bg.tolist())]
    return keep, names, coverage[keep], is_bg


def _shape(lay: StreamLayout) -> tuple[int, ...]:
    return (lay.n_samples, len(lay.channels)) if lay.is_signal else (lay.n_samples, *lay.sample_shape)


def _groups(starts: np.ndarray, length: float) -> list[slice]:
    out, i = [], 0
    while i < len(starts):
        j = int(np.searchsorted(starts, starts[i] + GROUP_SECONDS - length, "right"))
        j = max(j, i + 1)
        out.append(slice(i, j))
        i = j
    return out


def process_session(task: SessionTask) -> SessionResult:
    """Cut, label and check the windows of one session; errors become ``SessionResult.error``.

    A session that cannot be read (damaged file, missing stream, unreadable data) is reported
    by name, never half-used: its result then holds no windows.
    """
    path = Path(task.path)
    try:
        return _process(task, path)
    except (OSError, RuntimeError, ValueError, KeyError, IndexError, TypeError) as e:  # h5py raises all of these on damaged files
        return SessionResult(task.name or path.name, error=one_line(e))


def _process(task: SessionTask, path: Path) -> SessionResult:
    spec = task.spec
    L, hop = spec.window.length, spec.window.hop
    res = SessionResult(task.name or path.name)
    with open_session(path) as s:
        readers = {}
        for lay in task.streams:
            if lay.name not in s.streams:
                raise KeyError(f"no stream {lay.name!r} (it has {', '.join(sorted(s.streams))})")
            readers[lay.name] = s.streams[lay.name]
        firsts = [r.first_time for r in readers.values()]
        lasts = [r.last_time + 1.0 / lay.source_rate for r, lay in zip(readers.values(), task.streams)]
        t_begin, t_end = max(firsts), min(lasts)
        origin = s.metadata.start_host_time if s.metadata.start_host_time is not None else t_begin
        starts = window_starts(t_begin, t_end, L, hop) if np.isfinite(t_begin) and np.isfinite(t_end) else np.empty(0)
        keep, names, coverage, is_bg = choose_windows(spec, list(task.spans), starts)
        starts = starts[keep]
        # Output arrays allocated once; groups fill them in place (no per-group lists to join).
        xs = {lay.name: np.empty((len(starts), *_shape(lay)), lay.dtype) for lay in task.streams}
        ok = np.ones(len(starts), bool)
        filled = np.zeros(len(starts), bool)
        gaps: dict[str, set[tuple[float, float]]] = {lay.name: set() for lay in task.streams}
        for g in _groups(starts, L):
            st = starts[g]
            for lay in task.streams:
                pad = (resample_margin(lay.source_rate, lay.rate) if lay.is_signal else 0.0) + 2.0 / lay.source_rate
                chunk = read_span(readers[lay.name], st[0] - pad, st[-1] + L + pad)
                ts = np.asarray(chunk.timestamps, dtype=np.float64)
                if lay.is_signal:
                    data = np.asarray(chunk.data).reshape(len(ts), -1)
                    if lay.channel_index != tuple(range(data.shape[1])):
                        data = data[:, list(lay.channel_index)]
                    cut = cut_windows(ts, data, lay.source_rate, lay.rate, st, L)
                else:
                    frames = np.asarray(chunk.data)
                    if frames.dtype == object:
                        raise ValueError(f"stream {lay.name!r}: frame size changes mid-stream near t={st[0] - origin:.1f} s")
                    cut = cut_frames(ts, frames, lay.source_rate, lay.rate, st, L)
                    jumps = np.flatnonzero(np.diff(ts) > gap_threshold(lay.source_rate))
                    cut.gaps = np.stack((ts[jumps], ts[jumps + 1]), axis=1) if len(jumps) else cut.gaps
                gaps[lay.name].update(map(tuple, cut.gaps.tolist()))
                if spec.window.gaps == "drop":
                    ok[g] &= ~cut.filled
                else:
                    filled[g] |= cut.filled
                xs[lay.name][g] = cut.data
        keep_ok = np.flatnonzero(ok)
        for lay in task.streams:
            res.x[lay.name] = xs[lay.name] if len(keep_ok) == len(starts) else xs[lay.name][keep_ok]
            xs[lay.name] = None  # free before the next stream's copy
        res.labels = [names[i] for i in keep_ok.tolist()]
        res.start = starts[keep_ok]
        res.offset = res.start - origin
        res.coverage = coverage[keep_ok].astype(np.float32)
        res.flags = (filled[keep_ok] * FLAG_FILLED | is_bg[keep_ok] * FLAG_BACKGROUND).astype(np.uint8)
        dropped = int(len(starts) - len(keep_ok))
        per_stream = {}
        for lay in task.streams:
            # Gaps seen in the samples read (those near kept windows): reading a whole stream's
            # timestamps to find the others would cost more than the windows themselves.
            found = sorted(gaps[lay.name])
            rate = readers[lay.name].rate_measured
            per_stream[lay.name] = {"gaps": len(found), "gap_seconds": round(sum(b - a for a, b in found), 6),
                                    "rate_measured": round(float(rate), 6) if np.isfinite(rate) else None}  # fmt: skip
            if np.isfinite(rate) and abs(rate / lay.source_rate - 1) > RATE_TOLERANCE:
                res.warnings.append(f"{path.name}: stream {lay.name!r} ran at {rate:.6g} Hz, {100 * (rate / lay.source_rate - 1):+.1f} % off its nominal {lay.source_rate:g} Hz")
            if found:
                res.warnings.append(f"{path.name}: stream {lay.name!r} has {len(found)} gap(s) near the windows, {per_stream[lay.name]['gap_seconds']:.3g} s in all")
        if dropped:
            res.warnings.append(f"{res.name}: {dropped} window(s) dropped because they touch a gap (window.gaps = \"drop\")")
        res.info = {"duration": round(float(s.duration), 6), "start_host_time": origin, "streams": per_stream, "windows": len(keep_ok),
                    "dropped_for_gaps": dropped}  # fmt: skip
    res.info["session_sha256"] = file_sha256(path)
    return res


__all__ = ["FLAG_BACKGROUND", "FLAG_FILLED", "SessionResult", "SessionTask", "StreamLayout", "n_samples", "process_session"]
