"""`Held`: the windower's held samples along axis 0, appended without re-joining, dropped for free.

`sensorlab.inference.windower` keeps one for the timestamps and one for the samples of the
stream it cuts (and `sensorlab.inference.incremental_resample` one for resampled samples): each
hop's new samples are copied in once, the samples no later window needs are dropped by moving
an index.
"""

from __future__ import annotations

import numpy as np


#: New buffer size ÷ live samples (+ the appended ones) when a buffer fills up.
GROW = 4


class Held:
    """Samples along axis 0: appends copy only the new samples; dropping the oldest is free.

    The buffer is compacted (the live part moved to a new buffer) when it fills up, at `GROW`
    times the live size, so each sample is copied a bounded number of times: at 4× a live hop
    (window + hop) compacts every ~16 hops for a 4:1 window/hop, not every ~6 as at 2× (the copy
    of a second of 16 kHz samples and stamps was ~7 % of the engine's per-hop Python).
    """

    __slots__ = ("buf", "lo", "hi")

    def __init__(self) -> None:
        self.buf: np.ndarray | None = None
        self.lo = self.hi = 0

    def __len__(self) -> int:
        return self.hi - self.lo

    def view(self) -> np.ndarray:
        assert self.buf is not None
        return self.buf[self.lo : self.hi]

    def append(self, v: np.ndarray) -> None:
        k = len(v)
        buf = self.buf
        if buf is None or self.hi + k > len(buf) or buf.dtype != v.dtype or buf.shape[1:] != v.shape[1:]:
            live = self.view() if buf is not None and buf.shape[1:] == v.shape[1:] else v[:0]
            dtype = np.result_type(live.dtype, v.dtype)
            new = np.empty((max(GROW * (len(live) + k), 256), *v.shape[1:]), dtype)
            new[: len(live)] = live
            self.buf, self.lo, self.hi = new, 0, len(live)
        self.buf[self.hi : self.hi + k] = v  # type: ignore[index]
        self.hi += k

    def drop(self, k: int) -> None:
        self.lo += min(max(k, 0), len(self))

    def room(self, k: int) -> np.ndarray:
        """The buffer, with room for ``k`` more samples after ``hi`` (a new one, the live part copied,
        when full: held samples a caller may view are never overwritten)."""
        buf = self.buf
        assert buf is not None
        if self.hi + k > len(buf):
            live = len(self)
            new = np.empty((max(GROW * (live + k), 256), *buf.shape[1:]), buf.dtype)
            new[:live] = buf[self.lo : self.hi]
            self.buf, self.lo, self.hi = new, 0, live
            return new
        return buf

    def extend(self, parts: list[np.ndarray], k: int) -> bool:
        """Append ``parts`` (``k`` samples in all) joined straight into the buffer: one copy, no
        joined array in between. False (nothing appended) unless every part already has the
        buffer's dtype and sample shape (then `append` a joined array instead)."""
        buf = self.buf
        if buf is None:
            return False
        if self.hi + k > len(buf):  # a new buffer, as `append` makes (held samples a caller may view are never overwritten)
            live = len(self)
            new = np.empty((max(GROW * (live + k), 256), *buf.shape[1:]), buf.dtype)
            new[:live] = self.view()
            self.buf, self.lo, self.hi = new, 0, live
            buf = new
        try:  # casting="no": a part of another dtype or sample shape is refused before anything is copied
            np.concatenate(parts, out=buf[self.hi : self.hi + k], casting="no")
        except (TypeError, ValueError):
            return False
        self.hi += k
        return True


__all__ = ["Held"]
