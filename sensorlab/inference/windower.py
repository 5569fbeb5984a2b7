"""`Windower`: turns a stream arriving in chunks (live) or blocks (a recorded session) into windows.

Windows start at ``anchor + j * hop`` where the anchor is the first sample seen (after a
reset), exactly as the dataset build places them from a stream's first sample
(`sensorlab.datasets.windows.window_starts`), and their samples are cut by the dataset's own
`cut_windows` (resampling, gap filling): a window's samples depend only on its start and the
samples around it, so the engine and training see the same input.

A window is ready once the samples up to its end, plus the resampling filter's margin
(`resample_margin`, under a millisecond for 48 → 16 kHz), have arrived. Only those samples
are kept: memory is one window plus the margin, whatever the window/hop ratio.

When resampling, the first windows of a grid that lie within the margin of its first sample
are not cut (the filter would pad there, and the result would depend on where the samples
began). A gap in the timestamps (more than `gap_threshold`: 2.5 sample periods) restarts the grid
at the first sample after it, so no window spans a gap; `push` reports it so a stateful
model can reset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sensorlab.datasets.resample import gap_threshold, resample_margin
from sensorlab.datasets.windows import EPS, cut_windows, n_samples


@dataclass
class Ready:
    """Windows cut from one `push`: starts, samples ``(W, n, C)``, and whether a gap preceded them."""

    starts: np.ndarray
    data: np.ndarray
    after_gap: bool  # the grid restarted (first samples, or a gap) before these windows


class Windower:
    """Cut windows of ``length`` s every ``hop`` s at ``rate_out`` Hz from a ``rate_in`` Hz stream."""

    def __init__(self, rate_in: float, rate_out: float, length: float, hop: float, columns: list[int] | None = None):
        if length <= 0 or hop <= 0:
            raise ValueError(f"window and hop must be > 0 s (got {length}, {hop})")
        self.rate_in, self.rate_out, self.length, self.hop = float(rate_in), float(rate_out), float(length), float(hop)
        self.columns = columns
        self.margin = resample_margin(self.rate_in, self.rate_out)
        self.n = n_samples(length, rate_out)
        self.gap = gap_threshold(self.rate_in)
        self.gaps = 0  # gaps seen (each restarted the grid)
        self.reset()

    def reset(self) -> None:
        """Forget held samples; the next sample starts a new grid."""
        self._ts_parts: list[np.ndarray] = []
        self._x_parts: list[np.ndarray] = []
        self._newest = float("-inf")
        self._anchor = float("nan")
        self._j = 0  # index of the next window on the grid
        self._restarted = True

    def push(self, ts: np.ndarray, x: np.ndarray) -> list[Ready]:
        """Add samples (in time order); return the windows that became ready, oldest first."""
        ts = np.asarray(ts, dtype=np.float64)
        if len(ts) == 0:
            return []
        x = np.asarray(x).reshape(len(ts), -1)
        if self.columns is not None:
            x = x[:, self.columns]
        # Split at gaps (between the held samples and this chunk, and inside it).
        first_gap = bool(self._ts_parts) and ts[0] - self._newest > self.gap
        inner = np.flatnonzero(np.diff(ts) > self.gap) + 1 if len(ts) > 1 else np.empty(0, np.int64)
        if not first_gap and not len(inner):
            r = self._push_segment(ts, x)  # the common case: one segment, no gap
            return [] if r is None else [r]
        after_gap = set(inner.tolist()) | ({0} if first_gap else set())
        out: list[Ready] = []
        bounds = sorted({0, *after_gap, len(ts)})
        for a, b in zip(bounds[:-1], bounds[1:]):
            if a in after_gap:
                self.gaps += 1
                self.reset()
            if b > a:
                r = self._push_segment(ts[a:b], x[a:b])
                if r is not None:
                    out.append(r)
        return out

    def _push_segment(self, ts: np.ndarray, x: np.ndarray) -> Ready | None:
        if not np.isfinite(self._anchor):
            self._anchor = float(ts[0])
            # Windows closer to the first sample than the filter's margin would depend on
            # where the samples began (the filter pads there): start the grid after it.
            self._j = int(np.ceil(self.margin / self.hop - EPS)) if self.margin else 0
        # Chunks are only listed here; they are joined when a window is ready (every hop),
        # not on every chunk.
        self._ts_parts.append(ts)
        self._x_parts.append(x)
        self._newest = newest = float(ts[-1])
        # Ready: the window's last sample (at start + length - 1/rate_out) and the filter's
        # margin after it have arrived (half an input period of tolerance for jitter).
        avail = newest + 1.0 / self.rate_out + 0.5 / self.rate_in - self.margin - self.length
        last_j = int(np.floor((avail - self._anchor) / self.hop + EPS)) if avail >= self._anchor - EPS else -1
        if last_j < self._j:
            return None
        all_ts = np.concatenate(self._ts_parts) if len(self._ts_parts) > 1 else self._ts_parts[0]
        all_x = np.concatenate(self._x_parts) if len(self._x_parts) > 1 else self._x_parts[0]
        starts = self._anchor + np.arange(self._j, last_j + 1) * self.hop
        cut = cut_windows(all_ts, all_x, self.rate_in, self.rate_out, starts, self.length)
        ready = Ready(starts, cut.data, self._restarted)
        self._restarted = False
        self._j = last_j + 1
        # Keep what the next window (and the filter before it) needs.
        keep_from = self._anchor + self._j * self.hop - self.margin - 2.0 / self.rate_in
        i = int(np.searchsorted(all_ts, keep_from, "left"))
        self._ts_parts, self._x_parts = [all_ts[i:]], [all_x[i:]]
        return ready


__all__ = ["Ready", "Windower"]
