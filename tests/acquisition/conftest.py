"""Virtual-device fixtures for acquisition tests: PulseAudio microphone, video clip, MJPEG URL,
a raw pseudo-terminal as a serial port."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from sensorlab.acquisition.emulated.world import World

CLIP_FRAMES = 20
CLIP_FPS = 30.0
CLIP_SIZE = (160, 120)  # (w, h)
_BITS = 5  # frame index encoded as 5 vertical black/white stripes (survives JPEG)


def encode_index(i: int, size=CLIP_SIZE) -> np.ndarray:
    w, h = size
    frame = np.zeros((h, w, 3), np.uint8)
    stripe = w // _BITS
    for b in range(_BITS):
        if i >> b & 1:
            frame[:, b * stripe : (b + 1) * stripe] = 255
    return frame


def decode_index(frame: np.ndarray) -> int:
    stripe = frame.shape[1] // _BITS
    return sum(1 << b for b in range(_BITS) if frame[:, b * stripe : (b + 1) * stripe].mean() > 127)


def wait_until(predicate, timeout: float = 30.0, poll: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds passed; its last value."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return bool(predicate())
        time.sleep(poll)
    return True


class Recorder:
    """A sink collecting chunks, and a failure listener, with a wait helper."""

    def __init__(self):
        self.chunks = []
        self.failures: list[str] = []
        self._event = threading.Event()
        self._want = 0

    def __call__(self, stream, chunk) -> None:
        self.chunks.append(chunk)
        if sum(len(c) for c in self.chunks) >= self._want:
            self._event.set()

    def on_failed(self, stream, message) -> None:
        self.failures.append(message)
        self._event.set()

    def wait_samples(self, n: int, timeout: float) -> bool:
        self._want = n
        self._event.clear()
        if sum(len(c) for c in self.chunks) >= n:
            return True
        return self._event.wait(timeout)

    def wait_failure(self, timeout: float) -> bool:
        self._want = 1 << 62
        self._event.clear()
        return bool(self.failures) or self._event.wait(timeout)

    def joined(self):
        from sensorlab.acquisition.buffers import concat_chunks

        return concat_chunks(self.chunks)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def _need_pulse() -> None:
    from sensorlab.acquisition.emulated.pulse import unavailable

    reason = unavailable()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def pulse(tmp_path_factory):
    """A private PulseAudio daemon (``vmic`` pipe source, ``vsink`` null sink) for the session.

    sounddevice in this process is pointed at it; ``AudioSource("vmic")`` records what
    ``pulse.feed(...)`` writes.
    """
    _need_pulse()
    from sensorlab.acquisition.emulated.pulse import VirtualPulse

    vp = VirtualPulse(tmp_path_factory.mktemp("pulse")).start()
    _session_pulse.append(vp)
    yield vp
    _session_pulse.clear()
    vp.stop()


_session_pulse: list = []


@pytest.fixture
def private_pulse(tmp_path):
    """A daemon of the test's own, which the test may kill; the session daemon (if any) is
    re-activated afterwards."""
    _need_pulse()
    from sensorlab.acquisition.emulated.pulse import VirtualPulse

    vp = VirtualPulse(tmp_path / "pulse").start()
    yield vp
    vp.stop()
    for session in _session_pulse:
        session.activate()


@pytest.fixture
def clap_world() -> World:
    """A World clapping every 0.5 s, so a 2-3 s recording holds several claps."""
    return World(clap_interval=0.5)


@pytest.fixture
def clip_path(tmp_path):
    """A 20-frame 30 fps MJPG .avi whose frame index is encoded in its pixels."""
    import cv2

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), CLIP_FPS, CLIP_SIZE)
    assert writer.isOpened()
    for i in range(CLIP_FRAMES):
        writer.write(encode_index(i))
    writer.release()
    return path


@pytest.fixture
def mjpeg_url(clip_path):
    """URL of an MJPEG-over-HTTP server process looping ``clip_path``; yields (url, process)."""
    from sensorlab.acquisition.emulated.mjpeg_server import start_process

    proc, url = start_process(clip_path, fps=CLIP_FPS)
    yield url, proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(5)
    proc.stdout.close()


@pytest.fixture
def raw_pty():
    """A real pseudo-terminal in raw mode, as a board's serial port: ``(master, port)``, the
    file descriptor the test writes to as the device and the port path a source opens."""
    import tty

    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


@pytest.fixture
def board_describing():
    """``with board_describing(master, description): source.open()``: a board on the pty whose
    ``master`` fd a test holds (`raw_pty`) that sends its self-description every 50 ms, as a
    real one answers DESCRIBE, until the block ends; its thread is joined on leaving, so nothing
    of it arrives after the source's open."""
    import threading
    from contextlib import contextmanager

    from sensorlab.acquisition.serial.binary import encode_description

    @contextmanager
    def describing(master: int, description):
        done = threading.Event()

        def answer() -> None:
            while not done.is_set():
                for frame in encode_description(description):
                    os.write(master, frame)
                done.wait(0.05)

        board = threading.Thread(target=answer, name="board answering DESCRIBE", daemon=True)
        board.start()
        try:
            yield
        finally:
            done.set()
            board.join()

    return describing
