"""AudioSource through sounddevice from the virtual PulseAudio microphone (vmic)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from sensorlab.acquisition.audio import AudioSource, SampleClock
from sensorlab.acquisition.source import Chunk, SourceError, StreamKind

RATE = 48000


def clap_errors(chunk, world, threshold=0.3) -> np.ndarray:
    """Recorded minus true time of each clap fully inside the recording, seconds."""
    x, ts = np.abs(chunk.data[:, 0].astype(np.float64)), chunk.timestamps
    errors = []
    for tc in world.clap_times(ts[0] + 0.02, ts[-1] - 0.06):
        near = (ts > tc - 0.1) & (ts < tc + 0.1)
        errors.append(ts[near][np.argmax(x[near] > threshold)] - tc)
    return np.array(errors)


def record(source, recorder, seconds: float):
    source.failed.connect(recorder.on_failed)
    source.open()
    source.start(recorder)
    assert recorder.wait_samples(int(seconds * RATE), timeout=seconds + 5), "no audio arrived"
    source.stop()
    return recorder.joined()


@pytest.mark.audio
def test_vmic_records_world_claps_on_time(pulse, clap_world, recorder):
    with pulse.feed(clap_world), AudioSource("vmic", samplerate=RATE) as mic:
        assert mic.streams[0].kind == StreamKind.AUDIO and mic.streams[0].sample_shape == (1,)
        assert mic.streams[0].has_device_time
        c = record(mic, recorder, 2.5)
    info = mic.streams[0]
    # The sound card's 16-bit PCM is kept as delivered; the scale makes it full-scale units.
    assert c.data.dtype == np.int16 and info.dtype == "int16" and info.scale == (1 / 32768,)
    c = Chunk(info.to_physical(c.data), c.timestamps, c.device_times, c.arrival_times)
    assert c.data.dtype == np.float32

    assert not recorder.failures
    # Device times are the sample count; timestamps strictly increase at the sample period.
    np.testing.assert_allclose(c.device_times, np.arange(len(c)) / RATE)
    dt = np.diff(c.timestamps)
    assert (dt > 0).all()
    assert np.median(dt) == pytest.approx(1 / RATE, rel=1e-3)
    assert np.mean(np.abs(dt - 1 / RATE) < 1e-6) > 0.999
    # Never stamped after the sample arrived. (How much later samples arrive depends on the
    # machine's load; the sync check below is what says the stamps are right.)
    lag = c.arrival_times - c.timestamps
    assert lag.min() > -0.002
    # Values: the clap impulse at 0.8, the 440 Hz hum at 0.02 between claps (s16 exact).
    assert np.abs(c.data).max() == pytest.approx(0.8, abs=0.03)
    since = clap_world._since_clap(c.timestamps)
    quiet = c.data[since > 0.1, 0]
    assert np.sqrt(np.mean(quiet**2)) == pytest.approx(0.02 / np.sqrt(2), rel=0.15)
    # Sync: each clap's corrected timestamp lands within a few ms of its world time.
    errors = clap_errors(c, clap_world)
    assert len(errors) >= 3
    assert np.abs(errors).max() < 0.003, errors


@pytest.mark.audio
def test_vmic_tone_level_int16(pulse, recorder):
    t = np.arange(RATE) / RATE
    tone = 0.5 * np.sin(2 * np.pi * 1000 * t)
    with pulse.feed(tone), AudioSource("vmic", samplerate=RATE, dtype="int16") as mic:
        c = record(mic, recorder, 1.0)
    x = c.data[:, 0].astype(np.float64) / 32767
    assert c.data.dtype == np.int16
    assert np.sqrt(np.mean(x**2)) == pytest.approx(0.354, abs=0.01)
    spectrum = np.abs(np.fft.rfft(x[: RATE // 2]))
    assert np.argmax(spectrum) * 2 == pytest.approx(1000, abs=2)  # bin width 2 Hz


@pytest.mark.audio
def test_daemon_killed_mid_stream_fails_the_stream(private_pulse, clap_world, recorder):
    with private_pulse.feed(clap_world), AudioSource("vmic", samplerate=RATE) as mic:
        mic.failed.connect(recorder.on_failed)
        mic.start(recorder)
        assert recorder.wait_samples(RATE // 2, timeout=5)
        private_pulse.kill()
        assert recorder.wait_failure(timeout=5)
        assert not mic.running
    assert "audio device 'vmic' disappeared" in recorder.failures[0]
    assert mic.stats["audio"].error == recorder.failures[0]


@pytest.mark.audio
def test_unknown_device_names_the_choices(pulse):
    with pytest.raises(SourceError, match=r"audio device 'no-such-mic' not found.*vmic.*sensorlab devices"):
        AudioSource("no-such-mic").open()


@pytest.mark.audio
def test_rejected_rate_lists_supported_rates(pulse):
    with pytest.raises(SourceError, match=r"rejects 1000000 Hz.*accepts rates \[.*48000") as e:
        AudioSource("vmic", samplerate=1_000_000).open()
    assert "vmic" in str(e.value)


def test_missing_portaudio_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import now raises ImportError
    with pytest.raises(SourceError, match="libportaudio2"):
        AudioSource().open()


def test_sample_clock_fits_bursty_drifting_card():
    """Offline: 30 s of 20 ms bursts from a card 200 ppm fast; stamps land on the truth."""
    rng = np.random.default_rng(1)
    clock, true_rate, block = SampleClock(RATE), RATE * (1 + 200e-6), 480
    t0, sent, due = 100.0, 0, 100.02
    truth, stamped = [], []
    while due < t0 + 30:
        while (due - t0) * true_rate - sent >= block:  # hand over every complete block
            clock.add(block, due + 0.0005 + rng.exponential(0.0005))
            truth.append(t0 + (sent + np.arange(block)) / true_rate)
            sent += block
        due += 0.02 + rng.uniform(0, 0.004)
    first = 0
    for t in truth:
        ts, _ = clock.stamp(first, len(t))
        first += len(t)
        stamped.append(ts)
    assert clock.fit.mapping().drift_ppm == pytest.approx(200, abs=20)
    err = np.concatenate(stamped)[-RATE:] - np.concatenate(truth)[-RATE:]  # the last second
    assert np.abs(err).max() < 0.002
