"""`Windower`: the dataset's windows (bit for bit, or to the last bits where it decimates by matrix products), cut incrementally and as soon as they are complete."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from sensorlab.datasets.resample import rational_ratio, resample, resample_margin
from sensorlab.datasets.windows import cut_windows
from sensorlab.inference.incremental_resample import lowpass
from sensorlab.inference.windower import Windower


def stream(rate: float, seconds: float, channels: int, dtype=np.float32, jitter: float = 0.0, stall: tuple[float, float] | None = None, seed: int = 0):
    """Timestamps (jittered by a fraction of a period, optionally with a stall) and noise samples."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    ts = 1000.0 + np.arange(n) / rate + rng.uniform(-jitter, jitter, n) / rate
    if stall:
        ts[ts >= 1000.0 + stall[0]] += stall[1]
    x = (rng.normal(size=(n, channels)) * 1000).astype(dtype)
    return ts, x


def feed(w: Windower, ts, x, chunk: int):
    """Push in chunks; return (push index, Ready) for every batch of windows."""
    out = []
    for k, i in enumerate(range(0, len(ts), chunk)):
        out += [(k, r) for r in w.push(ts[i : i + chunk], x[i : i + chunk])]
    return out


CASES = [  # rate_in, rate_out, window, hop, chunk, channels, dtype, jitter
    (48000, 16000, 1.0, 0.25, 480, 1, np.float32, 0.0),  # microphone → 16 kHz model
    (48000, 16000, 1.0, 0.25, 480, 1, np.float32, 0.05),  # … with timestamp jitter
    (44100, 16000, 0.5, 0.25, 441, 2, np.float64, 0.0),  # up/down = 160/441
    (400, 100, 0.4, 0.2, 33, 3, np.int16, 0.0),  # integer samples (filtered as float64)
    (1000, 100, 0.5, 0.05, 7, 2, np.float32, 0.2),  # short hop: filter reach > hop
    (48000, 16000, 1.0, 0.2501, 480, 1, np.float32, 0.0),  # hop off the output grid: its phase moves
    (48000, 16000, 0.1, 0.3, 480, 1, np.float32, 0.0),  # hop > window
    (100, 100, 1.0, 0.25, 1, 6, np.float32, 0.0),  # IMU, one sample per chunk, no resampling
]


@pytest.mark.parametrize("rate_in, rate_out, length, hop, chunk, channels, dtype, jitter", CASES)
def test_windows_equal_the_dataset_cut_bit_for_bit(rate_in, rate_out, length, hop, chunk, channels, dtype, jitter):
    ts, x = stream(rate_in, 4.0, channels, dtype, jitter)
    w = Windower(rate_in, rate_out, length, hop)
    got = feed(w, ts, x, chunk)
    starts = np.concatenate([r.starts for _, r in got])
    j0 = int(np.ceil(w.margin / hop - 1e-9)) if w.margin else 0
    expect = 1000.0 + np.arange(j0, j0 + len(starts)) * hop  # the dataset's grid from the first sample
    np.testing.assert_allclose(starts, expect, atol=1e-9)
    assert expect[-1] + hop + length + w.margin > ts[-1]  # every window the samples hold came out
    up, _ = rational_ratio(rate_in, rate_out)
    for _, r in got:  # cut_windows on the whole recording gives the same samples
        expect = cut_windows(ts, x, rate_in, rate_out, r.starts, length).data
        if up == 1 and rate_in != rate_out:
            # Integer down-sampling filters with matrix products (`Decimator`): the same sums in
            # another order, equal to the last bits of the samples' precision.
            tol = (2e-6 if expect.dtype == np.float32 else 1e-13) * float(np.abs(x).max())
            np.testing.assert_allclose(r.data, expect, rtol=0, atol=tol)
        else:  # no resampling, or a polyphase ratio (resample_poly itself): exactly
            np.testing.assert_array_equal(r.data, expect)


def test_resampling_filters_each_input_sample_about_once_not_once_per_window():
    # 1 s windows every 0.25 s: cutting each window from the held second would filter every
    # input sample 4 times; incrementally it is filtered once, plus the filter's reach per hop.
    ts, x = stream(48000, 6.0, 1)
    w = Windower(48000, 16000, 1.0, 0.25)
    got = feed(w, ts, x, 480)
    assert sum(len(r.starts) for _, r in got) == 19
    assert w.filtered <= 1.05 * len(ts)


def test_a_window_comes_out_of_the_push_that_completes_it_even_after_a_gap():
    # hop > window and a stall: the 100 Hz stream resumes at 1.45 s, and the new grid's first
    # window (1.45–1.65 s) is complete before the old grid's next one (1.5–1.7 s) would have
    # been; listing chunks until the old one is due must not hold it back.
    for rate_in, rate_out, length, hop, stall in ((100, 100, 0.2, 0.5, 0.22), (48000, 16000, 0.1, 0.3, 0.4)):
        ts, x = stream(rate_in, 5.0, 1, stall=(1.23, stall))
        chunk = max(1, rate_in // 100)
        w = Windower(rate_in, rate_out, length, hop)
        got = feed(w, ts, x, chunk)
        assert w.gaps == 1 and [r.after_gap for _, r in got].count(True) == 2
        newest = ts[np.minimum(np.arange(0, len(ts), chunk) + chunk, len(ts)) - 1]  # newest sample after each push
        lead = length + resample_margin(rate_in, rate_out) - 1.0 / rate_out - 0.5 / rate_in
        for k, r in got:
            for s in r.starts:  # complete at push k, not at push k - 1
                assert newest[k] >= s + lead - 1e-9 and (k == 0 or newest[k - 1] < s + lead - 1e-9), (k, s)
        after = [r for _, r in got if r.after_gap][1]
        j0 = int(np.ceil(w.margin / hop - 1e-9)) if w.margin else 0  # first window clear of the filter's margin
        assert after.starts[0] == pytest.approx(1000.0 + 1.23 + stall + j0 * hop)  # the grid restarted at the first sample after the stall
        seg = ts > 1000.0 + 1.23 + 0.2  # the samples after the stall
        expect = cut_windows(ts[seg], x[seg], rate_in, rate_out, after.starts, length).data
        np.testing.assert_allclose(after.data, expect, rtol=0, atol=2e-6 * float(np.abs(x).max()))  # to float32's last bits (Decimator)


def test_the_filter_designed_once_is_the_one_resample_designs():
    x = np.random.default_rng(3).normal(size=(5000, 2)).astype(np.float32)
    for rate_in, rate_out in ((48000, 16000), (44100, 16000), (400, 100)):
        up, down = rational_ratio(rate_in, rate_out)
        for a in (x, x.astype(np.float64)):
            mine = resample_poly(a, up, down, axis=0, padtype="line", window=lowpass(up, down, a.dtype.str))
            np.testing.assert_array_equal(mine, resample(a, rate_in, rate_out))
