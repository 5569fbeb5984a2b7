"""Bounded per-stream ring buffers for the live view, pre-roll and live inference.

The recorder gets a lossless queue; everything that only needs *recent* data reads from one
of these instead, which drop the oldest samples (and count them) rather than grow.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from sensorlab.acquisition.source import Chunk


def concat_chunks(chunks: list[Chunk]) -> Chunk | None:
    """Join chunks of one stream into one (None when empty)."""
    if not chunks:
        return None
    if len(chunks) == 1:
        return chunks[0]

    def cat(attr: str) -> np.ndarray | None:
        parts = [getattr(c, attr) for c in chunks]
        return None if any(p is None for p in parts) else np.concatenate(parts)

    return Chunk(
        data=np.concatenate([c.data for c in chunks]),
        timestamps=np.concatenate([c.timestamps for c in chunks]),
        device_times=cat("device_times"),
        arrival_times=cat("arrival_times"),
    )


class ChunkRing:
    """The most recent ``seconds`` (and at most ``max_samples``) of one stream.

    `append` is called on the device thread; `since`, `snapshot` and `latest` from any
    thread. Old chunks are dropped whole; ``dropped`` counts samples that fell off the end
    without having been read by `since`.

    A consumer on its own thread (a processor) blocks in `wait` until a newer sample
    arrives instead of polling. Rings given the same ``wakeup`` condition share its lock, so
    one thread can wait for new data on any of them (`wait_any`).
    """

    def __init__(self, seconds: float = 10.0, max_samples: int | None = None, wakeup: threading.Condition | None = None):
        self.seconds = seconds
        self.max_samples = max_samples
        self._chunks: deque[Chunk] = deque()
        # Each chunk's newest timestamp, and how many adjacent pairs run backwards in time
        # (a clock step): with none, the chunks newer than a time are a suffix, which `since`
        # finds from the newest end instead of testing all ~1,000 chunks of 10 s (0.5 ms per
        # call, paid by every processor on every wake-up).
        self._lasts: deque[float] = deque()
        self._inversions = 0
        # Adjacent pairs where a chunk starts at or before the previous one's newest sample
        # (chunks overlapping in time): without any, `since_chunks` need not join to trim.
        self._overlaps = 0
        self._samples = 0
        # The condition doubles as the ring's lock (a Condition is a context manager).
        self._lock = self._wakeup = wakeup if wakeup is not None else threading.Condition(threading.Lock())
        self._newest = float("-inf")
        # The waiting consumer only needs waking once the ring holds a sample newer than this
        # (set by `wait` / `wait_any`): a processor that waits for a whole hop is not woken by
        # every device chunk (~100 a second) to find it has nothing to do yet.
        self._notify_after = float("-inf")
        self.closed = False
        self.dropped = 0
        self.total = 0  # samples ever appended
        self._read_upto = float("-inf")

    def append(self, chunk: Chunk) -> None:
        if len(chunk) == 0:
            return
        with self._lock:
            newest = chunk.timestamps[-1]
            last = float(newest)
            if self._lasts:
                if last < self._lasts[-1]:
                    self._inversions += 1
                if chunk.timestamps[0] <= self._lasts[-1]:
                    self._overlaps += 1
            self._chunks.append(chunk)
            self._lasts.append(last)
            self._samples += len(chunk)
            self.total += len(chunk)
            self._newest = max(self._newest, last)
            while len(self._chunks) > 1 and (
                self._chunks[0].timestamps[-1] < newest - self.seconds
                or (self.max_samples is not None and self._samples - len(self._chunks[0]) >= self.max_samples)
            ):
                if len(self._lasts) > 1:
                    if self._lasts[0] > self._lasts[1]:
                        self._inversions -= 1
                    if self._chunks[1].timestamps[0] <= self._lasts[0]:
                        self._overlaps -= 1
                self._lasts.popleft()
                old = self._chunks.popleft()
                self._samples -= len(old)
                if old.timestamps[-1] > self._read_upto:
                    self.dropped += int(np.count_nonzero(old.timestamps > self._read_upto))
            if self._newest > self._notify_after:
                self._wakeup.notify_all()

    def wait(self, after: float, timeout: float | None = None) -> bool:
        """Block until the ring holds a sample newer than ``after`` (True) or `close` / the
        timeout (False, unless data arrived meanwhile)."""
        with self._wakeup:
            self._notify_after = after
            return self._wakeup.wait_for(lambda: self._newest > after or self.closed, timeout) and self._newest > after

    def close(self) -> None:
        """Wake every thread blocked in `wait` (the consumer is stopping)."""
        with self._wakeup:
            self.closed = True
            self._wakeup.notify_all()

    def snapshot(self) -> Chunk | None:
        """Everything held, oldest first."""
        with self._lock:
            chunks = list(self._chunks)
        return concat_chunks(chunks)

    def _suffix(self, t: float) -> list[Chunk]:
        """The chunks with a sample after ``t`` (held lock); marks them read."""
        if self._inversions:
            chunks = [c for c in self._chunks if c.timestamps[-1] > t]
        else:
            k = 0
            for last in reversed(self._lasts):
                if last <= t:
                    break
                k += 1
            chunks = [self._chunks[i] for i in range(len(self._chunks) - k, len(self._chunks))]
        if chunks:
            self._read_upto = max(self._read_upto, float(chunks[-1].timestamps[-1]))
        return chunks

    def since(self, t: float) -> Chunk | None:
        """Samples with a timestamp after ``t`` (the consumer keeps its own ``t``)."""
        with self._lock:
            chunks = self._suffix(t)
        return _after(concat_chunks(chunks), t)

    def since_chunks(self, t: float) -> list[Chunk]:
        """`since` without joining: the chunks themselves, every sample after ``t``.

        For a consumer that joins only what it needs (live inference joins the timestamps and
        samples, not the device and arrival times, once per hop). When the first chunk also
        holds older samples, or chunks overlap in time (a clock step), it is `since`'s one
        joined chunk."""
        with self._lock:
            chunks = self._suffix(t)
            overlaps = self._overlaps
        if not chunks or (not overlaps and chunks[0].timestamps[0] > t):
            return chunks
        joined = _after(concat_chunks(chunks), t)
        return [] if joined is None or not len(joined) else [joined]

    def latest(self) -> Chunk | None:
        """The newest chunk (a video frame, a radar map)."""
        with self._lock:
            return self._chunks[-1] if self._chunks else None

    def clear(self) -> None:
        with self._lock:
            self._chunks.clear()
            self._lasts.clear()
            self._inversions = self._overlaps = 0
            self._samples = 0
            self._newest = float("-inf")

    @property
    def newest_time(self) -> float:
        with self._lock:
            return float(self._chunks[-1].timestamps[-1]) if self._chunks else float("nan")


def _after(joined: Chunk | None, t: float) -> Chunk | None:
    """The samples of ``joined`` after ``t``."""
    if joined is None:
        return None
    keep = joined.timestamps > t
    if keep.all():
        return joined
    return Chunk(
        data=joined.data[keep],
        timestamps=joined.timestamps[keep],
        device_times=None if joined.device_times is None else joined.device_times[keep],
        arrival_times=None if joined.arrival_times is None else joined.arrival_times[keep],
    )


def wait_any(rings: dict[str, ChunkRing], after: dict[str, float], wakeup: threading.Condition, timeout: float | None = None) -> bool:
    """Block until any ring holds a sample newer than its ``after[name]``, or one is closed.

    Every ring must have been created with ``wakeup`` (`Acquisition.ring(..., wakeup=)`):
    their appends notify it, so one consumer thread sleeps until there is work, never polls.
    Returns True when there is new data.
    """

    def ready() -> bool:
        return any(r._newest > after[n] for n, r in rings.items())

    with wakeup:
        for n, r in rings.items():
            r._notify_after = after[n]
        return wakeup.wait_for(lambda: ready() or any(r.closed for r in rings.values()), timeout) and ready()
