"""Emulated microphone, emulated camera and the in-process MJPEG server all see one World."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from sensorlab.acquisition.camera import CameraSource
from sensorlab.acquisition.emulated.camera import EmulatedCamera
from sensorlab.acquisition.emulated.microphone import EmulatedMicrophone
from sensorlab.acquisition.emulated.mjpeg_server import MjpegServer
from tests.acquisition.test_audio import clap_errors


def bright_frame_times(chunks) -> np.ndarray:
    """Timestamps of the first bright frame after each dark one."""
    ts = np.array([c.timestamps[0] for c in chunks])
    bright = np.array([c.data[0].mean() > 150 for c in chunks])
    return ts[1:][bright[1:] & ~bright[:-1]]


def test_emulated_microphone_is_bursty_drifting_and_on_time(clap_world, recorder):
    with EmulatedMicrophone(clap_world, drift_ppm=20, seed=3) as mic:
        assert mic.streams[0].has_device_time
        mic.start(recorder)
        assert recorder.wait_samples(int(2.5 * 48000), timeout=8)
        mic.stop()
    c = recorder.joined()
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
        assert cam.streams[0].sample_shape == (120, 160, 3)
        cam.start(recorder)
        assert recorder.wait_samples(60, timeout=8)
        cam.stop()
    ts = np.array([c.timestamps[0] for c in recorder.chunks])
    assert (len(ts) - 1) / (ts[-1] - ts[0]) == pytest.approx(30, rel=0.1)
    # Bright frames follow each clap within one frame period (plus scheduling slack).
    flashes = bright_frame_times(recorder.chunks)
    claps = clap_world.clap_times(ts[0] + 0.05, ts[-1] - 0.05)
    assert len(claps) >= 2
    for tc in claps:
        assert np.any((flashes >= tc) & (flashes < tc + 1 / 30 + 0.01)), (tc, flashes)


def test_mjpeg_server_world_mode_and_sync_with_microphone(clap_world):
    """Camera via the MJPEG URL and the emulated mic agree on clap times within 2 frames."""
    frames, audio = [], []
    done = threading.Event()
    with MjpegServer(world=clap_world, width=160, height=120) as server:
        cam, mic = CameraSource(server.url, fps=30), EmulatedMicrophone(clap_world)
        with cam, mic:
            cam.start(lambda s, c: frames.append(c))
            mic.start(lambda s, c: audio.append(c))
            done.wait(2.6)
    from sensorlab.acquisition.buffers import concat_chunks

    a = concat_chunks(audio)
    audio_claps = clap_world.clap_times(a.timestamps[0] + 0.02, a.timestamps[-1] - 0.06) + clap_errors(a, clap_world)
    audio_claps = audio_claps[(audio_claps > frames[0].timestamps[0]) & (audio_claps < frames[-1].timestamps[0] - 0.1)]
    flashes = bright_frame_times(frames)
    assert len(flashes) >= 3 and len(audio_claps) >= 3
    for t in audio_claps:
        nearest = flashes[np.argmin(np.abs(flashes - t))]
        # A frame is served up to 1/30 s after the clap, then JPEG + HTTP + decode latency;
        # the audio clap itself may be stamped up to ~3 ms late.
        assert -0.003 <= nearest - t < 2 / 30, (t, flashes)


def test_a_consumer_that_raises_fails_the_audio_stream_visibly():
    """An exception on the audio worker thread is reported, not a silent stream with a growing queue."""
    import time

    from sensorlab.acquisition.emulated.microphone import EmulatedMicrophone

    def broken_sink(stream, chunk):
        raise RuntimeError("consumer bug")

    mic = EmulatedMicrophone()
    failures = []
    mic.failed.connect(lambda stream, msg: failures.append(msg))
    with mic:
        mic.start(broken_sink)
        deadline = time.monotonic() + 5
        while not failures and time.monotonic() < deadline:
            time.sleep(0.05)
    assert failures and "internal error" in failures[0] and "consumer bug" in failures[0]
    assert "consumer bug" in mic.stats[mic.name].error
