"""Building the min/max pyramid cache (`pyramid.Pyramid.iter_build` drives it).

Level ``FIRST_STORED_LEVEL`` is reduced from the raw samples in steps of `BUILD_CHUNK`
samples, so a stream is never loaded whole; each coarser level is reduced from the level
below it. Data are appended before times and flushed after every step: a build killed at
any point leaves complete blocks behind, and the next build resumes after them (a level's
length is the shortest of its three datasets). Block times are stored as recorded; the
reader applies the stream's current sync offset.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import h5py
import numpy as np

from sensorlab.session.reader import StreamReader

#: Samples per block grow by this factor from one level to the next.
BLOCK_FACTOR = 8
#: Levels below this one (blocks of 1 and 8 samples) are computed from raw samples on demand:
#: storing them would make the cache nearly as large as the recording.
FIRST_STORED_LEVEL = 2
#: Raw samples read per step while building (a multiple of every stored block size up to 8**6).
BUILD_CHUNK = BLOCK_FACTOR**6 * 4
#: Stop adding levels once a level has at most this many blocks.
TOP_BLOCKS = 256


def fingerprint(session_path: Path) -> tuple[int, int]:
    """The session file's size and modification time, recorded in the cache to tell it is stale."""
    st = os.stat(session_path)
    return int(st.st_size), int(st.st_mtime_ns)


def channel_count(stream: StreamReader) -> int:
    shape = stream.info.sample_shape
    return int(np.prod(shape)) if shape else 1


def as_float_2d(data: np.ndarray, n: int) -> np.ndarray:
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


def build_stream(f: h5py.File, g: h5py.Group, stream: StreamReader) -> Generator[float, None, None]:
    """Build (or resume) the levels of one stream into group ``g`` of the open cache ``f``,
    yielding the fraction done; marks ``g`` complete at the end."""
    n, ch = stream.count, channel_count(stream)
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
            x = as_float_2d(chunk.data, i1 - i)
            lo, hi = block_minmax(x, b0)
            # Times as recorded: the reader subtracts the sync offset in force now,
            # which the user may change after the cache is built.
            _append(base, chunk.timestamps[::b0] + stream.offset, lo, hi, at=i // b0)
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
            _append(cur, prev["t"][j:j1:BLOCK_FACTOR], lo, hi, at=j // BLOCK_FACTOR)
            j = j1
        cur.attrs["complete"] = True
        f.flush()
    g.attrs["complete"] = True
    yield 1.0


def _append(lg: h5py.Group, t: np.ndarray, lo: np.ndarray, hi: np.ndarray, at: int) -> None:
    # Data first, times last: on resume a level's length is the shortest of the three.
    for key, values in (("min", lo), ("max", hi), ("t", t)):
        d = lg[key]
        d.resize(at + len(values), axis=0)
        d[at:] = values


__all__ = [
    "BLOCK_FACTOR", "BUILD_CHUNK", "FIRST_STORED_LEVEL", "TOP_BLOCKS",
    "as_float_2d", "block_minmax", "build_stream", "channel_count", "fingerprint",
]
