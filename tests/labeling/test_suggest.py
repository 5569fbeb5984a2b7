"""Suggestion functions on synthetic signals with known events, onsets and snapping."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from sensorlab.acquisition.source import Chunk
from sensorlab.labeling.onsets import detect_onsets, snap_to_onset, snap_to_samples
from sensorlab.labeling.suggest import (
    change_point_segments,
    change_points,
    energy_segments,
    hysteresis,
    motion_segments,
    threshold_segments,
)
from sensorlab.labeling.suggest_stream import iter_suggest_for_stream, suggest_for_stream

RATE = 16000
T0 = 5000.0
BURSTS = [(1.0, 1.6), (2.5, 2.8), (4.0, 5.5)]


def audio_with_bursts(seconds=6.0, channels=2, seed=0):
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = T0 + np.arange(n) / RATE
    x = 0.002 * rng.standard_normal((n, channels))
    for a, b in BURSTS:
        m = (t >= T0 + a) & (t < T0 + b)
        x[m] += 0.3 * np.sin(2 * np.pi * 300 * (t[m] - T0))[:, None] * rng.uniform(0.6, 1.0, channels)
    return x.astype(np.float32), t


def spans(segs):
    return [(s.start - T0, s.end - T0) for s in segs]


def flat(segs):
    return [v for span in spans(segs) for v in span]


def assert_found(segs, expected, tol):
    got = spans(segs)
    assert len(got) == len(expected), got
    for (a, b), (ea, eb) in zip(got, expected, strict=True):
        assert abs(a - ea) <= tol and abs(b - eb) <= tol, (got, expected)


def test_hysteresis():
    v = np.array([0, 5, 3, 2, 3, 0.5, 3, 6, 1])
    assert hysteresis(v, high=4, low=1).tolist() == [0, 1, 1, 1, 1, 0, 0, 1, 0]


def test_energy_finds_bursts():
    x, t = audio_with_bursts()
    segs = energy_segments(x, t, label="speech", tier="vad")
    assert_found(segs, BURSTS, tol=0.02)
    assert all(s.suggested and s.label == "speech" and s.tier == "vad" and np.isfinite(s.score) for s in segs)


def test_energy_min_gap_and_duration():
    x, t = audio_with_bursts()
    segs = energy_segments(x, t, min_gap=1.0, min_duration=0.5)  # bridges 1.6→2.5, drops nothing
    assert_found(segs, [(1.0, 2.8), (4.0, 5.5)], tol=0.02)
    segs = energy_segments(x, t, min_duration=0.5)  # drops the 0.3 s burst
    assert_found(segs, [(1.0, 1.6), (4.0, 5.5)], tol=0.02)


def test_threshold_with_hysteresis():
    t = T0 + np.arange(0, 10, 0.001)
    x = np.zeros((t.size, 3))
    x[(t >= T0 + 2) & (t < T0 + 3), 0] = 5.0
    x[(t >= T0 + 3) & (t < T0 + 3.5), 0] = 1.5  # between low and high: stays on
    x[(t >= T0 + 7) & (t < T0 + 8), 2] = -4.0  # norm reduction sees negative values
    segs = threshold_segments(x, t, high=3.0, low=1.0)
    assert_found(segs, [(2.0, 3.5), (7.0, 8.0)], tol=0.002)
    assert threshold_segments(x, t, high=3.0, channel=0, reduce="abs")[0].tier == "suggestions"


def test_change_points_mean_and_variance():
    rng = np.random.default_rng(3)
    rate = 200
    t = T0 + np.arange(0, 30, 1 / rate)
    x = rng.standard_normal((t.size, 2)) * 0.5
    x[(t >= T0 + 10) & (t < T0 + 20), 0] += 3.0  # mean shift
    cps = change_points(x, t, window_s=1.0)
    assert np.allclose(cps - T0, [10, 20], atol=0.1)
    y = rng.standard_normal(t.size)
    y[t >= T0 + 15] *= 5.0  # walking after resting: same mean, more spread
    assert change_points(y, t, window_s=1.0, kind="mean").size == 0
    assert np.allclose(change_points(y, t, window_s=1.0, kind="variance") - T0, [15], atol=0.15)
    segs = change_point_segments(x, t, window_s=1.0)
    assert_found(segs, [(0, 10), (10, 20), (20, 30 - 1 / rate)], tol=0.1)
    assert len(change_point_segments(x, t, window_s=1.0, as_points=True)) == 2


def make_video(n=90, fps=30.0, moving=((30, 45),)):
    rng = np.random.default_rng(5)
    frames = np.full((n, 120, 160, 3), 100, np.uint8)
    frames = np.clip(frames + rng.integers(-2, 3, frames.shape), 0, 255).astype(np.uint8)  # sensor noise
    for a, b in moving:
        for i in range(a, b):
            x = 10 + 5 * (i - a)
            frames[i, 40:80, x : x + 30] = 230  # a bright block sliding right
    t = T0 + np.arange(n) / fps
    return frames, t


def test_motion_finds_the_moving_block():
    frames, t = make_video()
    segs = motion_segments(frames, t, min_gap=0.1)
    # Motion begins between frames 29 and 30 and ends between 44 and 45 (block vanishes).
    assert_found(segs, [(29 / 30, 45 / 30)], tol=1 / 30 + 1e-9)


# -- onsets --------------------------------------------------------------------------------


def test_onsets_to_the_sample_and_snapping():
    rate = 48000
    n = rate * 2
    t = T0 + np.arange(n) / rate
    x = 1e-4 * np.random.default_rng(2).standard_normal(n)
    truth = [12_345, 40_000, 77_777]
    for k in truth:
        x[k : k + 2400] += 0.5 * np.exp(-np.arange(2400) / 400) * np.sin(2 * np.pi * 1000 * np.arange(2400) / rate + 0.3)
    on = detect_onsets(x, t)
    assert len(on) == 3
    assert np.all(np.abs((on - T0) * rate - truth) <= 3)  # within 3 samples at 48 kHz
    assert snap_to_onset(t[40_000] + 0.004, on, tolerance=0.01) == on[1]
    assert snap_to_onset(t[40_000] + 0.02, on, tolerance=0.01) == pytest.approx(t[40_000] + 0.02)
    assert np.array_equal(snap_to_onset(np.array([t[0], t[77_770]]), on, 0.001), [t[0], on[2]])
    assert snap_to_samples(T0 + 1.00001, t) == t[48_000]
    assert snap_to_onset(1.0, np.empty(0), 1.0) == 1.0


# -- block-wise glue ------------------------------------------------------------------------


class FakeStream:
    """Duck-typed session stream: reads [t0, t1) like `sensorlab.session.reader`."""

    def __init__(self, name, kind, rate, data, times):
        self.info = SimpleNamespace(name=name, kind=kind, nominal_rate=rate)
        self.data, self.timestamps = data, times
        self.reads = 0

    def read(self, t0, t1):
        self.reads += 1
        m = (self.timestamps >= t0) & (self.timestamps < t1)
        return Chunk(self.data[m], self.timestamps[m])


def test_blockwise_energy_matches_whole_array():
    x, t = audio_with_bursts()
    stream = FakeStream("mic", "audio", RATE, x, t)
    gen = iter_suggest_for_stream(stream, "energy", block_s=0.7, label="speech")
    progress = []
    with pytest.raises(StopIteration) as stop:
        while True:
            progress.append(next(gen))
    segs = stop.value.value
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0) and stream.reads > 5
    whole = energy_segments(x, t)
    assert flat(segs) == pytest.approx(flat(whole), abs=1e-9)
    assert segs[0].source == "suggest:energy:mic" and segs[0].label == "speech"


def test_blockwise_motion_threshold_changepoint():
    frames, t = make_video()
    segs = suggest_for_stream(FakeStream("cam", "video", 30.0, frames, t), "motion", block_s=0.4, min_gap=0.1)
    assert flat(segs) == pytest.approx(flat(motion_segments(frames, t, min_gap=0.1)))
    ts = T0 + np.arange(0, 10, 0.01)
    sig = np.where((ts >= T0 + 4) & (ts < T0 + 6), 2.0, 0.0)[:, None]
    segs = suggest_for_stream(FakeStream("imu", "timeseries", 100.0, sig, ts), "threshold", high=1.0, block_s=1.3)
    assert_found(segs, [(4, 5.99)], tol=1e-6)
    segs = suggest_for_stream(FakeStream("imu", "timeseries", 100.0, sig + 0.01 * np.random.default_rng(0).standard_normal(sig.shape), ts),
                              "changepoint", block_s=1.3, window_s=0.5)
    assert [round(s.start - T0, 1) for s in segs] == [0.0, 4.0, 6.0]
    with pytest.raises(ValueError, match="unknown suggestion method"):
        suggest_for_stream(FakeStream("imu", "timeseries", 100.0, sig, ts), "magic")


def spoken_digits_with_digital_silence(n_words=30, rate=8000, seed=3):
    """Word-like bursts (voiced harmonics under a syllable envelope, a noisy consonant onset)
    over a quiet room-noise floor, with ~10 % exact-zero digital silence before and after,
    as a virtual or file-based source records it. Returns (audio, times, true spans)."""
    rng = np.random.default_rng(seed)
    pieces, truth, t = [], [], 0.0
    lead = int(0.1 * (n_words * 1.2) * rate)  # ~10 % of the length on each side
    pieces.append(np.zeros(lead, dtype=np.float32))
    t += lead / rate
    for _ in range(n_words):
        gap = int(rng.uniform(0.35, 0.9) * rate)
        pieces.append((0.0005 * rng.standard_normal(gap)).astype(np.float32))
        t += gap / rate
        n = int(rng.uniform(0.3, 0.65) * rate)
        tt = np.arange(n) / rate
        f0 = rng.uniform(100, 220) * (1 - 0.15 * tt / tt[-1])  # falling pitch
        phase = 2 * np.pi * np.cumsum(f0) / rate
        voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
        env = np.sin(np.pi * tt / tt[-1]) ** 0.6
        consonant = np.where(tt < 0.05, rng.standard_normal(n), 0.0)
        x = rng.uniform(0.05, 0.3) * (env * voiced + 0.3 * consonant) + 0.0005 * rng.standard_normal(n)
        pieces.append(x.astype(np.float32))
        truth.append((T0 + t, T0 + t + n / rate))
        t += n / rate
    tail_noise = int(0.5 * rate)
    pieces.append((0.0005 * rng.standard_normal(tail_noise)).astype(np.float32))
    pieces.append(np.zeros(lead, dtype=np.float32))
    audio = np.concatenate(pieces)
    return audio, T0 + np.arange(audio.size) / rate, truth


def iou(a, b):
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def test_energy_defaults_find_every_word_despite_digital_silence():
    """Exact zeros before and after the speech must not drag the noise floor to -200 dB (which
    made every frame "active": one suggestion spanning the whole recording)."""
    x, t, truth = spoken_digits_with_digital_silence()
    assert (x == 0).mean() > 0.15  # ~10 % before and ~10 % after
    for segs in (energy_segments(x, t),
                 suggest_for_stream(FakeStream("mic", "audio", 8000.0, x, t), "energy", block_s=3.0)):
        assert len(segs) == len(truth), spans(segs)
        for seg, true in zip(segs, truth, strict=True):
            assert iou((seg.start, seg.end), true) >= 0.5, (seg.start - T0, seg.end - T0, true[0] - T0, true[1] - T0)


def test_onsets_ignore_the_step_from_digital_silence_to_room_noise():
    x, t, truth = spoken_digits_with_digital_silence(n_words=5)
    onsets = detect_onsets(x, t)
    assert len(onsets) == len(truth), (onsets - T0, [a - T0 for a, _ in truth])
    assert np.abs(onsets - np.array([a for a, _ in truth])).max() < 0.02
