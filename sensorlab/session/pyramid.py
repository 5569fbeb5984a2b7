"""Min/max decimation pyramid of a session's signal streams, cached next to the recording.

Drawing an hour of 48 kHz audio means 173 M samples; a screen is ~1 500 pixels wide. The
labeling timeline therefore never draws raw samples of a long range. It asks `Pyramid.query`
for at most ``max_points`` min/max pairs (one per pixel, i.e. two vertices per pixel) and
the pyramid answers from the coarsest level that still resolves one pixel:

- level ``k`` holds, per channel, the min and the max over blocks of ``B**k`` consecutive
  samples (``B`` = `BLOCK_FACTOR`), plus the timestamp of each block's first sample;
- levels ``k >= FIRST_STORED_LEVEL`` are stored; finer levels (blocks of ``B`` samples, and
  raw samples) are computed on the fly from at most ``max_points * B`` raw samples;
- blocks are aligned to global sample indices, so block ``j`` of level ``k`` covers samples
  ``[j * B**k, (j + 1) * B**k)`` whatever range was asked for.

The cache lives in its own file, ``run1.h5`` → ``run1.pyramid.h5`` (`cache_path`), never
inside the recording (rewriting an HDF5 file that is also a recording risks the recording).
It is built block by block (`iter_build` yields progress, so a GUI worker can show it)
and never loads a whole stream. A build that was interrupted resumes where it stopped. The
cache records the session file's size and modification time; when either changes (the
session was recovered, re-recorded, or is still growing) the cache is rebuilt. Block times
are stored as recorded and the stream's current sync offset (``run1.sync.json``) is applied
when they are read, so re-syncing a session moves every level with the raw samples and needs
no rebuild.

Qt-free. A `Pyramid` is used from one thread at a time (h5py serialises access anyway).

Examples
--------
>>> with Session.open("run1.h5") as s:                                # doctest: +SKIP
...     pyr = Pyramid.open(s)            # builds the cache if missing or stale
...     t, lo, hi = pyr.query("mic", 0, t0, t0 + 3600, max_points=1500)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Generator
from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np

from sensorlab.acquisition.source import StreamKind
from sensorlab.session.reader import Session, StreamReader

log = logging.getLogger(__name__)

#: Samples per block grow by this factor from one level to the next.
BLOCK_FACTOR = 8
#: Levels below this one (blocks of 1 and 8 samples) are computed from raw samples on demand:
#: storing them would make the cache nearly as large as the recording.
FIRST_STORED_LEVEL = 2
#: Raw samples read per step while building (a multiple of every stored block size up to 8**6).
BUILD_CHUNK = BLOCK_FACTOR**6 * 4
#: Stop adding levels once a level has at most this many blocks.
TOP_BLOCKS = 256
#: Levels at most this large (bytes of min + max) are kept in memory after first use.
MEMORY_LEVEL_BYTES = 16 * 1024 * 1024
#: Bump when the cache layout changes; an older cache is then rebuilt. Version 2 stores the
#: times as recorded (without the session's sync offsets, which may change after the build).
CACHE_VERSION = 2
CACHE_SUFFIX = ".pyramid.h5"

#: Stream kinds that get a pyramid (numeric samples of one or more channels).
PYRAMID_KINDS = (StreamKind.AUDIO, StreamKind.TIMESERIES)


class Envelope(NamedTuple):
    """Result of a query: ``t`` (n,) block start times, ``min`` / ``max`` (n,) or (n, C)."""

    t: np.ndarray
    min: np.ndarray
    max: np.ndarray


def cache_path(session_path: str | Path) -> Path:
    """The pyramid cache of a session: ``run1.h5`` → ``run1.pyramid.h5``.

    Examples
    --------
    >>> cache_path("/data/run1.h5").name
    'run1.pyramid.h5'
    """
    p = Path(session_path)
    return p.with_name(p.stem + CACHE_SUFFIX)


def _fingerprint(session_path: Path) -> tuple[int, int]:
    st = os.stat(session_path)
    return int(st.st_size), int(st.st_mtime_ns)


def _channels(stream: StreamReader) -> int:
    shape = stream.info.sample_shape
    return int(np.prod(shape)) if shape else 1


def _as_2d(data: np.ndarray, n: int) -> np.ndarray:
    data = np.asarray(data)
    # reshape(0, -1) is ambiguous to NumPy: an empty read (a view scrolled past a stream's
    # end) keeps its channel count from the array's own shape.
    x = data.reshape(n, -1) if n else data.reshape(0, int(np.prod(data.shape[1:], dtype=int)))
    if x.dtype.kind in "iu":
        # Integer audio (int16 PCM) is drawn in full-scale units like float audio.
        scale = float(np.iinfo(x.dtype).max) + 1.0
        return x.astype(np.float32) / scale
    return x.astype(np.float32, copy=False)


def block_minmax(x: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max over consecutive blocks of ``block`` rows (the last block may be short).

    Examples
    --------
    >>> lo, hi = block_minmax(np.arange(10.0).reshape(10, 1), 4)
    >>> lo.ravel().tolist(), hi.ravel().tolist()
    ([0.0, 4.0, 8.0], [3.0, 7.0, 9.0])
    """
    n = len(x)
    full = n // block
    parts_lo, parts_hi = [], []
    if full:
        body = x[: full * block].reshape(full, block, *x.shape[1:])
        parts_lo.append(body.min(axis=1))
        parts_hi.append(body.max(axis=1))
    if n > full * block:
        tail = x[full * block :]
        parts_lo.append(tail.min(axis=0, keepdims=True))
        parts_hi.append(tail.max(axis=0, keepdims=True))
    if not parts_lo:
        empty = np.empty((0, *x.shape[1:]), dtype=x.dtype)
        return empty, empty.copy()
    return np.concatenate(parts_lo), np.concatenate(parts_hi)


def _count(span: tuple[int, int, int]) -> int:
    return span[2] - span[1]


class Pyramid:
    """Min/max pyramid of every audio and time-series stream of one open `Session`.

    Use `Pyramid.open` (builds or resumes the cache) or `Pyramid.iter_open` (the same as
    a generator yielding progress in [0, 1], for a GUI worker thread).

    Parameters
    ----------
    session
        The open session; it must stay open while the pyramid is used.
    path
        Cache file (default `cache_path` of the session).
    """

    def __init__(self, session: Session, path: str | Path | None = None):
        self.session = session
        self.session_path = Path(session.recovered_from or session.path)
        self.path = Path(path) if path is not None else cache_path(self.session_path)
        self.streams = [n for n, s in session.streams.items() if s.info.kind in PYRAMID_KINDS and s.count > 0]
        self._f: h5py.File | None = None
        self._mem: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._t_mem: dict[tuple[str, int, float], np.ndarray] = {}
        self._levels: dict[str, list[int]] = {}
        self._datasets: dict[tuple[str, int], tuple[h5py.Dataset, h5py.Dataset]] = {}

    # -- opening and building ---------------------------------------------------------------
    @classmethod
    def open(cls, session: Session, path: str | Path | None = None) -> Pyramid:
        """Open the cache, building (or finishing) it first if needed. Caller's thread."""
        gen = cls.iter_open(session, path)
        while True:
            try:
                next(gen)
            except StopIteration as stop:
                return stop.value

    @classmethod
    def iter_open(cls, session: Session, path: str | Path | None = None) -> Generator[float, None, Pyramid]:
        """Like `open`, yielding build progress in [0, 1]; runs on the caller's thread.

        Examples
        --------
        >>> worker = thread_worker(Pyramid.iter_open)(session)   # doctest: +SKIP
        """
        pyr = cls(session, path)
        yield from pyr.iter_build()
        pyr._open_read()
        return pyr

    def is_valid(self) -> bool:
        """True when a complete cache for the current session file exists."""
        try:
            with h5py.File(self.path, "r") as f:
                return self._matches(f) and all(n in f and f[n].attrs.get("complete", False) for n in self.streams)
        except (OSError, KeyError):
            return False

    def _matches(self, f: h5py.File) -> bool:
        size, mtime = _fingerprint(self.session_path)
        return (
            int(f.attrs.get("version", -1)) == CACHE_VERSION
            and int(f.attrs.get("session_size", -1)) == size
            and int(f.attrs.get("session_mtime_ns", -1)) == mtime
            and int(f.attrs.get("block_factor", -1)) == BLOCK_FACTOR
        )

    def iter_build(self) -> Generator[float, None, None]:
        """Build missing or stale parts of the cache, yielding progress in [0, 1].

        Work is weighted by raw samples × channels. Safe to interrupt (close the generator or
        kill the process): complete blocks written so far are kept and the next build resumes.
        """
        self.close()
        if self.is_valid():
            return  # reuse: the cache is not even opened for writing
        if self.path.exists():
            try:
                with h5py.File(self.path, "r") as f:
                    stale = not self._matches(f)
            except OSError:
                stale = True  # unreadable (killed mid-write before the first flush): start over
            if stale:
                log.info("pyramid cache %s is stale or unreadable; rebuilding", self.path)
                self.path.unlink()
        size, mtime = _fingerprint(self.session_path)
        work = {n: self.session.streams[n].count * _channels(self.session.streams[n]) for n in self.streams}
        total = max(1, sum(work.values()))
        done = 0
        with h5py.File(self.path, "a") as f:
            f.attrs.update(version=CACHE_VERSION, session_size=size, session_mtime_ns=mtime,
                           block_factor=BLOCK_FACTOR, first_level=FIRST_STORED_LEVEL)
            for name in self.streams:
                g = f.require_group(name)
                if not g.attrs.get("complete", False):
                    for frac in self._build_stream(f, g, self.session.streams[name]):
                        yield (done + frac * work[name]) / total
                done += work[name]
                yield done / total

    def _build_stream(self, f: h5py.File, g: h5py.Group, stream: StreamReader) -> Generator[float, None, None]:
        n, ch = stream.count, _channels(stream)
        b0 = BLOCK_FACTOR**FIRST_STORED_LEVEL
        levels = [FIRST_STORED_LEVEL]
        while -(-n // BLOCK_FACTOR ** levels[-1]) > TOP_BLOCKS:
            levels.append(levels[-1] + 1)
        g.attrs.update(count=n, channels=ch, levels=levels)
        ds = {}
        for k in levels:
            lg = g.require_group(f"level{k}")
            rows = max(64, min(65536, -(-n // BLOCK_FACTOR**k)))
            for key, dtype, shape in (("t", "f8", ()), ("min", "f4", (ch,)), ("max", "f4", (ch,))):
                if key not in lg:
                    lg.create_dataset(key, (0, *shape), dtype, maxshape=(None, *shape), chunks=(rows, *shape))
            ds[k] = lg
        # Level FIRST_STORED_LEVEL from raw samples, resuming after the last complete block.
        base = ds[FIRST_STORED_LEVEL]
        have = min(base["t"].shape[0], base["min"].shape[0], base["max"].shape[0])
        if not base.attrs.get("complete", False):
            i = have * b0
            while i < n:
                i1 = min(n, i + BUILD_CHUNK)
                chunk = stream.read_index(i, i1)
                x = _as_2d(chunk.data, i1 - i)
                lo, hi = block_minmax(x, b0)
                # Times as recorded: the reader subtracts the sync offset in force now,
                # which the user may change after the cache is built.
                self._append(base, chunk.timestamps[::b0] + stream.offset, lo, hi, at=i // b0)
                f.flush()
                i = i1
                yield 0.9 * i / n
            base.attrs["complete"] = True
        # Coarser levels from the level below (small: 1/64 of the raw data and shrinking).
        for k_prev, k in zip(levels, levels[1:]):
            prev, cur = ds[k_prev], ds[k]
            if cur.attrs.get("complete", False):
                continue
            n_prev = prev["t"].shape[0]
            j = cur["t"].shape[0] * BLOCK_FACTOR
            step = BLOCK_FACTOR * 65536
            while j < n_prev:
                j1 = min(n_prev, j + step)
                lo, _ = block_minmax(prev["min"][j:j1], BLOCK_FACTOR)
                _, hi = block_minmax(prev["max"][j:j1], BLOCK_FACTOR)
                self._append(cur, prev["t"][j:j1:BLOCK_FACTOR], lo, hi, at=j // BLOCK_FACTOR)
                j = j1
            cur.attrs["complete"] = True
            f.flush()
        g.attrs["complete"] = True
        yield 1.0

    @staticmethod
    def _append(lg: h5py.Group, t: np.ndarray, lo: np.ndarray, hi: np.ndarray, at: int) -> None:
        # Data first, times last: on resume a level's length is the shortest of the three.
        for key, values in (("min", lo), ("max", hi), ("t", t)):
            d = lg[key]
            d.resize(at + len(values), axis=0)
            d[at:] = values

    def _open_read(self) -> None:
        self._f = h5py.File(self.path, "r")

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
        self._mem.clear()
        self._t_mem.clear()
        self._levels.clear()
        self._datasets.clear()

    def __enter__(self) -> Pyramid:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- queries ------------------------------------------------------------------------------
    def levels(self, stream: str) -> list[int]:
        """Stored levels of ``stream`` (block size ``BLOCK_FACTOR**k``)."""
        assert self._f is not None, "open the pyramid first (Pyramid.open)"
        # Asked several times per drawn frame: an HDF5 attribute read each time was a tenth
        # of a scroll frame's CPU.
        if stream not in self._levels:
            self._levels[stream] = [int(k) for k in self._f[stream].attrs["levels"]]
        return self._levels[stream]

    def level_for(self, stream: str, n_samples: int, max_points: int) -> int:
        """Finest level whose blocks over ``n_samples`` samples number at most ``max_points``.

        0 means raw samples; 1 is computed on the fly; stored levels follow; levels above
        the coarsest stored one are reduced from it in memory (only for tiny ``max_points``).
        """
        k = 0
        while -(-n_samples // BLOCK_FACTOR**k) > max(1, max_points):
            k += 1
        return k

    def _level_times(self, stream: str, k: int) -> np.ndarray:
        """Block start times of level ``k`` on the session's (sync-corrected) clock."""
        offset = self.session.streams[stream].offset
        key = (stream, k, offset)
        if key not in self._t_mem:
            raw = self._f[stream][f"level{k}"]["t"][:]  # type: ignore[index]
            self._t_mem[key] = raw - offset if offset else raw
        return self._t_mem[key]

    def _level_minmax(self, stream: str, k: int, j0: int, j1: int) -> tuple[np.ndarray, np.ndarray]:
        key = (stream, k)
        if key in self._mem:
            _, lo, hi = self._mem[key]
            return lo[j0:j1], hi[j0:j1]
        if key not in self._datasets:  # h5py's name lookups cost more than a small read
            lg = self._f[stream][f"level{k}"]  # type: ignore[index]
            self._datasets[key] = (lg["min"], lg["max"])
        dmin, dmax = self._datasets[key]
        if dmin.nbytes * 2 <= MEMORY_LEVEL_BYTES:
            self._mem[key] = (np.empty(0), dmin[:], dmax[:])
            return self._mem[key][1][j0:j1], self._mem[key][2][j0:j1]
        return dmin[j0:j1], dmax[j0:j1]

    def query(
        self, stream: str, channel: int | None, t0: float, t1: float, max_points: int
    ) -> Envelope:
        """Min/max envelope of ``stream`` over ``[t0, t1]`` with at most ``max_points`` blocks.

        Parameters
        ----------
        stream
            Stream name (an audio or time-series stream).
        channel
            Channel index, or None for all channels (``min`` / ``max`` are then ``(n, C)``).
        t0, t1
            Session-clock range; blocks overlapping it are returned (whole blocks, so the
            envelope of a pixel never depends on where the range started).
        max_points
            Upper bound on blocks returned; pass the plot width in pixels: drawn as a
            zig-zag min→max per block that is at most two vertices per pixel.

        Returns
        -------
        Envelope
            ``(t, min, max)``; at level 0 (few samples in range) these are raw samples with
            ``min == max``.
        """
        k, j0, j1 = self.locate(stream, t0, t1, max_points)
        t, lo, hi = self.blocks(stream, k, j0, j1)
        if channel is not None:
            lo, hi = lo[:, channel], hi[:, channel]
        return Envelope(t, lo, hi)

    def locate(self, stream: str, t0: float, t1: float, max_points: int) -> tuple[int, int, int]:
        """(level, first block, end block) that `query` reads for this range."""
        max_points = max(1, int(max_points))
        top = self.levels(stream)[-1]
        # Estimate the sample count from the coarsest stored level (in memory, cheap) ...
        _, a, b = self._span(stream, top, t0, t1)
        k = self.level_for(stream, (b - a) * BLOCK_FACTOR**top, max_points)
        # ... then refine: the estimate is off by up to one top-level block at each end.
        # The raw sample range (levels 0 and 1) is looked up in the file once per call.
        raw: list[tuple[int, int]] = []
        while True:
            _, j0, j1 = self._span(stream, k, t0, t1, raw)
            if j1 - j0 > max_points:
                k += 1
            elif k > 0 and _count(self._span(stream, k - 1, t0, t1, raw)) <= max_points:
                k -= 1
            else:
                return k, j0, j1

    def _span(self, stream: str, k: int, t0: float, t1: float, raw: list | None = None) -> tuple[int, int, int]:
        """Blocks of level ``k`` overlapping ``[t0, t1]``: (k, j0, j1). ``raw`` caches the raw
        sample range between calls for the same range."""
        top = self.levels(stream)[-1]
        if k >= FIRST_STORED_LEVEL:
            tk = self._level_times(stream, min(k, top))
            j0 = max(0, int(np.searchsorted(tk, t0, "right")) - 1)
            j1 = int(np.searchsorted(tk, t1, "right"))
            if k > top:
                f = BLOCK_FACTOR ** (k - top)
                j0, j1 = j0 // f, -(-j1 // f)
            return k, j0, j1
        bs = BLOCK_FACTOR**k
        if raw:
            i0, i1 = raw[0]
        else:
            i0, i1 = self._raw_index(stream, t0, after=False), self._raw_index(stream, np.nextafter(t1, np.inf), after=True)
            if raw is not None:
                raw.append((i0, i1))
        return k, max(0, i0 - 1) // bs, -(-i1 // bs)

    def _raw_index(self, stream: str, t: float, after: bool) -> int:
        """A sample index at or before (``after`` False) or at or after (True) the first sample
        with timestamp ≥ ``t``, within one first-level block of it, found in that level's block
        times (in memory) without reading the file.

        Drawing the samples of a range from a few before it to a few after it draws the same
        (the view clips them). Looking the exact index up read the block's timestamps from
        the file: two reads per frame when zoomed in, a sixth of the frame's CPU.
        """
        tk = self._level_times(stream, FIRST_STORED_LEVEL)
        j = int(np.searchsorted(tk, t, "left"))
        if j == 0:
            return 0
        b0 = BLOCK_FACTOR**FIRST_STORED_LEVEL
        # Sample (j - 1) * b0 (the start of block j - 1) is before t, sample j * b0 is not.
        return min(j * b0, self.session.streams[stream].count) if after else (j - 1) * b0 + 1

    def blocks(self, stream: str, k: int, j0: int, j1: int) -> Envelope:
        """Blocks ``j0 <= j < j1`` of level ``k`` (all channels); raw samples for ``k == 0``."""
        top = self.levels(stream)[-1]
        if k > top:
            f = BLOCK_FACTOR ** (k - top)
            t, lo, hi = self.blocks(stream, top, j0 * f, j1 * f)
            lo, _ = block_minmax(lo, f)
            _, hi = block_minmax(hi, f)
            return Envelope(t[::f], lo, hi)
        if k >= FIRST_STORED_LEVEL:
            lo, hi = self._level_minmax(stream, k, j0, j1)
            return Envelope(self._level_times(stream, k)[j0:j1], lo, hi)
        bs = BLOCK_FACTOR**k
        s = self.session.streams[stream]
        chunk = s.read_index(j0 * bs, j1 * bs)
        n = len(chunk.timestamps)
        x = _as_2d(chunk.data, n)
        if k == 0:
            return Envelope(chunk.timestamps, x, x)
        lo, hi = block_minmax(x, bs)
        return Envelope(chunk.timestamps[::bs], lo, hi)


__all__ = ["BLOCK_FACTOR", "Envelope", "Pyramid", "block_minmax", "cache_path"]
