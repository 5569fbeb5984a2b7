"""Resampling matches scipy's polyphase reference and suppresses what would alias."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly, welch

from sensorlab.datasets.resample import fill_gaps, rational_ratio, resample, resample_margin
from sensorlab.datasets.windows import cut_windows


def test_ratios():
    assert rational_ratio(48000, 16000) == (1, 3)
    assert rational_ratio(44100, 16000) == (160, 441)
    assert rational_ratio(100, 50) == (1, 2)
    with pytest.raises(ValueError, match="ratio of small integers"):
        rational_ratio(1000, 1000 * np.sqrt(2))


def test_matches_scipy_reference_in_the_interior():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48000, 2))
    ref = resample_poly(x, 1, 3, axis=0)  # scipy's own anti-aliased reference
    got = resample(x, 48000, 16000)
    m = int(resample_margin(48000, 16000) * 16000) + 1
    assert got.shape == ref.shape
    assert np.max(np.abs(got[m:-m] - ref[m:-m])) < 1e-9


def test_tone_above_the_new_nyquist_is_suppressed():
    rate, t = 48000, np.arange(48000) / 48000
    inband = np.sin(2 * np.pi * 1000 * t)
    alias = np.sin(2 * np.pi * 11000 * t)  # above 8 kHz: naive decimation by 3 folds it to 5 kHz
    y = resample(inband + alias, rate, 16000)
    f, p = welch(y, 16000, nperseg=1024)
    p_in, p_alias = p[np.argmin(abs(f - 1000))], p[np.argmin(abs(f - 5000))]
    assert 10 * np.log10(p_in / p_alias) > 60  # the folded tone is > 60 dB down
    naive = (inband + alias)[::3]
    f2, p2 = welch(naive, 16000, nperseg=1024)
    assert 10 * np.log10(p2[np.argmin(abs(f2 - 1000))] / p2[np.argmin(abs(f2 - 5000))]) < 6  # without the filter it is not


def test_windows_cut_from_blocks_equal_the_whole_signal_resampled():
    """Given the margin, a window cut from any read equals the same window of the whole resampled stream (training = serving)."""
    rate, rng = 48000, np.random.default_rng(1)
    ts = 100.0 + np.arange(rate * 4) / rate
    x = rng.standard_normal((len(ts), 1))
    ref = resample_poly(x, 1, 3, axis=0)
    start = 102.0
    m = resample_margin(rate, 16000)
    k0 = int(round((start - 100.0) * 16000))
    for extra in (0.0, 1 / rate, 2 / rate, 0.3):  # reads beginning at different phases of the 3:1 grid
        sel = (ts >= start - m - extra) & (ts < start + 0.5 + m + extra)
        w = cut_windows(ts[sel], x[sel], rate, 16000, np.array([start]), 0.5)
        assert np.max(np.abs(w.data[0, :, 0] - ref[k0 : k0 + 8000, 0])) < 1e-5, extra


def test_fill_gaps_inserts_evenly_spaced_samples():
    ts = np.array([0.0, 0.01, 0.02, 0.06, 0.07])
    x = np.array([0.0, 1.0, 2.0, 6.0, 7.0])
    ts2, x2, filled = fill_gaps(ts, x, 100.0)
    assert ts2 == pytest.approx(np.arange(8) / 100)
    assert x2 == pytest.approx(np.arange(8.0)) and filled.tolist() == [0, 0, 0, 1, 1, 1, 0, 0]
