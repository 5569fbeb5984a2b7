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

Arrival µs as differences (``residual`` = 3, schema 4.0, the ``compact`` layout since): the µs
after the timestamp jump about by a line period from one line to the next (arrivals come in
reads, timestamps advance steadily), which costs gzip more than the arrivals' own steps do. So
each sample stores the step of its arrival in whole µs: ``d[i] = q[i] - q[i-1] + us(ts[i] -
ts[i-1])``, where ``q`` is the µs after the timestamp as above and ``us(x) = round(x * 1e6)``
of the two (bit-exact) timestamps, so reader and writer compute it alike and ``q`` comes back
exactly by a running sum (`micros_from_steps`). The first sample of a run, and every sample
whose index is a multiple of `MICROS_BLOCK`, stores ``q`` itself (an *anchor*), so a read
never sums from further back than one block. Same 0.5 µs, about 15 % fewer bytes for a text
device's arrivals, a third of them for a binary device's packets (one arrival per packet: a
step of 0 inside it). A 3.x reader would read such runs as NaN, hence the major version; this
reader still reads ``residual`` 2.

The datasets that hold the runs, and how they are written and read back, are in
`sensorlab.session.time_columns` (`ColumnWriter`, `ColumnView`).

Crash safety is the one of the ``samples`` layout: explicit values are written before their
run row, and a reader trusts a run row only if its count is positive, its value finite and it
starts at or after the end of the previous row (unwritten rows read as the fill value, count 0).
A run that grew is rewritten in place (the last row only, after what it refers to), like an
append to a partly filled chunk; a reader sees its old or its new length.
"""

from __future__ import annotations

from itertools import pairwise

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
#: ``residual`` codes of a run: exact line, line + per-sample ulps, timestamp + per-sample µs
#: (3.0), timestamp + µs kept as their steps (4.0).
EXACT, CORRECTED, MICROSECONDS, MICROS_STEPS = 0, 1, 2, 3
#: Codes whose samples are µs after their timestamp (in the ``*_us`` dataset).
MICROS_CODES = (MICROSECONDS, MICROS_STEPS)
#: Every sample of a ``residual`` 3 run whose index is a multiple of this stores its µs whole:
#: a read sums steps from at most this far back (one HDF5 chunk of the ``*_us`` dataset).
MICROS_BLOCK = 4096
#: Fill value of the ``*_us`` dataset: µs that never reached the disk read as NaN, not as 0.
MICROS_FILL = np.iinfo(np.int32).min
#: Largest |µs| stored (int32, minus the fill value): arrivals up to ~35 min after their sample.
MICROS_LIMIT = np.iinfo(np.int32).max - 1
#: Rough stored bytes (after shuffle + gzip) used to choose a batch's encoding of arrival times:
#: a run row, an explicit float64, one µs offset.
ROW_COST, EXPLICIT_COST, MICROS_COST = 6.0, 6.0, 2.0
#: Lossless HDF5 filters of the per-sample datasets (builtin: plain h5py reads them). SWMR
#: appends and flushes work with them; they cost ~3 ms of CPU per second of 48 kHz audio.
#: The int8 ulps (mostly zeros, a few small even values) halve again at gzip level 6; they are
#: a byte a sample at most, so the higher level costs no measurable CPU.
COMPRESS_INT = {"compression": "gzip", "compression_opts": 6}
#: µs (steps, 4.0): level 6 takes 3 % off level 1's bytes for a text device's arrivals and 20 %
#: for a binary device's packets, for ~0.1 µs of CPU a sample; level 9 gains another 1 % at up
#: to ten times that CPU (measured in docs/PERFORMANCE.md).
COMPRESS_INT32 = {"compression": "gzip", "compression_opts": 6, "shuffle": True}
COMPRESS_FLOAT = {"compression": "gzip", "compression_opts": 1, "shuffle": True}
#: Run tables: a few rows a second (a chunk of 256 recompressed at each flush), level 6 takes 4 %
#: off level 1 (4.0; rows are what is left of a text device's timestamps).
COMPRESS_ROWS = {"compression": "gzip", "compression_opts": 6, "shuffle": True}
#: Largest difference allowed between a reconstructed time and the recorded one (10 ns; the
#: format promises 1 µs). Floating point error of an exactly linear column of host seconds is
#: far below it, so linear columns always compress.
TIME_TOL = 1e-8
#: Runs shorter than this are stored explicitly (a 32-byte row for fewer samples costs more).
MIN_RUN = 4
#: Rows per HDF5 chunk of a run table.
SEG_CHUNK = 256


def line_times(value: float, step: float, k0: int, k1: int) -> np.ndarray:
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

    # Samples before each index that differ from their predecessor: a piece [cs, ce) holds one
    # repeated value iff changes[ce - 1] == changes[cs]. Such a piece (a hand-over's arrival time,
    # shared by its samples: ~100 pieces a second of audio, ~1,000 of a serial board) is one run
    # of step 0, which `_longest_run` finds too, with ~8 NumPy calls each, holding the GIL.
    changes = np.concatenate(([0], np.cumsum(x[1:] != x[:-1]))).tolist()
    for cs, ce in pairwise(bounds):
        if ce - cs >= MIN_RUN and changes[ce - 1] == changes[cs]:
            explicit(cs)
            runs.append((start + cs, ce - cs, float(x[cs]), 0.0))
            continue
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
    """``(end, step)``: the longest ``[s, end)`` within ``[s, e)`` that ``line_times`` reproduces within ``tol``."""

    def first_bad(step: float, end: int) -> int:
        bad = np.flatnonzero(~(np.abs(line_times(x[s], step, 0, end - s) - x[s:end]) <= tol))
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


def best_line(value: float, step: float, x: np.ndarray) -> tuple[float, np.ndarray | None]:
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
        line = line_times(value, cand, 0, len(x))
        if np.array_equal(line, x):
            return cand, None
        ulps = _ulps(line, x)
        if ulps is not None and np.abs(ulps.astype(np.int16)).max() < worst:
            best, worst = (cand, ulps), np.abs(ulps.astype(np.int16)).max()
    return best


def micros_pay(runs: list[tuple[int, int, float, float]]) -> bool:
    """Whether µs after the timestamps store a batch in fewer bytes than its exact runs."""
    n = sum(r[1] for r in runs)
    explicit = sum(r[1] for r in runs if not np.isfinite(r[3]))
    return n * MICROS_COST < len(runs) * ROW_COST + explicit * EXPLICIT_COST


def to_micros(x: np.ndarray, timestamps: np.ndarray) -> np.ndarray | None:
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


def half_ulp(line: np.ndarray) -> np.ndarray:
    return np.spacing(np.abs(line)) / 2


def _ulps(line: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """``int8`` corrections that turn ``line`` into ``x`` bit for bit (the reader's formula), or None."""
    q = half_ulp(line)
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


def us_steps(ts: np.ndarray) -> np.ndarray:
    """Whole µs of each timestamp step (int64): ``round(diff * 1e6)``, computed alike by writer and reader."""
    return np.round(np.diff(ts) * 1e6).astype(np.int64)


def micros_to_steps(q: np.ndarray, ts: np.ndarray, anchor: np.ndarray, prev: tuple[int, float] | None) -> np.ndarray | None:
    """The ``*_us`` values of a ``residual`` 3 run piece: ``q`` where ``anchor``, else the µs step
    of the arrival (see the module doc); None when a step does not fit the dataset's int32.

    ``q``: µs after the timestamps ``ts``; ``prev``: ``(q, timestamp)`` of the sample before
    the piece, needed when its first sample is no anchor.
    """
    q = q.astype(np.int64)
    if prev is None:
        if len(q) and not anchor[0]:
            return None
        prev = (0, float(ts[0]) if len(ts) else 0.0)
    back_q = np.concatenate([[prev[0]], q[:-1]])
    steps = us_steps(np.concatenate([[prev[1]], ts]))
    d = np.where(anchor, q, q - back_q + steps)
    if not np.all(np.abs(d) <= MICROS_LIMIT):
        return None
    return d.astype(np.int32)


def micros_from_steps(d: np.ndarray, ts: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """µs after ``ts`` (float64; NaN where a value never reached the disk, and after it up to the
    next anchor) from ``*_us`` values that start at an anchor: the inverse of `micros_to_steps`."""
    n = len(d)
    if n == 0:
        return np.empty(0)
    anchor = anchor.copy()
    anchor[0] = True
    missing = d == MICROS_FILL
    e = d.astype(np.int64)
    e[1:] = np.where(anchor[1:], e[1:], e[1:] - us_steps(ts))
    e[missing] = 0
    group = np.cumsum(anchor) - 1
    c = np.cumsum(e)
    first = np.flatnonzero(anchor)
    q = (c - (c[first] - e[first])[group]).astype(np.float64)
    lost = np.cumsum(missing)
    lost_before = (lost[first] - missing[first])[group]
    q[lost - lost_before > 0] = np.nan  # a step after a lost value cannot be summed
    return q
