"""`Decimator`: integer down-sampling by matrix products gives `resample_poly`'s samples (the
dataset build's), to the last bits of their dtype, for every channel and dtype."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from sensorlab.inference.decimate import Decimator
from sensorlab.inference.incremental_resample import lowpass


@pytest.mark.parametrize("down", [2, 3, 6, 10])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype, tol", [(np.float32, 2e-6), (np.float64, 1e-13)])
def test_interior_outputs_equal_resample_poly_to_the_dtypes_precision(down, channels, dtype, tol):
    x = (np.random.default_rng(down).normal(size=(12_000 + 7, channels)) * 1000).astype(dtype)
    h = lowpass(1, down, x.dtype.str)
    ref = resample_poly(x, 1, down, axis=0, padtype="line", window=h)  # what cut_windows / the dataset build gives
    dec = Decimator(h, down)
    half = 10 * down
    j0, j1 = -(-half // down), (len(x) - 1 - half) // down + 1  # every output the filter sees whole
    for a, b in ((j0, j1), (j0 + 5, j0 + 6), (j0 + 3, j1 - 11)):  # all of them, one, and a slice ending mid-block
        y = dec(x, a, b)
        assert y.shape == (b - a, channels) and y.dtype == dtype
        np.testing.assert_allclose(y, ref[a:b], rtol=0, atol=tol * float(np.abs(x).max()))


def test_outputs_the_samples_cannot_reach_are_refused():
    h = lowpass(1, 3, "<f4")
    dec = Decimator(h, 3)
    x = np.zeros((1000, 1), np.float32)
    with pytest.raises(ValueError, match="edge"):
        dec(x, 5, 20)  # output 5 needs input 15 - 30 < 0
    with pytest.raises(ValueError, match="edge"):
        dec(x, 100, 330)  # output 329 needs input 987 + 30 ≥ 1000
