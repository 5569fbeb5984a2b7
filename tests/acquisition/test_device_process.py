"""A camera or microphone in a device process of its own (`ProcessSource`): what it delivers
is what the same source delivers in the recording process, a child that dies is a lost device
(named, the other devices keep going), and no real-time permission is no error."""

from __future__ import annotations

import logging
import os
import signal

import numpy as np
import pytest

from sensorlab.acquisition import device_process
from sensorlab.acquisition.device_process import ProcessSource
from sensorlab.acquisition.device_records import chunk_record, parse_chunk
from sensorlab.acquisition.emulated.world import World
from sensorlab.acquisition.kinds.camera import CameraConfig
from sensorlab.acquisition.kinds.emulated import EmulatedConfig, build_emulated
from sensorlab.acquisition.kinds.camera import KIND as CAMERA_KIND
from sensorlab.acquisition.source import Chunk, SourceError, StreamInfo, StreamKind
from tests.acquisition.conftest import CLIP_FRAMES, decode_index, wait_until

pytestmark = pytest.mark.skipif(os.name != "posix", reason="device processes are started on POSIX only")

CAMERA = "sensorlab.acquisition.emulated.camera:EmulatedCamera"
MICROPHONE = "sensorlab.acquisition.emulated.microphone:EmulatedMicrophone"


@pytest.mark.parametrize("dtype, shape, extra", [("int16", (2,), True), ("uint8", (6, 8, 3), False), ("float32", (3,), True)])
def test_a_chunk_crosses_the_pipe_bit_for_bit(dtype, shape, extra):
    rng = np.random.default_rng(1)
    data = (rng.standard_normal((7, *shape)) * 100).astype(dtype)
    ts = 1000.0 + np.cumsum(rng.random(7))
    chunk = Chunk(data, ts, ts * 1.00002 if extra else None, ts + 0.001 if extra else None)
    info = StreamInfo("s", StreamKind.FRAMES, 10.0, dtype=dtype, sample_shape=shape)
    r, w = os.pipe()
    buffers, size = chunk_record(0, chunk)
    for b in buffers:
        os.write(w, memoryview(b).cast("B"))
    os.close(w)
    raw = os.read(r, size + 1)
    os.close(r)
    assert len(raw) == size
    stream, (d, t, dev, arr) = parse_chunk(memoryview(raw)[9:], [info])
    assert stream == 0 and d.dtype == np.dtype(dtype) and d.shape == data.shape and (d == data).all()
    assert (t == ts).all()
    if extra:
        assert (dev == chunk.device_times).all() and (arr == chunk.arrival_times).all()
    else:
        assert dev is None and arr is None


def test_emulated_camera_frames_are_the_worlds_at_their_stamps(recorder):
    """The child films the parent's world (its clock origin sent over): each frame is, pixel for
    pixel, the parent's world at the frame's timestamp."""
    world = World(clap_interval=0.5)
    cam = ProcessSource(CAMERA, {"width": 64, "height": 48, "fps": 30.0, "name": "cam"}, "emulated camera", world=world)
    with cam:
        assert cam.process_info["pid"] != os.getpid()
        assert cam.streams[0].sample_shape == (48, 64, 3) and cam.description == "emulated camera"
        cam.start(recorder)
        assert recorder.wait_samples(40, timeout=60), f"{len(recorder.chunks)} frames"
        cam.stop()
    for c in recorder.chunks:
        t = float(c.timestamps[0])
        assert (c.data[0] == world.video_frame(t, 64, 48)).all()
        assert c.arrival_times[0] == t
    ts = np.concatenate([c.timestamps for c in recorder.chunks])
    assert (np.diff(ts) > 0).all()


def test_emulated_microphone_samples_are_counted_stamped_and_whole(recorder):
    """Every sample the child's sound card captured arrives, in order, stamped on the host clock
    near the world's truth: a clap the child heard is where the world clapped."""
    world = World(clap_interval=0.5)
    mic = build_emulated(EmulatedConfig(device="microphone", name="mic", rate=16000, channels=2, drift_ppm=20.0))
    assert isinstance(mic, ProcessSource)
    mic.spec["world"] = {"t0": world.t0, "clap_interval": 0.5, "seed": 0, "clap_width": world.clap_width}
    with mic:
        mic.start(recorder)
        assert recorder.wait_samples(16000 * 2, timeout=60)
        mic.stop()
        got = recorder.joined()
    assert mic.stats["mic"].dropped == 0 and mic.stats["mic"].samples == len(got.timestamps)
    assert got.data.dtype == np.int16 and got.data.shape[1] == 2
    assert (np.diff(got.device_times) > 0).all() and np.allclose(np.diff(got.device_times), 1 / 16000)
    assert (np.diff(got.timestamps) > 0).all()
    loud = got.timestamps[np.abs(got.data[:, 0].astype(float)) > 0.5 * 32768]
    heard = []  # (clap, first loud sample after it) for the claps inside the recording
    for clap in world.clap_times(got.timestamps[0] + 0.01, got.timestamps[-1] - 0.05):
        near = loud[(loud >= clap - 0.01) & (loud < clap + 0.05)]
        heard.append((clap, near.min() if len(near) else np.inf))
    assert heard, "no clap inside two seconds of a world clapping every 0.5 s"
    assert max(abs(first - clap) for clap, first in heard) < 0.01, heard

def test_video_file_through_a_device_process_is_the_same_frames_in_order(clip_path, recorder):
    cam = CAMERA_KIND.build(CameraConfig(name="cam", device=str(clip_path), loop=True))
    assert isinstance(cam, ProcessSource)
    with cam:
        cam.start(recorder)
        assert recorder.wait_samples(CLIP_FRAMES + 5, timeout=60)
        cam.stop()
    got = [decode_index(c.data[0]) for c in recorder.chunks]
    assert got[: CLIP_FRAMES + 5] == [i % CLIP_FRAMES for i in range(CLIP_FRAMES + 5)]


def test_a_video_file_without_loop_ends_the_stream_normally(clip_path, recorder):
    cam = CAMERA_KIND.build(CameraConfig(name="cam", device=str(clip_path), fps=120, loop=False))
    stopped = []
    cam.stopped.connect(lambda: stopped.append(True))
    with cam:
        cam.start(recorder)
        assert wait_until(lambda: stopped, 60)
        assert not cam.running and not cam.stats["cam"].error
    assert [decode_index(c.data[0]) for c in recorder.chunks] == list(range(CLIP_FRAMES))


def test_the_device_error_of_the_child_is_the_one_the_user_reads(tmp_path):
    cam = CAMERA_KIND.build(CameraConfig(name="cam", device=str(tmp_path / "nope.avi"), reader="process"))
    with pytest.raises(SourceError, match=r"no such video file: .*nope\.avi"):
        cam.open()
    assert cam._proc is None  # the child is gone


def test_a_killed_device_process_is_a_lost_device_and_the_others_keep_going(recorder):
    world = World()
    cam = ProcessSource(CAMERA, {"width": 32, "height": 24, "fps": 30.0, "name": "cam"}, "emulated camera", world=world)
    mic = ProcessSource(MICROPHONE, {"samplerate": 8000, "name": "mic"}, "emulated microphone", world=world)
    failures = []
    cam.failed.connect(lambda stream, message: failures.append((stream, message)))
    with cam, mic:
        cam.start(lambda s, c: None)
        mic.start(recorder)
        assert recorder.wait_samples(4000, timeout=60)
        os.kill(cam.process_info["pid"], signal.SIGKILL)
        assert wait_until(lambda: failures, 30), "the camera's end was not reported"
        before = sum(len(c) for c in recorder.chunks)
        assert recorder.wait_samples(before + 8000, timeout=60), "the microphone stopped with the camera"
        assert mic.running and not mic.stats["mic"].error
    stream, message = failures[0]
    assert "emulated camera lost" in message and "killed by SIGKILL" in message and "other devices keep recording" in message
    assert cam.stats["cam"].error == message and not cam.running


def test_no_real_time_permission_runs_at_normal_priority_said_once(monkeypatch, caplog, recorder):
    """A priority the OS refuses (here one outside SCHED_FIFO's range, as a user without the
    right gets refused) is a warning once, never an error: the device runs."""
    monkeypatch.setattr(device_process, "RT_PRIORITY", 1000)
    monkeypatch.setattr(device_process, "_priority_reported", type(device_process._priority_reported)())
    caplog.set_level(logging.WARNING, logger="sensorlab.acquisition.device_process")
    sources = [ProcessSource(MICROPHONE, {"samplerate": 8000, "name": f"mic{i}"}, "emulated microphone") for i in range(2)]
    for src in sources:
        src.open()
    try:
        assert [s.process_info["realtime"] for s in sources] == [False, False]
        sources[0].start(recorder)
        assert recorder.wait_samples(4000, timeout=60)
    finally:
        for src in sources:
            src.close()
    said = [r for r in caplog.records if "normal priority" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING


def test_the_warm_up_hold_is_released_across_the_process(recorder):
    """A recording stopped within the microphone's warm-up asks for the held samples
    (`release_held`): the child's source hands them over before the answer comes."""
    mic = ProcessSource(MICROPHONE, {"samplerate": 8000, "name": "mic", "warmup": 30.0}, "emulated microphone")
    with mic:
        mic.start(recorder)
        assert not recorder.wait_samples(1, timeout=1.0), "the warm-up did not hold"
        assert mic.release_held(30.0)
        # Without the release nothing would come for 30 s (the hold); after it everything flows.
        assert recorder.wait_samples(800, timeout=20), "the child's warm-up was not released"
        mic.stop()


@pytest.mark.audio
def test_a_sound_card_in_a_device_process_records_the_world_on_time(pulse, clap_world, recorder, monkeypatch):
    """`[[audio]]` with the default ``reader``: PortAudio's stream runs in the child, and the
    claps fed to the virtual microphone come out stamped where the world clapped."""
    from sensorlab.acquisition.kinds.audio import KIND as AUDIO_KIND, AudioConfig

    monkeypatch.setenv("HOME", str(pulse.root))  # the child's ALSA finds the private `vmic` there
    mic = AUDIO_KIND.build(AudioConfig(name="mic", device="vmic", rate=48000))
    assert isinstance(mic, ProcessSource)
    with pulse.feed(clap_world), mic:
        assert mic.streams[0].dtype == "int16" and mic.streams[0].scale == (1 / 32768,)
        mic.start(recorder)
        assert recorder.wait_samples(int(2.5 * 48000), timeout=60), "no audio arrived"
        mic.stop()
        c = recorder.joined()
    np.testing.assert_allclose(c.device_times, np.arange(len(c)) / 48000)
    assert (np.diff(c.timestamps) > 0).all() and mic.stats["mic"].dropped == 0
    x, ts = np.abs(c.data[:, 0].astype(np.float64)) / 32768, c.timestamps
    errors = []
    for tc in clap_world.clap_times(ts[0] + 0.02, ts[-1] - 0.06):
        near = (ts > tc - 0.1) & (ts < tc + 0.1)
        errors.append(ts[near][np.argmax(x[near] > 0.3)] - tc)
    assert errors and np.max(np.abs(errors)) < 0.01, errors
