"""CameraSource from a video file, from an MJPEG-over-HTTP URL, and when things go wrong."""

from __future__ import annotations

import time

import numpy as np
import pytest

from sensorlab.acquisition.camera import CameraSource
from sensorlab.acquisition.clock import now
from sensorlab.acquisition.source import IRREGULAR, SourceError, StreamKind
from tests.acquisition.conftest import CLIP_FPS, CLIP_FRAMES, decode_index


def indices(recorder) -> list[int]:
    return [decode_index(c.data[0]) for c in recorder.chunks]


def test_file_is_paced_looped_and_in_order(clip_path, recorder):
    with CameraSource(str(clip_path), loop=True) as cam:
        info = cam.streams[0]
        assert (info.kind, info.dtype, info.sample_shape, info.nominal_rate) == (StreamKind.VIDEO, "uint8", (120, 160, 3), CLIP_FPS)
        started = now()
        cam.start(recorder)
        assert recorder.wait_samples(CLIP_FRAMES + 10, timeout=30)
        cam.stop()
    got = indices(recorder)
    assert got[: CLIP_FRAMES + 10] == [i % CLIP_FRAMES for i in range(CLIP_FRAMES + 10)]
    ts = np.concatenate([c.timestamps for c in recorder.chunks])
    assert (np.diff(ts) > 0).all()
    # Paced to the file's 30 fps: frame k is never delivered before its time on the file's
    # clock (OpenCV alone would decode the whole file at once). A loaded machine can only make
    # frames later, so this holds anywhere; the delivered frame rate is measured in bench/.
    due = started + np.arange(len(ts)) / CLIP_FPS
    assert np.all(ts >= due), f"frames ahead of the file's clock by up to {np.max(due - ts) * 1e3:.1f} ms"


def test_file_without_loop_stops_at_the_end(clip_path, recorder):
    with CameraSource(clip_path.as_posix(), fps=120, loop=False) as cam:
        ended = []
        cam.stopped.connect(lambda: ended.append(True))
        cam.start(recorder)
        assert recorder.wait_samples(CLIP_FRAMES, timeout=5)
        cam._thread.join(5)
        assert ended and not cam.running and cam.stats["camera"].error == ""
    assert indices(recorder) == list(range(CLIP_FRAMES))


def test_mjpeg_url_streams_live_frames(mjpeg_url, recorder):
    url, _ = mjpeg_url
    with CameraSource(url) as cam:
        assert cam.streams[0].nominal_rate == IRREGULAR  # FFmpeg's 25 fps for HTTP is made up
        started = now()
        cam.start(recorder)
        assert recorder.wait_samples(30, timeout=30)
        cam.stop()
        stopped = now()
    got = indices(recorder)
    assert all((b - a) % CLIP_FRAMES == 1 for a, b in zip(got, got[1:])), got  # every frame, in order
    # Live frames are stamped on the host clock as they arrive: strictly increasing, inside the
    # time the camera ran. (How fast they come is the server's and the machine's business: the
    # frame rate is measured in bench/, not asserted here.)
    ts = np.array([c.timestamps[0] for c in recorder.chunks])
    assert np.all(np.diff(ts) > 0) and started <= ts[0] and ts[-1] <= stopped


def test_frames_buffered_before_the_start_are_not_stamped_together(mjpeg_url, recorder):
    """A recording opens its camera, then its other devices, then starts: the frames the
    stream buffered meanwhile were filmed before the start. Stamped when read they came back
    within ~1 ms of each other (81 Hz over the first 0.5 s of a 30 fps camera); the first
    stored frames must be the live ones, one server frame period apart."""
    url, _ = mjpeg_url
    with CameraSource(url) as cam:
        time.sleep(0.6)  # other devices open; the server keeps sending ~18 frames meanwhile
        cam.start(recorder)
        assert recorder.wait_samples(12, timeout=30)
        cam.stop()
    got = indices(recorder)
    assert all((b - a) % CLIP_FRAMES == 1 for a, b in zip(got, got[1:])), got  # no gap after the first
    ts = np.array([c.timestamps[0] for c in recorder.chunks])[:12]
    # 11 periods of 33 ms are 367 ms; a backlog stamped on read spans ~20 ms. Half the
    # nominal span leaves room for a busy machine delaying the first read.
    assert ts[-1] - ts[0] >= 0.5 * 11 / CLIP_FPS, f"first 12 frames stamped within {(ts[-1] - ts[0]) * 1e3:.0f} ms"


def test_server_killed_mid_stream_fails_the_stream(mjpeg_url, recorder):
    url, proc = mjpeg_url
    with CameraSource(url, timeout=1.0) as cam:
        cam.failed.connect(recorder.on_failed)
        cam.start(recorder)
        assert recorder.wait_samples(5, timeout=10)
        proc.kill()
        assert recorder.wait_failure(timeout=10)
        assert not cam.running
    assert "stopped delivering frames" in recorder.failures[0]
    assert cam.stats["camera"].error == recorder.failures[0]


def test_missing_camera_says_what_to_check():
    with pytest.raises(SourceError, match=r"camera 97 could not be opened: is it connected.*sensorlab devices"):
        CameraSource(97).open()


def test_unreachable_url_fails_to_open():
    with pytest.raises(SourceError, match="could not be opened"):
        CameraSource("http://127.0.0.1:9/stream.mjpg", timeout=1.0).open()


def test_missing_video_file_is_named_as_such(tmp_path):
    with pytest.raises(SourceError, match=r"no such video file: .*nope\.avi"):
        CameraSource(str(tmp_path / "nope.avi")).open()


def test_a_file_that_is_not_a_video_says_so(tmp_path):
    bogus = tmp_path / "notes.avi"
    bogus.write_text("not a video")
    with pytest.raises(SourceError, match="could not be decoded"):
        CameraSource(str(bogus)).open()
