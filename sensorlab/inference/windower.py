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
incremental: the resampled samples of earlier windows are kept, and only the new input (with
the filter's reach on each side) is filtered, with `resample`'s filter (`scipy.signal.resample_poly`,
the same Kaiser design, designed once) on `cut_windows`' output grid (phase taken from the
first window start of each batch, as `cut_windows` does). Interior samples of that FIR do not
depend on where the filtered slice begins, so the windows are those `cut_windows` cuts from the
held samples (`tests/inference/test_windower.py`): bit for bit for a polyphase ratio (44.1 →
16 kHz, filtered by `resample_poly` itself), and to the last bits of the samples' dtype for an
integer down-sampling (48 → 16 kHz, 200 → 100 Hz), whose FIR runs as three BLAS matrix
products (`sensorlab.inference.decimate`: the same products summed in another order, 5–8×
faster than `upfirdn`'s scalar loop). Any window this shortcut cannot serve (the grid moved by
jitter, samples missing at an edge) is cut by `cut_windows` itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter

import numpy as np

from sensorlab.datasets.resample import _HALF_TAPS, gap_threshold, rational_ratio, resample_margin
from sensorlab.datasets.windows import EPS, cut_windows, n_samples
from sensorlab.inference.decimate import Decimator
from sensorlab.inference.held import Held as _Held

#: Seconds of slack on the readiness test that triggers cutting (far above float rounding).
_SLACK = 1e-6
_max = np.maximum.reduce  # the ufunc itself: ndarray.max adds a Python layer (~0.5 µs a call, every hop)
_NONE = np.empty(0, np.int64)
_TIMESTAMPS, _SAMPLES, _SAMPLE_DTYPE = attrgetter("timestamps"), attrgetter("data"), attrgetter("data.dtype")
_F32 = {np.dtype(np.float32)}


@dataclass
class Ready:
    """Windows cut from one `push`: starts, samples ``(W, n, C)``, and whether a gap preceded them."""

    starts: np.ndarray
    data: np.ndarray
    after_gap: bool  # the grid restarted (first samples, or a gap) before these windows


@lru_cache(maxsize=16)
def lowpass(up: int, down: int, dtype: str) -> np.ndarray:
    """The anti-aliasing FIR `resample` uses (`resample_poly`'s default design), built once.

    ``resample_poly(x, up, down, window=lowpass(...))`` equals ``resample_poly(x, up, down)``
    bit for bit (a test checks it): the same Kaiser(5) window, length and cut-off, cast to
    the samples' dtype before resample_poly scales it by ``up``.
    """
    from scipy.signal import firwin  # scipy.signal costs ~0.5 s to import: only when resampling

    m = max(up, down)
    return firwin(2 * _HALF_TAPS * m + 1, 1.0 / m, window=("kaiser", 5.0)).astype(dtype)


def _position1(ts: np.ndarray, t: float, r: int) -> float:
    """`cut_windows`' ``_position(ts[r:], [t])[0]`` (fractional index by linear interpolation) for one time."""
    j = min(max(int(ts.searchsorted(t, "right")) - 1 - r, 0), len(ts) - r - 2)
    a = float(ts[r + j])
    return j + (t - a) / (float(ts[r + j + 1]) - a)


class Windower:
    """Cut windows of ``length`` s every ``hop`` s at ``rate_out`` Hz from a ``rate_in`` Hz stream."""

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
        self.filtered = 0  # input samples run through the resampling filter (work done, for tests and benchmarks)
        self.fast_hops = 0  # hops `push_chunks` served with `_hop` (for tests and benchmarks)
        # First window index of a grid: windows closer to the first sample than the filter's
        # margin would depend on where the samples began (the filter pads there).
        self._j0 = int(np.ceil(self.margin / self.hop - EPS)) if self.margin else 0
        # Window j is ready when the newest sample reaches start_j + _lead (see _push_segment).
        self._lead = self.length + self.margin - 1.0 / self.rate_out - 0.5 / self.rate_in
        # Newest sample time + this = the latest start of a complete window (see _push_segment).
        self._avail = 1.0 / self.rate_out + 0.5 / self.rate_in - self.margin - self.length
        # Input samples the filter reaches on each side of an output sample (plus one).
        self._reach = math.ceil(_HALF_TAPS * max(self.up, self.down) / self.up) + 1
        self._decimators: dict[str, Decimator] = {}  # per sample dtype (float32, float64)
        self.reset()

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
        self._views: tuple = (None, None, None, None, 0)  # the held buffers, byte views of them, bytes per sample (`_byte_views`)
        self._drop_cache()

    def _drop_cache(self) -> None:
        self._y = _Held()  # resampled samples kept for the next windows
        self._y0 = 0  # output index of the first kept one (counted from _origin)
        self._origin: int | None = None  # input index of output sample 0

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

    def push_chunks(self, chunks: list) -> list[Ready]:
        """`push_parts` of the chunks a live hop hands over (`Chunk`s: float64 timestamps and samples), the engine's call.

        The common hop takes `_hop`: its samples written once into the held buffers and checked
        for gaps there, the window cut where it lies, in one method (each Python call and NumPy
        call of the general path costs 0.3–3 µs, and a hop made ~40 of them). Anything else —
        the first samples after a reset, a gap, another dtype or channel count, a channel
        selection, listed chunks — goes through `push_parts`, with the same result."""
        if self._fast and not self._pending and chunks:
            ready = self._hop(chunks)
            if ready is not None:
                self.fast_hops += 1
                return ready
        return self.push_parts([(c.timestamps, c.data) for c in chunks])

    def _hop(self, chunks: list) -> list[Ready] | None:
        """The chunks of one hop, held and cut; None, with nothing held, when `push_parts` must take them.

        The same arithmetic as `_drain_in_place` → `_push_segment` → `_cut` for the usual case
        (no resampling, one window ready), inlined; other cases after the samples are held
        (several windows, resampling) call `_push_segment` on them as `_drain_in_place` does.

        The chunks' timestamps and samples are joined by `bytes.join` (one C loop over the
        chunks' buffers: ~35 ns a chunk, against ~100 ns a chunk and array for
        `np.concatenate`'s per-part checks and copies) and copied into the held buffers through
        byte views of them: no Python-level step per chunk (the C work left is ~0.1 µs a chunk). What
        `np.concatenate(casting="no")` checked is checked on the joined bytes: every chunk's
        samples of the held dtype (float32), and as many bytes as the held channels need for
        the hop's timestamps (a chunk with other channels, or not C-contiguous, is refused);
        timestamps are float64 (`Chunk` makes them so)."""
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
        if not k or len(jt) & 7 or len(jx) != k * row or set(map(_SAMPLE_DTYPE, chunks)) != _F32:
            return None
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
            r = self._push_segment(tb[hi - k : hi], xb[hi - k : hi], held=True)
            return self._next_due([r] if r is not None else [])
        # One window, no resampling: `_cut`'s position and edge tests on the held samples.
        start = anchor + j * self.hop
        ts = tb[lo:hi]
        m, n, rate = hi - lo, self.n, self.rate_in
        t_first = float(tb[lo])
        a = round(_position1(ts, start, 0)) if t_first <= start <= newest else -1
        if a < 0 or a + n > m or start + self.length > newest + 1.5 / rate:
            r = self._push_segment(tb[hi - k : hi], xb[hi - k : hi], held=True)  # cut_windows' edge rule: the general path
            return self._next_due([r] if r is not None else [])
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

    def _byte_views(self, tb: np.ndarray, xb: np.ndarray) -> tuple | None:
        """The held buffers, byte views of them and the bytes per held sample, for `_hop` (None
        unless they are float64 timestamps and float32 samples × channels, as `_hop` writes them)."""
        if tb.dtype != np.float64 or tb.ndim != 1 or xb.dtype != np.float32 or xb.ndim != 2:
            return None
        self._views = (tb, xb, memoryview(tb).cast("B"), memoryview(xb).cast("B"), xb.strides[0])
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
        if self._origin is not None:  # and the inputs of the next resampled samples
            i = min(i, self._filter_start(self._y0 + len(self._y)) - self._base)
        i = max(0, i)
        self._ts.drop(i)
        self._x.drop(i)
        self._base += i
        return ready

    # -- cutting ----------------------------------------------------------------------------------
    def _cut_held(self, starts: np.ndarray) -> np.ndarray:
        """`cut_windows` on the held samples: the reference, for windows the shortcut cannot serve."""
        self._drop_cache()
        if self.up != self.down:
            self.filtered += len(self._x)
        return cut_windows(self._ts.view(), self._x.view(), self.rate_in, self.rate_out, starts, self.length).data

    def _cut(self, starts: np.ndarray) -> np.ndarray:
        """The samples `cut_windows` gives for ``starts`` on the held samples, without refiltering them.

        The positions are `cut_windows`' arithmetic done on Python floats (the same IEEE
        doubles, and ``round`` rounds half to even like ``np.rint``): a few windows per call
        cost microseconds instead of a dozen NumPy calls each.
        """
        ts, x = self._ts.view(), self._x.view()
        up, down, n, rate = self.up, self.down, self.n, self.rate_in
        s_list = starts.tolist()
        # As cut_windows: the output grid puts a sample on the input sample nearest the first start.
        r = round(_position1(ts, s_list[0], 0)) % down if down > 1 else 0
        m = len(ts) - r
        if m < 2:
            return self._cut_held(starts)
        t_first, t_last = float(ts[r]), float(ts[-1])
        k0 = []
        for s in s_list:
            if s < t_first:
                p = (s - t_first) * rate
            elif s > t_last:
                p = m - 1 + (s - t_last) * rate
            else:
                p = _position1(ts, s, r)
            k0.append(round(p * up / down))
        n_y = m * up // down + bool(m * up % down)  # samples cut_windows' resample gives
        if k0[0] < 0 or k0[-1] + n > n_y or s_list[0] < t_first - 0.5 / rate or s_list[-1] + self.length > t_last + 1.5 / rate:
            return self._cut_held(starts)  # held at the edge value: cut_windows' own rule
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
        # Output sample K (counted from _origin) lies at input index _origin + K * down / up.
        first = self._base + r
        if self._origin is None or (first - self._origin) % down:
            self._drop_cache()  # a new grid phase (the first window, or jitter moved it)
            self._origin = first
        shift = (first - self._origin) // down * up
        K0 = [k + shift for k in k0]
        lo, hi = K0[0], K0[-1] + n
        if not len(self._y) or lo < self._y0 or lo > self._y0 + len(self._y):
            self._y = _Held()
            self._y0 = lo
        have = self._y0 + len(self._y)
        if have < hi:
            new = self._filter(have, hi)
            if new is None:
                return self._cut_held(starts)
            self._y.append(new)
        y = self._y.view()
        if len(K0) == 1 and y.dtype == np.float32:
            data = y[K0[0] - self._y0 : K0[0] - self._y0 + n][None]  # one window: a view, as above
        else:
            data = np.empty((len(starts), n, x.shape[1]), np.float32)
            for w, k in enumerate(K0):
                data[w] = y[k - self._y0 : k - self._y0 + n]
        self._y.drop(K0[-1] - self._y0)  # later windows start later
        self._y0 = K0[-1]
        return data

    def _filter_start(self, k: int) -> int:
        """Input index where filtering must start for output ``k`` on (a whole number of ``down`` steps from the origin)."""
        assert self._origin is not None
        return self._origin + math.floor((k * self.down / self.up - self._reach) / self.down) * self.down

    def _filter(self, k_from: int, k_to: int) -> np.ndarray | None:
        """Resampled samples ``k_from … k_to - 1``, filtering only the input they depend on."""
        assert self._origin is not None
        up, down = self.up, self.down
        a = self._filter_start(k_from)
        b = self._origin + math.ceil((k_to - 1) * down / up + self._reach) + 1
        if a < self._base or b > self._base + len(self._x):
            return None
        x = self._x.view()[a - self._base : b - self._base]
        self.filtered += len(x)
        # A slice starting a whole number of ``down`` steps after the origin resamples onto the
        # same output grid, shifted by that many ``up`` steps; away from its ends (the filter's
        # reach) its samples are the whole signal's.
        shift = (a - self._origin) // down * up
        if up == 1:  # integer down-sampling (48 → 16 kHz): the same FIR as three matrix products
            dec = self._decimators.get(x.dtype.str)
            if dec is None:
                dec = self._decimators[x.dtype.str] = Decimator(lowpass(up, down, x.dtype.str), down)
            return dec(x, k_from - shift, k_to - shift)
        from scipy.signal import resample_poly  # imported once (lowpass above); then a dict look-up

        y = resample_poly(x, up, down, axis=0, padtype="line", window=lowpass(up, down, x.dtype.str))
        return y[k_from - shift : k_to - shift]


__all__ = ["Ready", "Windower", "lowpass"]
