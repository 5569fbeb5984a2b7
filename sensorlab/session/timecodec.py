"""Compact per-sample times (``segments`` layout, schema 1.4 development builds and 2.0): linear runs, bit-exact.

A sound card's samples are stamped ``offset + slope * count / rate`` per hand-over, a binary
serial device's from its own tick counter, and the raw arrival time is one value per
hand-over: all of it is a few straight lines per hand-over, yet the ``samples`` layout stored
three float64 per sample (24 bytes beside a 2-byte PCM sample). Here each time column
(``timestamps``, ``device_times``, ``arrival_times``) is stored as a table of runs
``(start, count, value, step)``: sample ``start + k`` (``0 <= k < count``) has the time
``value + step * k``.

Exactness first: every time reads back *bit for bit* as the writer was given it. A line
computed one way (``value + step * k``) differs from the same line computed by the source
another way (``t0 + (first + k) / rate``, ``offset + slope * device``) by a rounding unit in
about one sample of five, and derived streams are stamped with their input's samples (a
reader joins them by equality), so "within 10 ns" is not good enough. A run whose line is off
by a few units in the last place (ulps) therefore stores, per sample, the difference in
half-ulps of the line as ``int8`` (``residual`` = 1; ``*_ulps`` dataset, gzip-compressed:
mostly zeros, ~0.2 byte per sample); the reader adds ``ulps * spacing(|line|) / 2``, which is
exact. The writer checks each reconstructed sample with exactly the reader's float64
operations; a run it cannot reproduce, and anything irregular (arrivals, jittery host stamps),
is stored verbatim: ``step`` NaN, times in the column's ``*_values`` dataset at the same sample
indexes. Both per-sample datasets are sparse: HDF5 allocates no chunk that was never written.

Crash safety is the one of the ``samples`` layout: explicit values are written before their
run row, and a reader trusts a run row only if its count is positive, its value finite and it
starts at or after the end of the previous row (unwritten rows read as the fill value, count 0).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import h5py
import numpy as np

#: One run of a time column. ``step`` NaN: explicit times in the ``*_values`` dataset.
SEG_DTYPE = np.dtype(
    [
        ("start", "i8"),
        ("count", "i8"),
        ("value", "f8"),
        ("step", "f8"),
        ("residual", "i1"),
    ]
)
SEGMENTS = "_segments"  # suffix of a column's run table
VALUES = "_values"  # suffix of a column's explicit (sparse, per-sample) times
ULPS = (
    "_ulps"  # suffix of a column's per-sample corrections of runs with ``residual`` 1
)
#: Lossless HDF5 filters of the per-sample datasets (builtin: plain h5py reads them). SWMR
#: appends and flushes work with them; they cost ~3 ms of CPU per second of 48 kHz audio.
COMPRESS_INT = {"compression": "gzip", "compression_opts": 1}
COMPRESS_FLOAT = {"compression": "gzip", "compression_opts": 1, "shuffle": True}
#: Largest difference allowed between a reconstructed time and the recorded one (10 ns; the
#: format promises 1 µs). Floating point error of an exactly linear column of host seconds is
#: far below it, so linear columns always compress.
TIME_TOL = 1e-8
#: Runs shorter than this are stored explicitly (a 32-byte row for fewer samples costs more).
MIN_RUN = 4
#: Rows per HDF5 chunk of a run table.
SEG_CHUNK = 256


def _line(value: float, step: float, k0: int, k1: int) -> np.ndarray:
    """Times ``value + step * k`` for ``k0 <= k < k1``: the one formula writer and reader share."""
    return value + step * np.arange(k0, k1, dtype=np.float64)


def encode(
    x: np.ndarray, start: int, tol: float = TIME_TOL
) -> list[tuple[int, int, float, float]]:
    """Runs ``(start, count, value, step)`` covering ``x`` (sample indexes from ``start``).

    Each linear run reproduces its samples within ``tol``; consecutive short runs are merged
    into one explicit run (``step`` NaN). NaN times (a chunk without that clock) are explicit.
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    runs: list[tuple[int, int, float, float]] = []
    if n == 0:
        return runs
    if n > 1 and np.isfinite(x).all():
        # Never let the tolerance reorder samples: a strictly increasing column stays so.
        tol = min(tol, float(np.min(np.abs(np.diff(x)))) / 4)
    # Candidate breaks: where the step changes (x[i + 2] leaves the line of x[i], x[i + 1]).
    if n >= 3 and np.isfinite(x).all():
        d = np.diff(x)
        brk = np.flatnonzero(~(np.abs(np.diff(d)) <= tol)) + 2
    else:
        brk = np.arange(1, n) if n > 1 else np.empty(0, int)
    # Irregular: most samples start a new line. Store the chunk verbatim without a Python loop.
    if len(brk) * MIN_RUN > n or not np.isfinite(x).all():
        return [(start, n, float(x[0]), float("nan"))]
    # A jump at b also breaks at b + 1 (the line through b - 1, b is meaningless): a run starts at b.
    bounds = [0]
    for b in brk.tolist():
        if b != bounds[-1] + 1:
            bounds.append(b)
    bounds.append(n)
    pending = -1  # first sample of the explicit run being collected, or -1

    def explicit(upto: int) -> None:
        nonlocal pending
        if pending >= 0 and upto > pending:
            runs.append(
                (start + pending, upto - pending, float(x[pending]), float("nan"))
            )
        pending = -1

    for cs, ce in pairwise(bounds):
        s = cs
        while s < ce:
            end, step = (
                _longest_run(x, s, ce, tol) if ce - s >= MIN_RUN else (ce, np.nan)
            )
            if end - s < MIN_RUN:
                pending = s if pending < 0 else pending
            else:
                explicit(s)
                runs.append((start + s, end - s, float(x[s]), float(step)))
            s = end
    explicit(n)
    return runs


def _longest_run(x: np.ndarray, s: int, e: int, tol: float) -> tuple[int, float]:
    """``(end, step)``: the longest ``[s, end)`` within ``[s, e)`` that ``_line`` reproduces within ``tol``."""

    def first_bad(step: float, end: int) -> int:
        bad = np.flatnonzero(~(np.abs(_line(x[s], step, 0, end - s) - x[s:end]) <= tol))
        return end if len(bad) == 0 else s + int(bad[0])

    step = (x[e - 1] - x[s]) / (
        e - 1 - s
    )  # from the endpoints: the least rounding in the step
    if first_bad(step, e) == e:
        return e, step
    step = x[s + 1] - x[s]
    end = max(s + 1, first_bad(step, e))
    if end - s > 2:  # refit on the shorter run's endpoints if that still reproduces it
        better = (x[end - 1] - x[s]) / (end - 1 - s)
        if first_bad(better, end) == end:
            step = better
    return end, step


class ColumnWriter:
    """Writes one time column of a stream as runs (the writer's thread only).

    ``append(ds, values, at)`` is the writer's one low-level write (it grows the dataset and
    counts bytes; the disk-full test patches it). `write` only encodes; `drain` appends what was
    encoded, once per flush (`SessionWriter.flush`): samples become visible to a reader at the
    flush anyway, and three small appends per batch and column cost more CPU than the encoding.
    Writes carry their position, so a drain that failed half way can simply be repeated.
    """

    def __init__(
        self, g: h5py.Group, name: str, rows: int, append: Callable[..., None]
    ):
        self.name = name
        self._append = append
        # Rows compress ~3× (start/count/value grow smoothly, step repeats): shuffle + gzip.
        self.segments = g.create_dataset(
            name + SEGMENTS,
            (0,),
            SEG_DTYPE,
            maxshape=(None,),
            chunks=(SEG_CHUNK,),
            **COMPRESS_FLOAT,
        )
        self.values = g.create_dataset(
            name + VALUES,
            (0,),
            "f8",
            maxshape=(None,),
            chunks=(rows,),
            fillvalue=np.nan,
            **COMPRESS_FLOAT,
        )
        self.ulps = g.create_dataset(
            name + ULPS,
            (0,),
            "i1",
            maxshape=(None,),
            chunks=(max(rows, 4096),),
            **COMPRESS_INT,
        )
        self.datasets = [self.segments, self.values, self.ulps]
        self._paths = [
            d.name for d in self.datasets
        ]  # to find them again in a reopened file
        self.runs = 0
        self.explicit = 0  # samples stored verbatim
        self.corrected = 0  # samples of runs with per-sample ulps
        self._rows: list[tuple] = []  # encoded, not yet appended (see `drain`)
        self._values: list[tuple[int, np.ndarray]] = []
        self._ulps: list[tuple[int, np.ndarray]] = []

    def rebind(self, f: h5py.File) -> None:
        """Use the datasets of ``f``, the same file reopened (`SessionWriter.add_stream`)."""
        self.segments, self.values, self.ulps = self.datasets = [
            f[p] for p in self._paths
        ]

    def write(self, x: np.ndarray, start: int) -> None:
        """Encode samples ``start …`` of the column (appended by the next `drain`)."""
        x = np.asarray(x, dtype=np.float64)
        out = self._rows
        for s, n, v, step in encode(x, start):
            seg = x[s - start : s - start + n]
            residual = 0
            if np.isfinite(step):
                line = _line(v, step, 0, n)
                if not np.array_equal(line, seg):
                    ulps = _ulps(line, seg)
                    if ulps is None:
                        step = np.nan
                    else:
                        self._ulps.append((s, ulps))
                        self.corrected += n
                        residual = 1
            if not np.isfinite(step):
                self._values.append((s, seg.copy()))
                self.explicit += n
            out.append((s, n, v, step, residual))

    def drain(self) -> None:
        """Append everything encoded since the last drain: corrections and explicit values
        first, the run rows last (a row is only trusted once what it refers to is written)."""
        for ds, parts in ((self.ulps, self._ulps), (self.values, self._values)):
            for at, arr in _coalesce(parts):
                self._append(ds, arr, at=at)
            parts.clear()
        if self._rows:
            rows = np.array(self._rows, dtype=SEG_DTYPE)
            self._append(self.segments, rows, at=self.runs)
            self.runs += len(rows)
            self._rows.clear()


def _coalesce(parts: list[tuple[int, np.ndarray]]) -> list[tuple[int, np.ndarray]]:
    """Adjacent ``(at, values)`` pieces joined, so each contiguous range is one append."""
    out: list[tuple[int, list[np.ndarray], int]] = []
    for at, arr in parts:
        if out and out[-1][2] == at:
            out[-1][1].append(arr)
            out[-1] = (out[-1][0], out[-1][1], at + len(arr))
        else:
            out.append((at, [arr], at + len(arr)))
    return [(at, np.concatenate(arrs)) for at, arrs, _ in out]


def _half_ulp(line: np.ndarray) -> np.ndarray:
    return np.spacing(np.abs(line)) / 2


def _ulps(line: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """``int8`` corrections that turn ``line`` into ``x`` bit for bit (the reader's formula), or None."""
    q = _half_ulp(line)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (x - line) / q
    if not (
        np.isfinite(r).all()
        and np.all(np.abs(r) <= 127)
        and np.array_equal(r, np.round(r))
    ):
        return None
    ulps = r.astype(np.int8)
    return ulps if np.array_equal(line + ulps.astype(np.float64) * q, x) else None


def valid_rows(rows: np.ndarray, contiguous: bool) -> int:
    """How many leading run rows really reached the disk (see the module doc)."""
    if len(rows) == 0:
        return 0
    start, count, value = rows["start"], rows["count"], rows["value"]
    end = start + count
    ok = (count > 0) & np.isfinite(value) & (start >= 0)
    prev_end = np.concatenate([[0], end[:-1]])
    ok &= (start == prev_end) if contiguous else (start >= prev_end)
    return len(rows) if ok.all() else int(np.argmin(ok))


class ColumnView:
    """A run-encoded time column read like a 1-D float64 dataset: ``shape``, ``[i]``, ``[a:b]``.

    ``shape[0]`` is the end of the last run (samples past it, or between runs, read as NaN, as
    missing entries of the ``samples`` layout did). Rows are loaded once (a few MB per hour)
    and cached; make a new view after an SWMR refresh.
    """

    def __init__(self, g: h5py.Group, name: str, trusted: bool, contiguous: bool):
        self._seg = g[name + SEGMENTS]
        self._values = g[name + VALUES]
        self._ulps = g[name + ULPS]
        rows = self._seg[:]
        n = len(rows) if trusted else valid_rows(rows, contiguous)
        rows = rows[:n]
        self._start = rows["start"].astype(np.int64)
        self._count = rows["count"].astype(np.int64)
        self._value = rows["value"].astype(np.float64)
        self._step = rows["step"].astype(np.float64)
        self._residual = rows["residual"].astype(bool)
        self._end = self._start + self._count
        self.shape = (int(self._end[-1]) if n else 0,)
        self.runs = n
        #: Samples whose times are stored verbatim (irregular arrivals, host stamps with jitter).
        self.explicit = int(self._count[~np.isfinite(self._step)].sum())

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: int | slice) -> np.ndarray | float:
        if isinstance(key, slice):
            i0, i1, stride = key.indices(self.shape[0])
            if stride != 1:
                raise ValueError("time columns are read in contiguous ranges")
            return self.read(i0, max(i0, i1))
        i = int(key)
        if i < 0:
            i += self.shape[0]
        if not 0 <= i < self.shape[0]:
            raise IndexError(f"sample {key} outside 0..{self.shape[0] - 1}")
        return float(self.read(i, i + 1)[0])

    def read(self, i0: int, i1: int) -> np.ndarray:
        """Times of samples ``[i0, i1)`` (NaN where no run covers a sample)."""
        out = np.full(max(0, i1 - i0), np.nan)
        if i1 <= i0 or not len(self._start):
            return out
        idx = np.arange(i0, i1, dtype=np.int64)
        seg = np.searchsorted(self._start, idx, "right") - 1
        inside = (seg >= 0) & (idx < self._end[np.maximum(seg, 0)])
        seg = np.where(inside, seg, 0)
        step = self._step[seg]
        lin = inside & np.isfinite(step)
        # The writer's `_line` formula, elementwise: value + step * k (k as float64).
        k = (idx - self._start[seg]).astype(np.float64)
        out[lin] = self._value[seg][lin] + step[lin] * k[lin]
        fix = lin & self._residual[seg]
        if fix.any():  # per-sample corrections, in half-ulps of the line (exact)
            lo, hi = int(idx[fix][0]), int(idx[fix][-1]) + 1
            ulps = np.zeros(hi - lo, np.int8)
            part = self._ulps[lo : min(hi, self._ulps.shape[0])]
            ulps[: len(part)] = part
            line = out[fix]
            out[fix] = line + ulps[idx[fix] - lo].astype(np.float64) * _half_ulp(line)
        expl = inside & ~np.isfinite(step)
        if expl.any():
            lo, hi = int(idx[expl][0]), int(idx[expl][-1]) + 1
            vals = self._values[lo : min(hi, self._values.shape[0])]
            full = np.full(hi - lo, np.nan)
            full[: len(vals)] = vals
            out[expl] = full[idx[expl] - lo]
        return out
