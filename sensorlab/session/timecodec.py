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

Runs continue across batches (3.0 and 2.0 files written since): a batch whose times lie on
the line of the column's last run, bit for bit or through ulps, only makes that run longer,
so a device clock that ticks regularly is one row for minutes instead of one per 0.1 s batch.

Raw arrival times to the microsecond (``residual`` = 2, schema 3.0, the ``compact`` layout): a
text serial device stamps each line as it arrives, with scheduling jitter, so its arrival
column lies on no line and was stored verbatim, 8 bytes beside a 24-byte sample. Such runs
store, per sample, the arrival's distance from the sample's own host timestamp in whole
microseconds (``int32``, the ``*_us`` dataset: small, positive, compresses to 1–2 bytes):
``arrival = timestamp + us * 1e-6``, within 0.5 µs of what the device thread stamped; far
below the jitter any clock re-fit deals with. The timestamps themselves stay bit-exact, and
arrivals that are runs (a hand-over of many samples) stay exact too. A 2.x reader would read
such runs wrongly, hence the major version.

Crash safety is the one of the ``samples`` layout: explicit values are written before their
run row, and a reader trusts a run row only if its count is positive, its value finite and it
starts at or after the end of the previous row (unwritten rows read as the fill value, count 0).
A run that grew is rewritten in place (the last row only, after what it refers to), like an
append to a partly filled chunk; a reader sees its old or its new length.
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
MICROS = "_us"  # suffix of a column's per-sample µs after the timestamp (runs with ``residual`` 2)
#: ``residual`` codes of a run: exact line, line + per-sample ulps, timestamp + per-sample µs.
EXACT, CORRECTED, MICROSECONDS = 0, 1, 2
#: Fill value of the ``*_us`` dataset: µs that never reached the disk read as NaN, not as 0.
MICROS_FILL = np.iinfo(np.int32).min
#: Largest |µs| stored (int32, minus the fill value): arrivals up to ~35 min after their sample.
MICROS_LIMIT = np.iinfo(np.int32).max - 1
#: Rough stored bytes (after shuffle + gzip) used to choose a batch's encoding of arrival times:
#: a run row, an explicit float64, one µs offset.
ROW_COST, EXPLICIT_COST, MICROS_COST = 6.0, 6.0, 2.0
#: Lossless HDF5 filters of the per-sample datasets (builtin: plain h5py reads them). SWMR
#: appends and flushes work with them; they cost ~3 ms of CPU per second of 48 kHz audio.
COMPRESS_INT = {"compression": "gzip", "compression_opts": 1}
COMPRESS_INT32 = {"compression": "gzip", "compression_opts": 1, "shuffle": True}
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

    ``micros``: the column may store runs as µs after the timestamps (``residual`` 2; the
    arrival column of a ``compact`` file); `write` is then given the samples' timestamps.
    """

    def __init__(
        self, g: h5py.Group, name: str, rows: int, append: Callable[..., None], micros: bool = False
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
        self.micros = None
        if micros:
            self.micros = g.create_dataset(
                name + MICROS,
                (0,),
                "i4",
                maxshape=(None,),
                chunks=(max(rows, 4096),),
                fillvalue=MICROS_FILL,
                **COMPRESS_INT32,
            )
            self.datasets.append(self.micros)
        self._paths = [
            d.name for d in self.datasets
        ]  # to find them again in a reopened file
        self.runs = 0  # rows in the file
        self.explicit = 0  # samples stored verbatim
        self.corrected = 0  # samples of runs with per-sample ulps
        self.quantized = 0  # samples stored as µs after their timestamp
        # Rows encoded, not yet appended (see `drain`), written from row `_at` of the file on.
        # The last of them (or `_last`, the last row in the file) is the run a batch may continue.
        self._rows: list[list] = []
        self._at = 0
        self._last: list | None = None
        self._values: list[tuple[int, np.ndarray]] = []
        self._ulps: list[tuple[int, np.ndarray]] = []
        self._micros: list[tuple[int, np.ndarray]] = []

    def rebind(self, f: h5py.File) -> None:
        """Use the datasets of ``f``, the same file reopened (`SessionWriter.add_stream`)."""
        self.datasets = [f[p] for p in self._paths]
        self.segments, self.values, self.ulps = self.datasets[:3]
        if self.micros is not None:
            self.micros = self.datasets[3]

    # -- encoding -------------------------------------------------------------------------
    def write(self, x: np.ndarray, start: int, timestamps: np.ndarray | None = None) -> None:
        """Encode samples ``start …`` of the column (appended by the next `drain`).

        ``timestamps``: the same samples' host timestamps, for a ``micros`` column.
        """
        x = np.asarray(x, dtype=np.float64)
        done = self._continue(x, start)
        if done == len(x):
            return
        x, start = x[done:], start + done
        runs = encode(x, start)
        if self.micros is not None and timestamps is not None and _micros_pay(runs):
            us = _to_micros(x, np.asarray(timestamps, dtype=np.float64)[done:])
            if us is not None:
                self._micros.append((start, us))
                self.quantized += len(x)
                self._push([start, len(x), float(x[0]), float("nan"), MICROSECONDS])
                return
        for s, n, v, step in runs:
            seg = x[s - start : s - start + n]
            residual = EXACT
            if np.isfinite(step):
                step, ulps = _best_line(v, step, seg)
                if ulps is not None:
                    self._ulps.append((s, ulps))
                    self.corrected += n
                    residual = CORRECTED
            if not np.isfinite(step):
                if self.micros is not None and timestamps is not None:
                    us = _to_micros(seg, np.asarray(timestamps, dtype=np.float64)[done + s - start : done + s - start + n])
                    if us is not None:
                        self._micros.append((s, us))
                        self.quantized += n
                        self._push([s, n, v, float("nan"), MICROSECONDS])
                        continue
                self._values.append((s, seg.copy()))
                self.explicit += n
            self._push([s, n, v, step, residual])

    def _tail(self) -> list | None:
        return self._rows[-1] if self._rows else self._last

    def _push(self, row: list) -> None:
        """Add a run, or lengthen the last one when both store their samples the same per-sample
        way (explicit values, or µs) and the new one starts where it ends."""
        tail = self._tail()
        if (
            tail is not None
            and tail[0] + tail[1] == row[0]
            and not np.isfinite(tail[3])
            and not np.isfinite(row[3])
            and tail[4] == row[4]
        ):
            self._grow(tail, row[1])
            return
        if not self._rows:
            self._at = self.runs
        self._rows.append(row)

    def _grow(self, tail: list, n: int) -> None:
        if not self._rows:  # the run is in the file already: rewrite its row at the next drain
            self._rows.append(tail)
            self._at = self.runs - 1
        tail[1] += n

    def _continue(self, x: np.ndarray, start: int) -> int:
        """Samples at the start of ``x`` that lengthen the last run (its line reproduces them
        bit for bit, with ulps if need be); 0 if none."""
        tail = self._tail()
        if tail is None or tail[0] + tail[1] != start or not np.isfinite(tail[3]) or not len(x):
            return 0
        v, step, k = tail[2], tail[3], tail[1]
        line = _line(v, step, k, k + len(x))
        same = line == x
        if same.all():
            m, ulps = len(x), None
        else:
            q = _half_ulp(line)
            with np.errstate(invalid="ignore", divide="ignore"):
                r = (x - line) / q
            ok = np.isfinite(r) & (np.abs(r) <= 127) & (r == np.round(r))
            u = np.where(ok, r, 0).astype(np.int8)
            ok &= line + u.astype(np.float64) * q == x
            m = len(x) if ok.all() else int(np.argmin(ok))
            ulps = u[:m] if m and u[:m].any() else None
        if m == 0:
            return 0
        if ulps is not None:
            tail[4] = CORRECTED  # earlier samples of the run read 0 ulps (the fill): still exact
            self._ulps.append((start, ulps))
        if tail[4] == CORRECTED:
            self.corrected += m
        self._grow(tail, m)
        return m

    def drain(self) -> None:
        """Append everything encoded since the last drain: corrections, explicit values and µs
        first, the run rows last (a row is only trusted once what it refers to is written)."""
        per_sample = [(self.ulps, self._ulps), (self.values, self._values)]
        if self.micros is not None:
            per_sample.append((self.micros, self._micros))
        for ds, parts in per_sample:
            for at, arr in _coalesce(parts):
                self._append(ds, arr, at=at)
            parts.clear()
        if self._rows:
            rows = np.array([tuple(r) for r in self._rows], dtype=SEG_DTYPE)
            self._append(self.segments, rows, at=self._at)
            self.runs = self._at + len(rows)
            self._last = self._rows[-1]
            self._rows = []


def _best_line(value: float, step: float, x: np.ndarray) -> tuple[float, np.ndarray | None]:
    """``(step, ulps)`` of the run of ``x`` from ``value``: ulps None when the line is exact;
    step NaN when no line reproduces ``x`` (store it verbatim).

    The fitted step carries the rounding of the few samples it was fitted on; a device clock
    usually ticks at a round rate (1 kHz, 100 Hz, 48 kHz), and ``1 / rate`` in float64 makes
    fewer and smaller corrections and lets the run continue far longer (`_continue`).
    """
    rate = 1.0 / step if step else 0.0
    candidates = [step]
    if rate and abs(rate - round(rate)) <= 1e-7 * abs(rate) and round(rate):
        candidates.insert(0, 1.0 / round(rate))
    best: tuple[float, np.ndarray | None] = (float("nan"), None)
    worst = np.inf
    for cand in candidates:
        line = _line(value, cand, 0, len(x))
        if np.array_equal(line, x):
            return cand, None
        ulps = _ulps(line, x)
        if ulps is not None and np.abs(ulps.astype(np.int16)).max() < worst:
            best, worst = (cand, ulps), np.abs(ulps.astype(np.int16)).max()
    return best


def _micros_pay(runs: list[tuple[int, int, float, float]]) -> bool:
    """Whether µs after the timestamps store a batch in fewer bytes than its exact runs."""
    n = sum(r[1] for r in runs)
    explicit = sum(r[1] for r in runs if not np.isfinite(r[3]))
    return n * MICROS_COST < len(runs) * ROW_COST + explicit * EXPLICIT_COST


def _to_micros(x: np.ndarray, timestamps: np.ndarray) -> np.ndarray | None:
    """Whole µs of ``x`` after ``timestamps`` (int32), or None where that cannot hold them."""
    with np.errstate(invalid="ignore"):
        us = np.round((x - timestamps) * 1e6)
    if len(us) != len(x) or not (np.isfinite(us).all() and np.all(np.abs(us) <= MICROS_LIMIT)):
        return None
    us = us.astype(np.int32)
    # The reader's formula; the rounding above keeps every time within 0.5 µs (plus float error).
    if not np.all(np.abs(timestamps + us.astype(np.float64) * 1e-6 - x) <= 0.51e-6):
        return None
    return us


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

    def __init__(self, g: h5py.Group, name: str, trusted: bool, contiguous: bool, timestamps: ColumnView | None = None):
        self._seg = g[name + SEGMENTS]
        self._values = g[name + VALUES]
        self._ulps = g[name + ULPS]
        self._micros = g.get(name + MICROS)  # 3.0 arrival columns only
        self._timestamps = timestamps  # what µs runs are relative to
        rows = self._seg[:]
        n = len(rows) if trusted else valid_rows(rows, contiguous)
        rows = rows[:n]
        self._start = rows["start"].astype(np.int64)
        self._count = rows["count"].astype(np.int64)
        self._value = rows["value"].astype(np.float64)
        self._step = rows["step"].astype(np.float64)
        self._residual = rows["residual"].astype(np.int8)
        self._end = self._start + self._count
        self.shape = (int(self._end[-1]) if n else 0,)
        self.runs = n
        #: Samples whose times are stored verbatim (irregular arrivals, host stamps with jitter).
        self.explicit = int(self._count[~np.isfinite(self._step) & (self._residual != MICROSECONDS)].sum())
        #: Samples stored as whole µs after their timestamp (irregular arrival times, 3.0).
        self.quantized = int(self._count[self._residual == MICROSECONDS].sum())

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
        code = self._residual[seg]
        fix = lin & (code == CORRECTED)
        if fix.any():  # per-sample corrections, in half-ulps of the line (exact)
            lo, hi = int(idx[fix][0]), int(idx[fix][-1]) + 1
            ulps = np.zeros(hi - lo, np.int8)
            part = self._ulps[lo : min(hi, self._ulps.shape[0])]
            ulps[: len(part)] = part
            line = out[fix]
            out[fix] = line + ulps[idx[fix] - lo].astype(np.float64) * _half_ulp(line)
        us = inside & ~np.isfinite(step) & (code == MICROSECONDS)
        if us.any():  # whole µs after the sample's timestamp (arrival times, 3.0)
            lo, hi = int(idx[us][0]), int(idx[us][-1]) + 1
            micros = np.full(hi - lo, MICROS_FILL, np.int32)
            if self._micros is not None:
                part = self._micros[lo : min(hi, self._micros.shape[0])]
                micros[: len(part)] = part
            base = self._timestamps.read(lo, hi) if self._timestamps is not None else np.full(hi - lo, np.nan)
            m = micros[idx[us] - lo]
            out[us] = np.where(m == MICROS_FILL, np.nan, base[idx[us] - lo] + m.astype(np.float64) * 1e-6)
        expl = inside & ~np.isfinite(step) & (code != MICROSECONDS)
        if expl.any():
            lo, hi = int(idx[expl][0]), int(idx[expl][-1]) + 1
            vals = self._values[lo : min(hi, self._values.shape[0])]
            full = np.full(hi - lo, np.nan)
            full[: len(vals)] = vals
            out[expl] = full[idx[expl] - lo]
        return out
