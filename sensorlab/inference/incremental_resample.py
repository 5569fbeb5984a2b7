"""`IncrementalResampler`: the windower's resampled samples, each input sample filtered about once.

The dataset build resamples a whole window at a time (`sensorlab.datasets.windows.cut_windows`
runs `resample` on the held samples). Live, a hop's windows overlap the previous ones, so the
resampled samples of earlier windows are kept and only the new input (with the filter's reach
on each side) is filtered, with `resample`'s filter (`scipy.signal.resample_poly`, the same
Kaiser design, designed once) on `cut_windows`' output grid (phase taken from the first window
start of each batch, as `cut_windows` does). Interior samples of that FIR do not depend on where
the filtered slice begins, so the windows are those `cut_windows` cuts from the held samples
(`tests/inference/test_windower.py`): bit for bit for a polyphase ratio (44.1 → 16 kHz,
filtered by `resample_poly` itself), and to the last bits of the samples' dtype for an integer
down-sampling (48 → 16 kHz, 200 → 100 Hz), whose FIR runs as three BLAS matrix products
(`sensorlab.inference.decimate`: the same products summed in another order, 5–8× faster than
`upfirdn`'s scalar loop).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from sensorlab.datasets.resample import _HALF_TAPS
from sensorlab.inference.decimate import Decimator
from sensorlab.inference.held import Held


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


class IncrementalResampler:
    """Resampled samples by ``up / down`` of a windower's held input, kept for the next windows.

    Output sample ``K`` (counted from `origin`) lies at input index ``origin + K * down / up``;
    input indices count from the grid's first sample, as the windower's ``base`` does.
    """

    def __init__(self, up: int, down: int):
        self.up, self.down = up, down
        self.filtered = 0  # input samples run through the resampling filter (work done, for tests and benchmarks)
        # Input samples the filter reaches on each side of an output sample (plus one).
        self._reach = math.ceil(_HALF_TAPS * max(up, down) / up) + 1
        self._decimators: dict[str, Decimator] = {}  # per sample dtype (float32, float64)
        self.forget()

    def forget(self) -> None:
        """Drop the kept resampled samples; the next windows start a new output grid."""
        self.y = Held()  # resampled samples kept for the next windows
        self.y0 = 0  # output index of the first kept one (counted from origin)
        self.origin: int | None = None  # input index of output sample 0

    def needs_from(self) -> int | None:
        """Input index from which the next resampled samples need the input (None: nothing kept)."""
        if self.origin is None:
            return None
        return self._filter_start(self.y0 + len(self.y))

    def windows(self, x: Held, base: int, first: int, k0: list[int], n: int) -> np.ndarray | None:
        """Windows of ``n`` resampled samples starting at output indices ``k0`` (counted on the
        grid whose sample 0 is input ``first``), from held input ``x`` whose first sample has
        index ``base``; None when that input does not reach (the caller cuts them whole)."""
        up, down = self.up, self.down
        if self.origin is None or (first - self.origin) % down:
            self.forget()  # a new grid phase (the first window, or jitter moved it)
            self.origin = first
        shift = (first - self.origin) // down * up
        K0 = [k + shift for k in k0]
        lo, hi = K0[0], K0[-1] + n
        if not len(self.y) or lo < self.y0 or lo > self.y0 + len(self.y):
            self.y = Held()
            self.y0 = lo
        have = self.y0 + len(self.y)
        if have < hi:
            new = self.filter(x, base, have, hi)
            if new is None:
                return None
            self.y.append(new)
        y = self.y.view()
        if len(K0) == 1 and y.dtype == np.float32:
            # One window: a view of the kept samples, no copy (they are never overwritten).
            data = y[K0[0] - self.y0 : K0[0] - self.y0 + n][None]
        else:
            data = np.empty((len(K0), n, x.view().shape[1]), np.float32)
            for w, k in enumerate(K0):
                data[w] = y[k - self.y0 : k - self.y0 + n]
        self.y.drop(K0[-1] - self.y0)  # later windows start later
        self.y0 = K0[-1]
        return data

    def _filter_start(self, k: int) -> int:
        """Input index where filtering must start for output ``k`` on (a whole number of ``down`` steps from the origin)."""
        assert self.origin is not None
        return self.origin + math.floor((k * self.down / self.up - self._reach) / self.down) * self.down

    def filter(self, held: Held, base: int, k_from: int, k_to: int) -> np.ndarray | None:
        """Resampled samples ``k_from … k_to - 1``, filtering only the input they depend on."""
        assert self.origin is not None
        up, down = self.up, self.down
        a = self._filter_start(k_from)
        b = self.origin + math.ceil((k_to - 1) * down / up + self._reach) + 1
        if a < base or b > base + len(held):
            return None
        x = held.view()[a - base : b - base]
        self.filtered += len(x)
        # A slice starting a whole number of ``down`` steps after the origin resamples onto the
        # same output grid, shifted by that many ``up`` steps; away from its ends (the filter's
        # reach) its samples are the whole signal's.
        shift = (a - self.origin) // down * up
        if up == 1:  # integer down-sampling (48 → 16 kHz): the same FIR as three matrix products
            dec = self._decimators.get(x.dtype.str)
            if dec is None:
                dec = self._decimators[x.dtype.str] = Decimator(lowpass(up, down, x.dtype.str), down)
            return dec(x, k_from - shift, k_to - shift)
        from scipy.signal import resample_poly  # imported once (lowpass above); then a dict look-up

        y = resample_poly(x, up, down, axis=0, padtype="line", window=lowpass(up, down, x.dtype.str))
        return y[k_from - shift : k_to - shift]


__all__ = ["IncrementalResampler", "lowpass"]
