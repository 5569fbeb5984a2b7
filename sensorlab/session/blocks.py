"""Read long streams in time blocks, with overlap for windowing: the public reader API.

An hour of 48 kHz stereo is 1.4 GB as float64, so anything that walks a whole stream
(suggestions, dataset building, offline predictions) reads it block by block::

    with Session.open("run1.h5") as s:
        for block in iter_blocks(s.streams["mic"], block_s=30, overlap_s=1.0):
            windows = frame(block.data, block.timestamps)      # sees 1 s of context
            use(block.new_data, block.new_timestamps)          # each sample exactly once

Every sample in ``[t0, t1]`` (both ends included) is a *new* sample of exactly one block,
so concatenating the blocks' new samples gives the same samples as one full read. A block
also starts with ``overlap`` samples repeated from before its start (the last
``overlap_s`` seconds), so windows that straddle a block edge can be built.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from sensorlab.acquisition.source import Chunk, StreamInfo


class ReadableStream(Protocol):
    """What `iter_blocks` needs of a stream; `sensorlab.session.reader.StreamReader` has it."""

    info: StreamInfo

    @property
    def count(self) -> int: ...
    @property
    def first_time(self) -> float: ...
    @property
    def last_time(self) -> float: ...
    def read(self, t0: float, t1: float) -> Chunk: ...


@dataclass(frozen=True)
class Block:
    """One block of a stream: ``overlap`` repeated samples, then the new ones."""

    data: np.ndarray
    timestamps: np.ndarray
    overlap: int  # leading samples repeated from earlier blocks (context for windowing)
    start: float  # the new samples lie in [start, end) (the last block includes its end)
    end: float
    progress: float  # fraction of [t0, t1] covered once this block is done, 0..1

    @property
    def new_data(self) -> np.ndarray:
        return self.data[self.overlap :]

    @property
    def new_timestamps(self) -> np.ndarray:
        return self.timestamps[self.overlap :]

    def __len__(self) -> int:
        return len(self.timestamps)


def stream_span(stream: ReadableStream) -> tuple[int, float, float]:
    """(sample count, first time, last time) without loading the timestamps.

    A minimal stream object with only ``timestamps`` (an in-memory array) works too."""
    if hasattr(stream, "count") and hasattr(stream, "first_time"):
        return int(stream.count), float(stream.first_time), float(stream.last_time)
    ts = np.asarray(stream.timestamps)  # type: ignore[attr-defined]
    return (len(ts), float(ts[0]), float(ts[-1])) if len(ts) else (0, np.nan, np.nan)


def iter_blocks(
    stream: ReadableStream,
    block_s: float = 60.0,
    overlap_s: float = 0.0,
    t0: float | None = None,
    t1: float | None = None,
    **read_kwargs: Any,
) -> Iterator[Block]:
    """Blocks of ``block_s`` seconds over ``[t0, t1]`` (default: the whole stream).

    Parameters
    ----------
    block_s
        Seconds of new samples per block (a block may be empty: a gap; it still reports
        progress).
    overlap_s
        Seconds of samples before each block's start that it repeats (0: none).
    **read_kwargs
        Passed to ``stream.read`` (e.g. ``decode=False`` for JPEG bytes).

    Examples
    --------
    >>> total = sum(len(b.new_timestamps) for b in iter_blocks(s.streams["imu"], 10))  # doctest: +SKIP
    """
    if block_s <= 0 or overlap_s < 0:
        raise ValueError(f"block_s must be > 0 and overlap_s >= 0 (got {block_s}, {overlap_s})")
    count, first, last = stream_span(stream)
    if count == 0:
        return
    t0 = first if t0 is None else float(t0)
    t1 = last if t1 is None else float(t1)
    span = max(t1 - t0, 1e-12)
    newest = -np.inf  # a sample is new once: whether `read` includes its end bound or not
    ctx_data: np.ndarray | None = None
    ctx_ts = np.empty(0)
    t = t0
    while t <= t1:
        hi = min(t + block_s, t1)
        final = hi >= t1
        chunk = stream.read(t, np.nextafter(hi, np.inf) if final else hi, **read_kwargs)
        ts = np.asarray(chunk.timestamps, dtype=np.float64)
        keep = (ts > newest) & (ts >= t0) & (ts <= t1)
        data, ts = np.asarray(chunk.data)[keep], ts[keep]
        if len(ts):
            newest = float(ts[-1])
        if overlap_s > 0 and ctx_data is not None and len(ctx_ts):
            c = ctx_ts >= t - overlap_s
            n_ctx = int(c.sum())
            out_data = np.concatenate((ctx_data[c], data)) if len(data) else ctx_data[c]
            out_ts = np.concatenate((ctx_ts[c], ts))
        else:
            n_ctx, out_data, out_ts = 0, data, ts
        yield Block(out_data, out_ts, n_ctx, t, hi, (hi - t0) / span)
        if overlap_s > 0:
            ctx_data, ctx_ts = out_data, out_ts
        if final:
            break
        t = hi


__all__ = ["Block", "ReadableStream", "iter_blocks", "stream_span"]
