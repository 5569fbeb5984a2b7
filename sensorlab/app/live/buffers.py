"""Display buffers of the live panels: a rolling window readable without copies, incremental
min/max envelopes, and coarser envelopes for reduced detail (`LiveView.set_detail`).

Qt-free NumPy; the panels (`timeseries.py`, `audio.py`) hand these arrays to their
plot items once per frame.
"""

from __future__ import annotations

import numpy as np


class RollingBuffer:
    """The newest ``capacity`` rows of ``(t, values)``, readable as contiguous views.

    Values are stored channel-major (``v[channel, row]``) so each channel handed to a curve
    is contiguous. Backed by arrays of twice the capacity so appending rarely allocates and
    reading never copies; when the write position reaches the end, the newest ``capacity``
    rows are copied to the front of *new* arrays (one copy every ``capacity`` rows).

    A view handed out is never written again: pyqtgraph keeps the arrays given to
    ``setData``/``setImage`` and may draw them later (a hidden curve is not updated every
    frame, then shown again), so compacting in place made such a curve draw other samples.
    """

    def __init__(self, capacity: int, width: int, dtype=np.float32):
        self.capacity = max(1, int(capacity))
        self.t = np.zeros(2 * self.capacity, dtype=np.float64)
        self.v = np.zeros((width, 2 * self.capacity), dtype=dtype)
        self._end = 0
        self.total = 0  # rows ever appended: the absolute index of a row is stable

    def append(self, t: np.ndarray, values: np.ndarray) -> None:
        """Append ``n`` timestamps and ``(n, width)`` values."""
        n = len(t)
        self.total += n
        if n >= self.capacity:
            t, values, n = t[-self.capacity :], values[-self.capacity :], self.capacity
        if self._end + n > 2 * self.capacity:
            keep = self.capacity - n
            t_new, v_new = np.empty_like(self.t), np.empty_like(self.v)
            t_new[:keep] = self.t[self._end - keep : self._end]
            v_new[:, :keep] = self.v[:, self._end - keep : self._end]
            self.t, self.v, self._end = t_new, v_new, keep
        self.t[self._end : self._end + n] = t
        self.v[:, self._end : self._end + n] = values.reshape(n, -1).T
        self._end += n

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        """``(t, v)``: ``t`` of shape ``(n,)`` and ``v`` of shape ``(width, n)``."""
        start, stop = self.span()
        return self.t[start:stop], self.v[:, start:stop]

    def span(self) -> tuple[int, int]:
        """Columns ``start:stop`` of the backing arrays ``t`` / ``v`` that `view` returns."""
        return max(0, self._end - self.capacity), self._end

    def __len__(self) -> int:
        return min(self._end, self.capacity)


#: Blocks of at least this many samples are reduced channel by channel (`PeakEnvelope.add`);
#: shorter ones (1 kHz streams' blocks of 8) in place, where transposing costs more than it saves.
CHANNEL_MAJOR_BLOCK = 16


def pull_since(ring, t: float) -> tuple[np.ndarray, np.ndarray] | None:
    """``(timestamps, data)`` of ``ring``'s samples after ``t``, or None when there are none.

    A panel draws only these two: `ChunkRing.since` also joins every chunk's device and
    arrival times, two more joins over ~100 chunks a second a stream on the GUI thread."""
    chunks = ring.since_chunks(t)
    if not chunks:
        return None
    if len(chunks) == 1:
        return chunks[0].timestamps, np.asarray(chunks[0].data)
    return np.concatenate([c.timestamps for c in chunks]), np.concatenate([c.data for c in chunks])


class PeakEnvelope:
    """Incremental min/max decimation of a multi-channel stream into a `RollingBuffer`.

    Every ``block`` samples become two rows (the block's minimum at its first timestamp and
    its maximum at its last), so a 10 s window of 1 kHz data is drawn with ~1 400 points per
    channel and each frame only decimates the samples that arrived since the last one. With
    ``block == 1`` samples pass through unchanged.
    """

    def __init__(self, block: int, window_samples: int, width: int):
        self.block = max(1, int(block))
        self.window_samples = int(window_samples)
        self.buffer = RollingBuffer(self._rows(self.block), width)
        self._pending_t = np.zeros(0, dtype=np.float64)
        self._pending_v = np.zeros((0, width), dtype=np.float32)

    def _rows(self, block: int) -> int:
        return self.window_samples if block == 1 else 2 * (self.window_samples // block + 1)

    def rebin(self, block: int) -> None:
        """From now on make one min/max pair per ``block`` samples (a multiple or a divisor of
        the current block). Rows already made are kept: for a coarser block they are merged
        into the new pairs (still the exact min and max of their stretch, `coarsen`); for a
        finer one they stay as they are and scroll out within one window."""
        block = max(1, int(block))
        if block == self.block:
            return
        t, v = self.buffer.view()
        if block > self.block and len(t):
            group = block if self.block == 1 else 2 * (block // self.block)
            t, v = coarsen(t, v, group, first=self.buffer.total - len(t))
        buffer = RollingBuffer(self._rows(block), v.shape[0])
        if len(t):
            buffer.append(t, v.T)
        self.buffer, self.block = buffer, block

    def add(self, t: np.ndarray, values: np.ndarray) -> None:
        if self.block == 1:
            self.buffer.append(t, values)
            return
        if len(self._pending_t):
            t = np.concatenate([self._pending_t, t])
            values = np.concatenate([self._pending_v, values])
        n = len(t) // self.block
        if n:
            m = n * self.block
            width = values.shape[1]
            rows = np.empty((2 * n, width), dtype=np.float32)
            if self.block >= CHANNEL_MAJOR_BLOCK:
                # Each channel's blocks contiguous: NumPy reduces along a contiguous axis several
                # times faster than across the strided middle axis of (blocks, block, channels)
                # (stereo 48 kHz, blocks of 512: ~300 → ~50 µs for 1/20 s of audio).
                blocks = np.ascontiguousarray(values[:m].T).reshape(width, n, self.block)
                rows[0::2] = blocks.min(axis=2).T
                rows[1::2] = blocks.max(axis=2).T
            else:
                blocks = values[:m].reshape(n, self.block, width)
                rows[0::2] = blocks.min(axis=1)
                rows[1::2] = blocks.max(axis=1)
            tb = t[:m].reshape(n, self.block)
            times = np.empty(2 * n)
            times[0::2] = tb[:, 0]
            times[1::2] = tb[:, -1]
            self.buffer.append(times, rows)
        self._pending_t = t[n * self.block :]
        self._pending_v = values[n * self.block :]


def coarsen(t: np.ndarray, v: np.ndarray, group: int, first: int) -> tuple[np.ndarray, np.ndarray]:
    """Envelope rows ``(t, v[channel, row])`` merged ``group`` at a time into one min/max pair.

    A group's minimum is drawn at its first time and its maximum at its last, so the coarse
    curve still spans every value the fine one drew. Groups are aligned to the absolute row
    index (``first`` is that of row 0), so a curve does not shimmer as new rows arrive.

    Examples
    --------
    >>> t, v = coarsen(np.arange(8.0), np.array([[0, 5, 1, 2, 9, 3, 4, 4.0]]), 4, first=0)
    >>> t.tolist(), v.tolist()
    ([0.0, 3.0, 4.0, 7.0], [[0.0, 5.0, 3.0, 9.0]])
    """
    skip = (-first) % group
    t, v = t[skip:], v[:, skip:]
    n = len(t)
    full = n // group
    m = full * group
    lo = [v[:, :m].reshape(len(v), full, group).min(axis=2)]
    hi = [v[:, :m].reshape(len(v), full, group).max(axis=2)]
    t_lo, t_hi = [t[:m:group]], [t[group - 1 : m : group]]
    if n > m:  # the newest, incomplete group
        lo.append(v[:, m:].min(axis=1, keepdims=True))
        hi.append(v[:, m:].max(axis=1, keepdims=True))
        t_lo.append(t[m : m + 1])
        t_hi.append(t[n - 1 :])
    k = full + (n > m)
    out_t = np.empty(2 * k)
    out_t[0::2], out_t[1::2] = np.concatenate(t_lo), np.concatenate(t_hi)
    out_v = np.empty((len(v), 2 * k), dtype=v.dtype)
    out_v[:, 0::2], out_v[:, 1::2] = np.concatenate(lo, axis=1), np.concatenate(hi, axis=1)
    return out_t, out_v
