"""`Windower`: turns a stream arriving in chunks (live) or blocks (a recorded session) into windows.

Windows start at ``anchor + j * hop`` where the anchor is the first sample seen (after a
reset), exactly as the dataset build places them from a stream's first sample
(`sensorlab.datasets.windows.window_starts`), and their samples are those the dataset's own
`cut_windows` gives (resampling, gap filling): a window's samples depend only on its start and
the samples around it, so the engine and training see the same input.

A window is ready once the samples up to its end, plus the resampling filter's margin
(`resample_margin`, under a millisecond for 48 → 16 kHz), have arrived. Only those samples
are kept: memory is one window plus the margin, whatever the window/hop ratio.

When resampling, the first windows of a grid that lie within the margin of its first sample
are not cut (the filter would pad there, and the result would depend on where the samples
began). A gap in the timestamps (more than `gap_threshold`: 2.5 sample periods) restarts the grid
at the first sample after it, so no window spans a gap; `push` reports it so a stateful
model can reset.

Cost (the live engine pushes every device chunk, ~100 a second): `push` only lists a chunk
until the newest sample reaches the time at which the next window could be ready, on its grid
or on a new one after a gap (``_due``); the samples are then checked for gaps, kept in an
amortised buffer (no re-joining of the held second every hop) and cut. Resampling is
incremental (`sensorlab.inference.incremental_resample`: the resampled samples of earlier
windows are kept, only new input is filtered). Any window this shortcut cannot serve (the grid
moved by jitter, samples missing at an edge) is cut by `cut_windows` itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from sensorlab.datasets.resample import gap_threshold, rational_ratio, resample_margin
from sensorlab.datasets.windows import EPS, cut_windows, n_samples
from sensorlab.inference.held import Held as _Held
from sensorlab.inference.hop_ext import compiled_hop as _hop_c
from sensorlab.inference.hop_ext import hop_path
from sensorlab.inference.incremental_resample import IncrementalResampler
from sensorlab.inference.window_offsets import position1 as _position1
from sensorlab.inference.window_offsets import window_offsets

#: Seconds of slack on the readiness test that triggers cutting (far above float rounding).
_SLACK = 1e-6
_max = np.maximum.reduce  # the ufunc itself: ndarray.max adds a Python layer (~0.5 µs a call, every hop)
_NONE = np.empty(0, np.int64)
_TIMESTAMPS, _SAMPLES, _SAMPLE_LAYOUT = attrgetter("timestamps"), attrgetter("data"), attrgetter("data.dtype", "data.strides")
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


@dataclass
class Ready:
    """Windows cut from one `push`: starts, samples ``(W, n, C)``, and whether a gap preceded them."""

    starts: np.ndarray
    data: np.ndarray
    after_gap: bool  # the grid restarted (first samples, or a gap) before these windows


class Windower:
    """Cut windows of ``length`` s every ``hop`` s at ``rate_out`` Hz from a ``rate_in`` Hz stream."""

    # The state the usual hop reads and writes every hop in slots (the rest in the instance dict):
    # the C hop (`_hop_core.h`) reads a slot with one load where ``getattr`` costs ~200 instructions,
    # ~20 attributes a hop (`_py_attrs.h`); Python reads them the same either way.
    __slots__ = ("_ts", "_x", "_c_consts", "_anchor", "_j", "_restarted", "_base", "_newest", "_due", "fast_hops", "_c", "_fast", "_pending", "__dict__")

    def __init__(self, rate_in: float, rate_out: float, length: float, hop: float, columns: list[int] | None = None):
        if length <= 0 or hop <= 0:
            raise ValueError(f"window and hop must be > 0 s (got {length}, {hop})")
        self.rate_in, self.rate_out, self.length, self.hop = float(rate_in), float(rate_out), float(length), float(hop)
        self.columns = columns
        self.margin = resample_margin(self.rate_in, self.rate_out)
        self.up, self.down = rational_ratio(self.rate_in, self.rate_out)
        self.n = n_samples(length, rate_out)
        self.gap = gap_threshold(self.rate_in)
        self.gaps = 0  # gaps seen (each restarted the grid)
        self.fast_hops = 0  # hops `push_chunks` served with `_hop` (for tests and benchmarks)
        # First window index of a grid: windows closer to the first sample than the filter's
        # margin would depend on where the samples began (the filter pads there).
        self._j0 = int(np.ceil(self.margin / self.hop - EPS)) if self.margin else 0
        # Window j is ready when the newest sample reaches start_j + _lead (see _push_segment).
        self._lead = self.length + self.margin - 1.0 / self.rate_out - 0.5 / self.rate_in
        # Newest sample time + this = the latest start of a complete window (see _push_segment).
        self._avail = 1.0 / self.rate_out + 0.5 / self.rate_in - self.margin - self.length
        self._resampler = IncrementalResampler(self.up, self.down)
        # What `_hop.c` reads (in this order), and whether it runs the usual hop (`compiled`).
        self._c_consts = (self.gap, self._avail, self.hop, int(self.n), self.rate_in, self.length, self.margin, self._lead, int(self._j0), EPS, _SLACK, Ready, np.array, _F64, _F32, np.ndarray)
        self.compiled = _hop_c is not None
        self.reset()

    @property
    def compiled(self) -> bool:
        """True when `push_chunks` takes the C hop (`_hop.c`) for the usual hop; False: `_hop`, in Python (same results)."""
        return self._c is not None

    @compiled.setter
    def compiled(self, on: bool) -> None:
        if on and _hop_c is None:
            raise RuntimeError(hop_path())
        self._c = _hop_c if on and self.up == self.down else None  # (the C hop does not resample)

    def reset(self) -> None:
        """Forget held samples; the next sample starts a new grid."""
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._due = float("-inf")  # newest time before which no window can be ready
        self._ts, self._x = _Held(), _Held()
        self._base = 0  # index (counted from the grid's first sample) of the first held sample
        self._newest = float("-inf")
        self._anchor = float("nan")
        self._j = 0  # index of the next window on the grid
        self._restarted = True
        self._identity: bool | None = None  # columns select every channel, in order
        self._fast = False  # `push_chunks` may take `_hop` (set once held samples of a plain layout exist)
        self._views: tuple = (None, None, None, None, 0, set(), 0)  # the held buffers, byte views of them, bytes per sample, sample layouts, address (`_byte_views`)
        self._resampler.forget()

    @property
    def filtered(self) -> int:
        """Input samples run through the resampling filter (work done, for tests and benchmarks)."""
        return self._resampler.filtered

    @property
    def due(self) -> float:
        """Until a sample at or after this time arrives, `push` only holds samples (no window can be complete)."""
        return self._due

    def push(self, ts: np.ndarray, x: np.ndarray) -> list[Ready]:
        """Add samples (in time order); return the windows that became ready, oldest first."""
        if len(ts) == 0:
            return []
        self._pending.append((ts, x))
        if ts[-1] < self._due:
            return []  # the common case: nothing can be ready yet, the chunk is only listed
        return self._drain()

    def push_parts(self, parts: list[tuple[np.ndarray, np.ndarray]]) -> list[Ready]:
        """`push` of several ``(timestamps, samples)`` chunks at once (in time order), joined only when a window can be ready."""
        if not parts:
            return []
        self._pending.extend(parts)
        ts = parts[-1][0]
        if not len(ts) or ts[-1] < self._due:
            return [] if len(ts) or not self._pending else self._push_empty_tail()
        return self._drain()

    def push_chunks(self, chunks: list, one: bool = False) -> list[Ready] | tuple[float, np.ndarray, bool, int]:
        """`push_parts` of the chunks a live hop hands over (`Chunk`s: float64 timestamps and samples), the engine's call.

        The usual hop — held float32 samples, no resampling, no gap — takes one call: `_hop.c`
        where the extension is built (`compiled`), else `_hop`, the same in Python (~90
        interpreter and NumPy steps). Anything else — the first samples after a reset, a gap,
        another dtype, byte order or channel count, a chunk not C-contiguous, a channel
        selection, listed chunks — goes through `push_parts`, with the same result.

        ``one``: when that usual hop cuts exactly one window, return it as ``(start, samples
        (n, C), after_gap, address)`` instead of ``[Ready]`` — the same window, without the
        start's array, the `Ready` and the list the engine's one-window path would only unpack;
        ``address`` is where its first sample lies (the samples are a C-contiguous float32 view
        of the held buffer), so the model's input can be bound there instead of copied."""
        if self._fast and not self._pending and chunks:
            c = self._c
            ready = c.hop(self, chunks, one) if c is not None else self._hop(chunks, one)
            if ready is not None:
                self.fast_hops += 1
                return ready
        return self.push_parts([(c.timestamps, c.data) for c in chunks])

    def _hop(self, chunks: list, one: bool = False) -> list[Ready] | tuple[float, np.ndarray, bool, int] | None:
        """The chunks of one hop, held and cut; None, with nothing held, when `push_parts` must take them.

        `_drain_in_place` → `_push_segment` → `_cut` for the usual case (no resampling, one
        window ready), inlined; other cases, once held, go to `_hop_cut`. The chunks are joined
        by `bytes.join` (one C loop over their buffers) and copied into the held buffers through
        byte views; so that no bytes are read as something else, every chunk's samples must be
        float32 with the held bytes a sample (`_byte_views`' layouts) and C-contiguous (else no
        buffer to join); timestamps are float64 (`Chunk` makes them so)."""
        hts, hx = self._ts, self._x
        lo = hts.lo
        hi = hts.hi
        if hi == lo or hx.lo != lo or hx.hi != hi:  # (the two buffers move together unless a sample dtype changed)
            return None
        try:
            jt = b"".join(map(_TIMESTAMPS, chunks))
            jx = b"".join(map(_SAMPLES, chunks))
        except TypeError:  # an array that is not C-contiguous: no buffer to join
            return None
        k = len(jt) >> 3
        tb, xb = hts.buf, hx.buf
        views = self._views
        if views[0] is not tb or views[1] is not xb:
            views = self._byte_views(tb, xb)
            if views is None:
                return None
        row = views[4]
        if not k or len(jt) & 7 or len(jx) != k * row or not set(map(_SAMPLE_LAYOUT, chunks)) <= views[5]:
            return None  # (the layouts: float32, and each chunk's own bytes a sample equal to the held ones)
        if hi + k > len(tb) or hi + k > len(xb):  # type: ignore[arg-type]
            tb, xb = hts.room(k), hx.room(k)  # full: the held samples move to a new buffer
            lo, hi = hts.lo, hts.hi
            views = self._byte_views(tb, xb)
            if views is None or hx.lo != lo or hx.hi != hi:
                return None
        views[3][hi * row : (hi + k) * row] = jx  # written past hi: not held until the gap check passes
        views[2][hi << 3 : (hi + k) << 3] = jt
        # Gaps: between the newest held sample and these, and inside these (one subtraction, one max).
        if _max(tb[hi : hi + k] - tb[hi - 1 : hi + k - 1]) > self.gap:
            return None  # nothing held yet (hi unchanged): `push_parts` splits them at the gap
        hts.hi = hx.hi = hi = hi + k
        newest = self._newest = float(tb[hi - 1])
        avail = newest + self._avail
        anchor, j = self._anchor, self._j
        last_j = math.floor((avail - anchor) / self.hop + EPS) if avail >= anchor - EPS else -1
        if last_j < j:
            return self._next_due([])
        if last_j != j or self.up != self.down:
            return self._hop_cut(k)
        # One window, no resampling: `_cut`'s position and edge tests on the held samples.
        start = anchor + j * self.hop
        ts = tb[lo:hi]
        m, n, rate = hi - lo, self.n, self.rate_in
        t_first = float(tb[lo])
        a = round(_position1(ts, start, 0)) if t_first <= start <= newest else -1
        if a < 0 or a + n > m or start + self.length > newest + 1.5 / rate:
            return self._hop_cut(k)  # cut_windows' edge rule: the general path
        if one:
            ready = (start, xb[lo + a : lo + a + n], self._restarted, views[6] + (lo + a) * row)
        else:
            ready = [Ready(np.array([start]), xb[None, lo + a : lo + a + n], self._restarted)]
        self._restarted = False
        self._j = j = j + 1
        # Keep what the next window needs (as `_push_segment`).
        i = int(ts.searchsorted(anchor + j * self.hop - self.margin - 2.0 / rate, "left"))
        if i > 0:
            hts.lo = hx.lo = lo + i
            self._base += i
        on_grid = anchor + j * self.hop + self._lead
        after_a_gap = newest + self.gap + self._j0 * self.hop + self._lead
        self._due = min(on_grid, after_a_gap) - _SLACK
        return ready

    def _hop_cut(self, k: int) -> list[Ready]:
        """The hop's ``k`` samples, already held, cut by `_push_segment` (several windows, resampling, an edge: `_hop`'s and `_hop.c`'s general case)."""
        hi = self._ts.hi
        r = self._push_segment(self._ts.buf[hi - k : hi], self._x.buf[hi - k : hi], held=True)  # type: ignore[index]
        return self._next_due([r] if r is not None else [])

    def _byte_views(self, tb: np.ndarray, xb: np.ndarray) -> tuple | None:
        """The held buffers, byte views of them, the bytes per held sample, the sample layouts `_hop`
        takes and the samples buffer's address, for `_hop` (None
        unless they are float64 timestamps and float32 samples × channels, as `_hop` writes them)."""
        if tb.dtype != np.float64 or tb.ndim != 1 or xb.dtype != np.float32 or xb.ndim != 2:
            return None
        row = xb.strides[0]
        layouts = {(_F32, (row, 4))} | ({(_F32, (4,))} if row == 4 else set())  # (samples, channels) as held, or (samples,) for one channel
        self._views = (tb, xb, memoryview(tb).cast("B"), memoryview(xb).cast("B"), row, layouts, xb.ctypes.data)
        return self._views

    def _push_empty_tail(self) -> list[Ready]:
        # An empty last part: drop empty parts and test the newest sample as `push` does.
        self._pending = [p for p in self._pending if len(p[0])]
        if not self._pending or self._pending[-1][0][-1] < self._due:
            return []
        return self._drain()

    def _join(self, parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        """The listed chunks as one array of timestamps (float64) and one of samples."""
        if len(parts) == 1:
            return np.asarray(parts[0][0], dtype=np.float64), np.asarray(parts[0][1])
        return np.concatenate([p[0] for p in parts]).astype(np.float64, copy=False), np.concatenate([p[1] for p in parts])

    def _drain(self) -> list[Ready]:
        parts, self._pending = self._pending, []
        out: list[Ready] = []
        if (self.columns is None or self._identity) and self._drain_in_place(parts, out):
            return self._next_due(out)
        ts, x = self._join(parts)
        x = x.reshape(len(ts), -1)
        if self.columns is not None:
            if self._identity is None:
                self._identity = list(self.columns) == list(range(x.shape[1]))
            if not self._identity:
                x = x[:, self.columns]
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(np.float64)  # as cut_windows filters anything else
        # Split at gaps (between the held samples and these, and inside these). The common case,
        # no gap, costs one subtraction and one max (np.diff and flatnonzero cost more in calls).
        first_gap = self._newest > float("-inf") and float(ts[0]) - self._newest > self.gap
        steps = ts[1:] - ts[:-1]
        inner = np.flatnonzero(steps > self.gap) + 1 if len(steps) and _max(steps) > self.gap else _NONE
        if not first_gap and not len(inner):
            r = self._push_segment(ts, x)  # the common case: one segment, no gap
            if r is not None:
                out.append(r)
        else:
            after_gap = set(inner.tolist()) | ({0} if first_gap else set())
            bounds = sorted({0, *after_gap, len(ts)})
            for a, b in zip(bounds[:-1], bounds[1:]):
                if a in after_gap:
                    self.gaps += 1
                    self.reset()
                if b > a:
                    r = self._push_segment(ts[a:b], x[a:b])
                    if r is not None:
                        out.append(r)
        return self._next_due(out)

    def _next_due(self, out: list[Ready]) -> list[Ready]:
        # The next window on this grid, or the first of a new grid after a gap (whose anchor
        # is more than `gap` after the newest sample), whichever could be ready first.
        on_grid = self._anchor + self._j * self.hop + self._lead
        after_a_gap = self._newest + self.gap + self._j0 * self.hop + self._lead
        self._due = min(on_grid, after_a_gap) - _SLACK
        if not self._fast:  # held float32 samples of every channel: the next hops may take `_hop`
            buf = self._x.buf
            self._fast = buf is not None and buf.dtype == np.float32 and buf.ndim == 2 and (self.columns is None or bool(self._identity))
        return out

    def _drain_in_place(self, parts: list[tuple[np.ndarray, np.ndarray]], out: list[Ready]) -> bool:
        """The common live hop, with fewer copies: the chunks' timestamps and samples are joined
        straight into the held buffers (no joined arrays, no second copy) and checked for gaps
        there. False, with nothing held, when that cannot be done (no held buffers yet after a
        reset, another dtype or channel count, a gap): `_drain` then joins them as before."""
        hts, hx = self._ts, self._x
        k = 0
        for p in parts:
            k += len(p[0])
        if not hts.extend([p[0] for p in parts], k):
            return False
        if not hx.extend([p[1] for p in parts], k):
            hts.hi -= k
            return False
        ts, x = hts.buf[hts.hi - k : hts.hi], hx.buf[hx.hi - k : hx.hi]  # type: ignore[index]
        if k and (self._newest > float("-inf") and float(ts[0]) - self._newest > self.gap or k > 1 and _max(ts[1:] - ts[:-1]) > self.gap):
            hts.hi -= k  # a gap: un-hold them; `_drain` splits the joined samples at it
            hx.hi -= k
            return False
        if k:
            r = self._push_segment(ts, x, held=True)
            if r is not None:
                out.append(r)
        return True

    def _push_segment(self, ts: np.ndarray, x: np.ndarray, held: bool = False) -> Ready | None:
        """Hold these samples (``held``: already appended) and cut the windows that became ready."""
        if not math.isfinite(self._anchor):
            self._anchor = float(ts[0])
            self._j = self._j0
        if not held:
            self._ts.append(ts)
            self._x.append(x)
        self._newest = newest = float(ts[-1])
        # Ready: the window's last sample (at start + length - 1/rate_out) and the filter's
        # margin after it have arrived (half an input period of tolerance for jitter).
        avail = newest + 1.0 / self.rate_out + 0.5 / self.rate_in - self.margin - self.length
        last_j = math.floor((avail - self._anchor) / self.hop + EPS) if avail >= self._anchor - EPS else -1
        if last_j < self._j:
            return None
        # (anchor + j * hop in float64 either way: one window, the usual case, needs no arange)
        starts = np.array([self._anchor + self._j * self.hop]) if last_j == self._j else self._anchor + np.arange(self._j, last_j + 1) * self.hop
        data = self._cut(starts)
        ready = Ready(starts, data, self._restarted)
        self._restarted = False
        self._j = last_j + 1
        # Keep what the next window (and the filter before it) needs.
        keep_from = self._anchor + self._j * self.hop - self.margin - 2.0 / self.rate_in
        i = int(self._ts.view().searchsorted(keep_from, "left"))
        needs_from = self._resampler.needs_from()
        if needs_from is not None:  # and the inputs of the next resampled samples
            i = min(i, needs_from - self._base)
        i = max(0, i)
        self._ts.drop(i)
        self._x.drop(i)
        self._base += i
        return ready

    # -- cutting ----------------------------------------------------------------------------------
    def _cut_held(self, starts: np.ndarray) -> np.ndarray:
        """`cut_windows` on the held samples: the reference, for windows the shortcut cannot serve."""
        self._resampler.forget()
        if self.up != self.down:
            self._resampler.filtered += len(self._x)
        return cut_windows(self._ts.view(), self._x.view(), self.rate_in, self.rate_out, starts, self.length).data

    def _cut(self, starts: np.ndarray) -> np.ndarray:
        """The samples `cut_windows` gives for ``starts`` on the held samples, without refiltering them.

        The positions are `cut_windows`' arithmetic done on Python floats (`window_offsets`).
        """
        ts, x = self._ts.view(), self._x.view()
        up, down, n = self.up, self.down, self.n
        offsets = window_offsets(ts, starts.tolist(), up, down, self.rate_in, n, self.length)
        if offsets is None:
            return self._cut_held(starts)  # too few samples, or held at the edge value: cut_windows' own rule
        r, k0 = offsets
        if up == down and len(k0) == 1 and x.dtype == np.float32:
            # One window of float32 samples (the live case): a view of the held samples, no copy.
            # Held samples are never overwritten (appends go past them, compaction copies), so
            # the view stays valid however long a caller keeps it.
            return x[k0[0] : k0[0] + n][None]
        if up == down:
            data = np.empty((len(starts), n, x.shape[1]), np.float32)
            for w, a in enumerate(k0):
                data[w] = x[a : a + n]
            return data
        data = self._resampler.windows(self._x, self._base, self._base + r, k0, n)
        return self._cut_held(starts) if data is None else data


__all__ = ["Ready", "Windower", "hop_path"]
