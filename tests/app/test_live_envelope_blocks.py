"""A live envelope draws, for every block of samples, exactly that block's minimum and maximum,
whatever the block size, the channels and how the samples arrived in chunks (issue 14 §4: the
blocks of a dense stream are reduced channel by channel, the short ones in place)."""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import Chunk, StreamInfo
from sensorlab.app.live.audio import AudioPanel
from sensorlab.app.live.buffers import CHANNEL_MAJOR_BLOCK, PeakEnvelope


def _expected(t: np.ndarray, v: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a min/max envelope made block by block: (times, values[channel, row])."""
    times, rows = [], []
    for start in range(0, len(t) - block + 1, block):
        piece = v[start : start + block]
        times += [t[start], t[start + block - 1]]
        rows += [piece.min(axis=0), piece.max(axis=0)]
    return np.array(times), np.array(rows, dtype=np.float32).T


@pytest.mark.parametrize("block", [2, 8, CHANNEL_MAJOR_BLOCK - 1, CHANNEL_MAJOR_BLOCK, 480, 1024])
@pytest.mark.parametrize("channels", [1, 2, 16])
def test_envelope_rows_are_each_blocks_min_and_max(block, channels):
    rng = np.random.default_rng(block * 100 + channels)
    n = 12 * block + block // 2 + 3  # an unfinished block left pending at the end
    t = np.arange(n) / 1000.0
    v = rng.normal(0, 1, (n, channels)).astype(np.float32)
    v[rng.integers(0, n, 5), rng.integers(0, channels, 5)] = 40.0  # spikes anywhere in a block
    env = PeakEnvelope(block, window_samples=100 * block, width=channels)
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(n - 1, 9), replace=False))
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, n]):  # chunks of uneven sizes, some inside a block
        env.add(t[a:b], v[a:b])
    got_t, got_v = env.buffer.view()
    want_t, want_v = _expected(t, v, block)
    np.testing.assert_array_equal(got_t, want_t)
    np.testing.assert_array_equal(got_v, want_v)


def test_audio_panel_draws_each_blocks_extremes_of_the_samples_fed(qtbot):
    """Stereo int16 audio in chunks that carry device and arrival times too, as a microphone's
    do: each channel's trace is the min/max envelope of its samples (scaled to ±1)."""
    rate = 48000.0
    info = StreamInfo("mic", "audio", rate, ("l", "r"), dtype="int16", sample_shape=(2,))
    ring = ChunkRing(seconds=12.0)
    panel = AudioPanel(info, ring, origin=0.0, window=2.0)
    qtbot.addWidget(panel)
    panel.resize(700, 400)
    panel.show()
    qtbot.waitExposed(panel)
    rng = np.random.default_rng(7)
    n, hop = int(rate * 1.5), 480
    pcm = rng.integers(-3000, 3000, (n, 2)).astype(np.int16)
    pcm[12345] = (32000, -32000)  # a click, opposite on the two channels
    t = 100.0 + np.arange(n) / rate
    for start in range(0, n, hop):
        stop = start + hop
        ring.append(Chunk(pcm[start:stop], t[start:stop], device_times=np.arange(start, stop, dtype=np.float64),
                          arrival_times=np.full(hop, t[stop - 1] + 0.002)))
        if start % (10 * hop) == 0:
            assert panel.refresh()
    panel.refresh()
    block = panel.envelope.block
    assert block >= CHANNEL_MAJOR_BLOCK  # the channel-by-channel reduction is the one drawn
    want_t, want_v = _expected(t, pcm / 32768.0, block)
    for ch, curve in enumerate(panel.curves):
        x, y = curve.getOriginalDataset()
        assert len(x) > 50
        k = np.searchsorted(want_t, x[0])
        np.testing.assert_allclose(x, want_t[k : k + len(x)], rtol=0, atol=1e-9)
        np.testing.assert_allclose(y, want_v[ch, k : k + len(x)], rtol=0, atol=1e-7)
    x, y = panel.curves[0].getOriginalDataset()
    assert y.max() == pytest.approx(32000 / 32768.0)  # the click is drawn at its height
    assert panel.curves[1].getOriginalDataset()[1].min() == pytest.approx(-32000 / 32768.0)
