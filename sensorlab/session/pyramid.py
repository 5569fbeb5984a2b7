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
inside the recording (rewriting an HDF5 file that is also a recording risks the
recording). It is built block by block (`iter_build` yields progress, so a GUI worker can
show it; the building itself is `pyramid_build.py`) and never loads a whole stream. A
build that was interrupted resumes where it stopped. The cache records the session file's
size and modification time; when either changes (the session was recovered, re-recorded,
or is still growing) the cache is rebuilt. Block times are stored as recorded and the
stream's current sync offset (``run1.sync.json``) is applied when they are read, so
re-syncing a session moves every level with the raw samples and needs no rebuild.

Qt-free. A `Pyramid` is used from one thread at a time (h5py serialises access anyway).

Examples
--------
>>> with Session.open("run1.h5") as s:                                # doctest: +SKIP
...     pyr = Pyramid.open(s)            # builds the cache if missing or stale
...     t, lo, hi = pyr.query("mic", 0, t0, t0 + 3600, max_points=1500)
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np

from sensorlab.acquisition.source import StreamKind
from sensorlab.progress import run_to_end
from sensorlab.session.format import PYRAMID_SUFFIX
from sensorlab.session.pyramid_build import (
    BLOCK_FACTOR,
    FIRST_STORED_LEVEL,
    as_float_2d,
    block_minmax,
    build_stream,
    channel_count,
    fingerprint,
)
from sensorlab.session.reader import Session

log = logging.getLogger(__name__)

#: Levels at most this large (bytes of min + max) are kept in memory after first use.
MEMORY_LEVEL_BYTES = 16 * 1024 * 1024
#: Bump when the cache layout changes; an older cache is then rebuilt. Version 2 stores the
#: times as recorded (without the session's sync offsets, which may change after the build).
CACHE_VERSION = 2
CACHE_SUFFIX = PYRAMID_SUFFIX

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
        return run_to_end(cls.iter_open(session, path))

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

    @classmethod
    def iter_open_text(cls, session: Session) -> Generator[str, None, Pyramid]:
        """`iter_open` with its progress as text ("42%"), for a worker's status line."""
        gen = cls.iter_open(session)
        while True:
            try:
                p = next(gen)
            except StopIteration as stop:
                return stop.value
            yield f"{p:.0%}"

    def is_valid(self) -> bool:
        """True when a complete cache for the current session file exists."""
        try:
            with h5py.File(self.path, "r") as f:
                return self._matches(f) and all(n in f and f[n].attrs.get("complete", False) for n in self.streams)
        except (OSError, KeyError):
            return False

    def _matches(self, f: h5py.File) -> bool:
        size, mtime = fingerprint(self.session_path)
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
        size, mtime = fingerprint(self.session_path)
        work = {n: self.session.streams[n].count * channel_count(self.session.streams[n]) for n in self.streams}
        total = max(1, sum(work.values()))
        done = 0
        with h5py.File(self.path, "a") as f:
            f.attrs.update(version=CACHE_VERSION, session_size=size, session_mtime_ns=mtime,
                           block_factor=BLOCK_FACTOR, first_level=FIRST_STORED_LEVEL)
            for name in self.streams:
                g = f.require_group(name)
                if not g.attrs.get("complete", False):
                    for frac in build_stream(f, g, self.session.streams[name]):
                        yield (done + frac * work[name]) / total
                done += work[name]
                yield done / total

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
            j0 = max(0, int(tk.searchsorted(t0, "right")) - 1)  # (the method: np.searchsorted wraps it in Python)
            j1 = int(tk.searchsorted(t1, "right"))
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
        x = as_float_2d(chunk.data, n)
        if k == 0:
            return Envelope(chunk.timestamps, x, x)
        lo, hi = block_minmax(x, bs)
        return Envelope(chunk.timestamps[::bs], lo, hi)


__all__ = ["BLOCK_FACTOR", "Envelope", "Pyramid", "block_minmax", "cache_path"]
