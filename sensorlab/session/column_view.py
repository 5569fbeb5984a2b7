"""`ColumnView`: a run-encoded time column of a session file read like a 1-D float64 dataset.

The writer's side, and what the datasets hold, is `sensorlab.session.time_columns` (`ColumnWriter`)
and `sensorlab.session.timecodec`. A reader trusts only run rows that reached the disk
(`valid_rows`), adds per-sample ulps to corrected runs, and turns µs after the timestamps (3.0:
whole, 4.0: as steps from an anchor) back into arrival times.
"""

from __future__ import annotations

import h5py
import numpy as np

from sensorlab.session.timecodec import (
    CORRECTED,
    MICROS,
    MICROS_BLOCK,
    MICROS_CODES,
    MICROS_FILL,
    MICROS_STEPS,
    MICROSECONDS,
    SEGMENTS,
    ULPS,
    VALUES,
    half_ulp,
    micros_from_steps,
)


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
        self.explicit = int(self._count[~np.isfinite(self._step) & ~np.isin(self._residual, MICROS_CODES)].sum())
        #: Samples stored as whole µs after their timestamp (irregular arrival times, 3.0 and 4.0).
        self.quantized = int(self._count[np.isin(self._residual, MICROS_CODES)].sum())

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
        # The writer's `line_times` formula, elementwise: value + step * k (k as float64).
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
            out[fix] = line + ulps[idx[fix] - lo].astype(np.float64) * half_ulp(line)
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
        steps = inside & ~np.isfinite(step) & (code == MICROS_STEPS)
        if steps.any():  # µs kept as their steps (4.0): summed from the anchor before the range
            out[steps] = self._read_micros_steps(idx[steps])
        expl = inside & ~np.isfinite(step) & ~np.isin(code, MICROS_CODES)
        if expl.any():
            lo, hi = int(idx[expl][0]), int(idx[expl][-1]) + 1
            vals = self._values[lo : min(hi, self._values.shape[0])]
            full = np.full(hi - lo, np.nan)
            full[: len(vals)] = vals
            out[expl] = full[idx[expl] - lo]
        return out

    def _read_micros_steps(self, want: np.ndarray) -> np.ndarray:
        """Arrival times of the samples ``want`` (sorted, all in ``residual`` 3 runs)."""
        first = int(want[0])
        row = int(np.searchsorted(self._start, first, "right") - 1)
        lo = max(int(self._start[row]), first - first % MICROS_BLOCK)  # an anchor: nothing to sum before it
        hi = int(want[-1]) + 1
        idx = np.arange(lo, hi, dtype=np.int64)
        seg = np.searchsorted(self._start, idx, "right") - 1
        ours = (seg >= 0) & (idx < self._end[np.maximum(seg, 0)]) & (self._residual[np.maximum(seg, 0)] == MICROS_STEPS)
        # Anchors: a run's first sample, every MICROS_BLOCK-th sample, and any sample not in
        # such a run (its value is never used; it only stops the sums).
        anchor = ~ours | (idx == self._start[np.maximum(seg, 0)]) | (idx % MICROS_BLOCK == 0)
        d = np.full(hi - lo, MICROS_FILL, np.int32)
        if self._micros is not None:
            part = self._micros[lo : min(hi, self._micros.shape[0])]
            d[: len(part)] = part
        base = self._timestamps.read(lo, hi) if self._timestamps is not None else np.full(hi - lo, np.nan)
        with np.errstate(invalid="ignore"):
            q = micros_from_steps(d, np.where(np.isfinite(base), base, 0.0), anchor)
        return (base + q * 1e-6)[want - lo]
