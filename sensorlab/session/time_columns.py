"""A run-encoded time column in the file: `ColumnWriter` (the writer thread) and `ColumnView`
(readers, in `sensorlab.session.column_view`), over the datasets named in `timecodec` (``<column>_segments``, ``_values``, ``_ulps``
and, for 3.0 arrival times, ``_us``).

How times become runs (and why bit-exact, why µs for irregular arrivals) is `timecodec`; this
module is where those runs live: created before SWMR is switched on, appended once per flush
with what they refer to written first, the last run grown in place when the next batch
continues it, and read back like a 1-D float64 dataset, trusting only rows that reached the disk.
"""

from __future__ import annotations

from collections.abc import Callable

import h5py
import numpy as np

# The readers' side; importable from here too, as before.
from sensorlab.session.column_view import ColumnView, valid_rows  # noqa: F401
from sensorlab.session.timecodec import (
    COMPRESS_FLOAT,
    COMPRESS_INT,
    COMPRESS_INT32,
    COMPRESS_ROWS,
    CORRECTED,
    EXACT,
    MICROS,
    MICROS_BLOCK,
    MICROS_CODES,
    MICROS_FILL,
    MICROS_STEPS,
    MICROSECONDS,
    MIN_RUN,
    SEG_CHUNK,
    SEG_DTYPE,
    SEGMENTS,
    ULPS,
    VALUES,
    best_line,
    encode,
    half_ulp,
    line_times,
    micros_pay,
    micros_to_steps,
    to_micros,
)

#: Verbatim pieces of a regular column up to this long are stored as one-sample runs instead
#: (see `ColumnWriter.write`); a longer one is really irregular and stays verbatim.
SHORT_PIECE = 32


class ColumnWriter:
    """Writes one time column of a stream as runs (the writer's thread only).

    ``append(ds, values, at)`` is the writer's one low-level write (it grows the dataset and
    counts bytes; the disk-full test patches it). `write` only encodes; `drain` appends what was
    encoded, once per flush (`SessionWriter.flush`): samples become visible to a reader at the
    flush anyway, and three small appends per batch and column cost more CPU than the encoding.
    Writes carry their position, so a drain that failed half way can simply be repeated.

    ``micros``: the column may store runs as µs after the timestamps (the arrival column of a
    ``compact`` file), as their steps (``residual`` 3, `timecodec.micros_to_steps`); `write` is
    then given the samples' timestamps.
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
            **COMPRESS_ROWS,
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
        #: ``(index, µs, timestamp)`` of the last sample stored as µs: the next batch's first
        #: sample, if it continues that run, stores its step from it.
        self._micros_last: tuple[int, int, float] | None = None

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
        tail = self._tail()
        # A µs run that goes on costs no row; lines read together (one arrival for several)
        # would otherwise cut it into exact runs and restart it: a text IMU read in bursts on a
        # loaded machine spent 0.66 byte a line on such rows, more than the µs they replace.
        goes_on = tail is not None and tail[4] in MICROS_CODES and tail[0] + tail[1] == start
        use_micros = self.micros is not None and timestamps is not None and (goes_on or micros_pay(runs))
        if use_micros and self._write_micros(start, x, np.asarray(timestamps, dtype=np.float64)[done:]):
            return
        prev = tail[3] if tail is not None and tail[0] + tail[1] == start else float("nan")
        # A run of one repeated value (step 0: a hand-over's arrival time) is exact as it is;
        # `best_line` would only confirm it, with NumPy calls for each of ~100 runs a second.
        changes = np.concatenate(([0], np.cumsum(x[1:] != x[:-1]))).tolist()
        for i, (s, n, v, step) in enumerate(runs):
            seg = x[s - start : s - start + n]
            residual = EXACT
            if step == 0.0 and changes[s - start + n - 1] == changes[s - start] and v == seg[0]:
                prev = step
                self._push([s, n, v, step, residual])
                continue
            near = runs[i + 1][3] if i + 1 < len(runs) else float("nan")
            if not np.isfinite(step) and n < MIN_RUN:
                # A few samples cut off by the batch's end (or a jump) after a clock-fit move:
                # explicit, they also stopped the next batch from continuing a run here (a
                # 100 Hz text stream lost ~0.5 byte a line to this). On the step of the run
                # before or after them (a clock's 1/rate) they start a run the next batch lengthens.
                for cand in (prev, near):
                    if np.isfinite(cand) and cand > 0:
                        line_step, _ = best_line(v, cand, seg)
                        if np.isfinite(line_step):
                            step = cand
                            break
            if np.isfinite(step):
                step, ulps = best_line(v, step, seg)
                if ulps is not None:
                    self._ulps.append((s, ulps))
                    self.corrected += n
                    residual = CORRECTED
            if not np.isfinite(step):
                piece_ts = None if timestamps is None else np.asarray(timestamps, dtype=np.float64)[done + s - start : done + s - start + n]
                if self.micros is not None and piece_ts is not None and self._write_micros(s, seg, piece_ts):
                    continue
                cand = prev if np.isfinite(prev) and prev > 0 else near
                if n <= SHORT_PIECE and np.isfinite(cand) and cand > 0:
                    # Samples between clock-fit moves that come a few at a time (a loaded
                    # machine moved a text stream's fit every 1–4 lines at times, and `encode`
                    # merges such short runs into one verbatim piece): a one-sample run on
                    # the clock's step each, exact by construction, that the next sample or
                    # batch lengthens when it lies on its line. Stored verbatim they cost as
                    # much, plus a sparse chunk each, and stopped every run from continuing.
                    for j in range(n):
                        if not self._continue(seg[j : j + 1], s + j):
                            self._push([s + j, 1, float(seg[j]), cand, EXACT])
                    prev = cand
                    continue
                self._values.append((s, seg.copy()))
                self.explicit += n
            prev = step
            self._push([s, n, v, step, residual])

    def _write_micros(self, s: int, x: np.ndarray, ts: np.ndarray) -> bool:
        """Store samples ``s …`` as µs after ``ts``, kept as steps (``residual`` 3), continuing
        the last run if it is such a run ending at ``s``; False if µs cannot hold them."""
        q = to_micros(x, ts)
        if q is None:
            return False
        tail = self._tail()
        if (q == q[0]).all() and not (tail is not None and tail[4] == MICROS_STEPS and tail[0] + tail[1] == s):
            # A constant distance (a camera stamped when its grab returns: arrival = timestamp)
            # is cheapest whole: its steps would be the timestamps' own steps.
            self._micros.append((s, q))
            self._micros_last = None
            self.quantized += len(x)
            self._push([s, len(x), float(x[0]), float("nan"), MICROSECONDS])
            return True
        last = self._micros_last
        goes_on = tail is not None and tail[4] == MICROS_STEPS and tail[0] + tail[1] == s and last is not None and last[0] == s - 1
        idx = np.arange(s, s + len(x))
        anchor = idx % MICROS_BLOCK == 0
        if not goes_on:
            anchor[0] = True  # a run's first sample
        d = micros_to_steps(q, ts, anchor, (last[1], last[2]) if goes_on else None)
        if d is None:
            return False
        self._micros.append((s, d))
        self._micros_last = (s + len(x) - 1, int(q[-1]), float(ts[-1]))
        self.quantized += len(x)
        row = [s, len(x), float(x[0]), float("nan"), MICROS_STEPS]
        if goes_on:
            self._grow(tail, len(x))
        else:  # a new row even right after another µs run: its first sample is an anchor
            if not self._rows:
                self._at = self.runs
            self._rows.append(row)
        return True

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
        line = line_times(v, step, k, k + len(x))
        same = line == x
        if same.all():
            m, ulps = len(x), None
        else:
            q = half_ulp(line)
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
