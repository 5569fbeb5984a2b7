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
        self._ts = np.empty(0)
        self._x: np.ndarray | None = None
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
        prev = self._ts[-1:] if len(self._ts) else ts[:0]
        jumps = np.flatnonzero(np.diff(np.concatenate((prev, ts))) > self.gap) - len(prev) + 1
        out: list[Ready] = []
        after_gap = set(jumps.tolist())
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
        if self._x is None or not len(self._ts):
            self._ts, self._x = ts, x
            if not np.isfinite(self._anchor):
                self._anchor = float(ts[0])
                # Windows closer to the first sample than the filter's margin would depend on
                # where the samples began (the filter pads there): start the grid after it.
                self._j = int(np.ceil(self.margin / self.hop - EPS)) if self.margin else 0
        else:
            self._ts, self._x = np.concatenate((self._ts, ts)), np.concatenate((self._x, x))
        newest = float(self._ts[-1])
        # Ready: the window's last sample (at start + length - 1/rate_out) and the filter's
        # margin after it have arrived (half an input period of tolerance for jitter).
        avail = newest + 1.0 / self.rate_out + 0.5 / self.rate_in - self.margin - self.length
        last_j = int(np.floor((avail - self._anchor) / self.hop + EPS)) if avail >= self._anchor - EPS else -1
        ready = None
        if last_j >= self._j:
            starts = self._anchor + np.arange(self._j, last_j + 1) * self.hop
            cut = cut_windows(self._ts, self._x, self.rate_in, self.rate_out, starts, self.length)
            ready = Ready(starts, cut.data, self._restarted)
            self._restarted = False
            self._j = last_j + 1
        # Keep what the next window (and the filter before it) needs.
        keep_from = self._anchor + self._j * self.hop - self.margin - 2.0 / self.rate_in
        i = int(np.searchsorted(self._ts, keep_from, "left"))
        if i > 0:
            self._ts, self._x = self._ts[i:], self._x[i:]
        return ready


__all__ = ["Ready", "Windower"]
