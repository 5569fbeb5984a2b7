"""Emulated microphone, emulated camera and the in-process MJPEG server all see one World."""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.acquisition.camera import CameraSource
from sensorlab.acquisition.clock import now
from sensorlab.acquisition.emulated.camera import EmulatedCamera
from sensorlab.acquisition.emulated.microphone import EmulatedMicrophone
from sensorlab.acquisition.source import Chunk
from sensorlab.acquisition.emulated.mjpeg_server import MjpegServer
from tests.acquisition.conftest import wait_until
from tests.acquisition.test_audio import clap_errors


def bright_frame_times(chunks) -> np.ndarray:
    """Timestamps of the first bright frame after each dark one."""
    ts = np.array([c.timestamps[0] for c in chunks], dtype=np.float64)
    bright = np.array([c.data[0].mean() > 150 for c in chunks], dtype=bool)
    return ts[1:][bright[1:] & ~bright[:-1]]


def test_emulated_microphone_is_bursty_drifting_and_on_time(clap_world, recorder):
    with EmulatedMicrophone(clap_world, drift_ppm=20, seed=3) as mic:
        assert mic.streams[0].has_device_time
        mic.start(recorder)
        assert recorder.wait_samples(int(2.5 * 48000), timeout=8)
        mic.stop()
    c = recorder.joined()
    # Like a sound card: 16-bit PCM, made full-scale by the stream's scale.
    assert c.data.dtype == np.int16 and mic.streams[0].scale == (1 / 32768,)
    c = Chunk(mic.streams[0].to_physical(c.data), c.timestamps, c.device_times, c.arrival_times)
    assert (np.diff(c.timestamps) > 0).all()
    # Delivered in ~20 ms hand-overs of several back-to-back 10 ms blocks, like PulseAudio.
    handovers = np.diff(np.unique(c.arrival_times))
    assert np.median(handovers) < 0.005 and np.percentile(handovers, 90) > 0.015
    # The card's clock is 20 ppm fast: more samples per host second than nominal.
    assert mic.true_rate == pytest.approx(48000 * (1 + 20e-6))
    errors = clap_errors(c, clap_world)
    assert len(errors) >= 3 and np.abs(errors).max() < 0.003, errors


def test_emulated_camera_renders_world_at_30fps(clap_world, recorder):
    with EmulatedCamera(clap_world, width=160, height=120) as cam:
        assert cam.streams[0].sample_shape == (120, 160, 3) and cam.streams[0].nominal_rate == 30
        started = now()
        cam.start(recorder)
        # Film until three claps were caught (a loaded machine may skip the frame of a clap).
        assert wait_until(lambda: len(bright_frame_times(list(recorder.chunks))) >= 3, timeout=30)
        cam.stop()
    chunks = list(recorder.chunks)
    ts = np.array([c.timestamps[0] for c in chunks])
    assert np.all(np.diff(ts) > 0)
    # Paced by its 30 fps frame clock: frame k (counting the frames a late thread skipped and
    # reported as dropped) is never grabbed before its time. The frame rate itself is in bench/.
    dropped = cam.stats["camera"].dropped
    assert ts[-1] >= started + (len(ts) - 1 + dropped) / 30
    assert np.all(ts >= started + np.arange(len(ts)) / 30)
    # A frame shows the world at its timestamp: every bright frame lies within the clap's
    # 1/30 s flash, never before the clap (exact: no scheduling slack involved).
    flashes = bright_frame_times(chunks)
    claps = clap_world.clap_times(ts[0] - 1, ts[-1] + 1)
    for tf in flashes:
        since = tf - claps[claps <= tf].max()
        assert -1e-9 <= since < 1 / 30 + 1e-9, (tf, claps)


def test_mjpeg_server_world_mode_and_sync_with_microphone(clap_world):
    """Camera via the MJPEG URL and the emulated mic film one world on one clock: each bright
    frame follows the clap the microphone heard. (The sub-frame bias is measured in bench/.)"""
    frames, audio = [], []
    with MjpegServer(world=clap_world, width=160, height=120) as server:
        cam, mic = CameraSource(server.url, fps=30), EmulatedMicrophone(clap_world)
        with cam, mic:
            cam.start(lambda s, c: frames.append(c))
            mic.start(lambda s, c: audio.append(c))
            def filmed_while_heard() -> int:  # flashes after the microphone's first samples
                heard = list(audio)
                return int(np.sum(bright_frame_times(list(frames)) > heard[0].timestamps[0] + 0.02)) if heard else 0

            # Until five claps were filmed while the microphone listened (a loaded machine may
            # serve no frame inside a flash; the microphone holds back its first 0.25-0.5 s).
            assert wait_until(lambda: filmed_while_heard() >= 5, timeout=30)
    from sensorlab.acquisition.buffers import concat_chunks

    a = concat_chunks(audio)
    audio_claps = clap_world.clap_times(a.timestamps[0] + 0.02, a.timestamps[-1] - 0.06) + clap_errors(a, clap_world)
    flashes = bright_frame_times(frames)
    flashes = flashes[(flashes > audio_claps[0]) & (flashes < audio_claps[-1] + clap_world.clap_interval / 2)]
    assert len(flashes) >= 3
    for tf in flashes:
        heard = audio_claps[audio_claps <= tf + 0.003]
        assert len(heard), (tf, audio_claps)
        # The flash is served after the clap, then JPEG + HTTP + decode delay it; it belongs to
        # the clap just heard (the audio clap may be stamped up to ~3 ms late).
        assert -0.003 <= tf - heard[-1] < clap_world.clap_interval / 2, (tf, audio_claps)


def test_a_consumer_that_raises_fails_the_audio_stream_visibly():
    """An exception on the audio worker thread is reported, not a silent stream with a growing queue."""
    from sensorlab.acquisition.emulated.microphone import EmulatedMicrophone

    def broken_sink(stream, chunk):
        raise RuntimeError("consumer bug")

    mic = EmulatedMicrophone()
    failures = []
    mic.failed.connect(lambda stream, msg: failures.append(msg))
    with mic:
        mic.start(broken_sink)
        wait_until(lambda: failures, timeout=20)
    assert failures and "internal error" in failures[0] and "consumer bug" in failures[0]
    assert "consumer bug" in mic.stats[mic.name].error
