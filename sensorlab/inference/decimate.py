"""`Decimator`: the anti-aliasing FIR of an integer down-sampling (48 → 16 kHz: ÷3) as three
matrix products, for the live engine's incremental resampling.

`scipy.signal.resample_poly` (the dataset build's resampler) runs `upfirdn`, whose inner loop
is scalar C: for 48 → 16 kHz each output sample is a 61-tap dot product, and one 0.25 s hop
(12,000 input samples, 4,000 outputs) cost 0.26–0.42 ms of the engine's ~0.5 ms per window
before any model ran. The same sums as a few BLAS matrix products take a fraction of that.

The arithmetic: with ``down = D`` and ``up = 1`` the filter ``h`` has ``2 H + 1`` taps, ``H =
10 D`` (`resample_poly`'s design), and output ``j`` is ``sum_i h[i] x[j D - H + i]`` (``h`` is
symmetric). Cut the input into rows of ``D`` samples and group ``G = 10`` rows into a block of
``G D`` samples: the ``G`` outputs of block ``b`` need rows ``b G - 10 … b G + G + 9``, i.e. the
blocks ``b - 1``, ``b`` and ``b + 1``, so all outputs are ``Z[:-2] @ A0 + Z[1:-1] @ A1 + Z[2:] @
A2`` where ``Z`` is the input seen as blocks (a reshape, no copy) and ``A0 … A2`` are the
filter's taps laid out once (``(G D) × G`` each, mostly the band of a Toeplitz matrix). That is
~1.5× the multiply-adds of the direct form, in three calls instead of one per output.

The sums are the same products added in another order, so each output may differ from
`resample_poly`'s in its last bits (float32: relative ~1e-7 of the window's scale); the model
contract allows the live features 1e-4 from the training ones (tests/inference/test_decimate.py
and the parity test check both).
"""

from __future__ import annotations

import numpy as np

#: Rows of ``down`` samples per block: at least the filter's half length in rows (10).
_G = 10


class Decimator:
    """Outputs ``j0 … j1 - 1`` of ``resample_poly(x, 1, down)`` filtered with ``h``, away from the edges."""

    def __init__(self, h: np.ndarray, down: int):
        d = int(down)
        half = (len(h) - 1) // 2
        if half != _G * d or len(h) % 2 != 1:
            raise ValueError(f"Decimator needs resample_poly's design ({2 * _G * d + 1} taps for ÷{d}); got {len(h)}")
        self.down, self.half, self.dtype = d, half, h.dtype
        pad = np.zeros(3 * _G * d, h.dtype)  # taps q = 0 … 3G - 1 in rows of d; q > 2G are zero
        pad[: len(h)] = h
        taps = pad.reshape(3 * _G, d)  # taps[q, p] = h[q d + p]
        # Output g of a block, from row r of block b + t: tap row q = t G + r - g (0 ≤ q ≤ 2G).
        a = np.zeros((3, _G, d, _G), h.dtype)  # [t, r, p, g]
        for t in range(3):
            for r in range(_G):
                for g in range(_G):
                    q = t * _G + r - g
                    if 0 <= q <= 2 * _G:
                        a[t, r, :, g] = taps[q]
        self._a = [np.ascontiguousarray(a[t].reshape(_G * d, _G)) for t in range(3)]

    def __call__(self, x: np.ndarray, j0: int, j1: int) -> np.ndarray:
        """Outputs ``j0 … j1 - 1`` (``(j1 - j0, channels)``) of the samples ``x`` ``(n, channels)``,
        where output ``j`` is centred on input sample ``j * down``; ``x`` must hold every input
        they reach (``j0 * down - H`` ≥ 0, ``(j1 - 1) * down + H`` < n)."""
        d, g = self.down, _G
        m = j1 - j0
        lo = j0 * d - self.half  # first input sample used, the start of row (j0 - 10)
        if m <= 0:
            return np.empty((0, x.shape[1]), x.dtype)
        if lo < 0 or (j1 - 1) * d + self.half >= len(x):
            raise ValueError("Decimator: the samples do not reach the filter's edge")
        blocks = -(-m // g) + 2
        need = blocks * g * d
        seg = x[lo : lo + need]
        c = x.shape[1]
        if len(seg) < need or c > 1 or seg.dtype != self.dtype:  # pad the last block, channels first, the filter's dtype
            z = np.zeros((c, need), self.dtype)
            z[:, : len(seg)] = seg.T
        else:
            z = seg.reshape(1, need)
        z = z.reshape(c, blocks, g * d)
        a0, a1, a2 = self._a
        y = np.matmul(z[:, :-2], a0)
        y += np.matmul(z[:, 1:-1], a1)
        y += np.matmul(z[:, 2:], a2)
        return y.reshape(c, -1)[:, :m].T


__all__ = ["Decimator"]
