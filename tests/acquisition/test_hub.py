"""`Acquisition` releases every device it opened when it cannot go on (duplicate stream names)."""

from __future__ import annotations

import os

import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.source import SourceBase, SourceError
from sensorlab.session import headless


class PipeSource(SignalSource):
    """A SignalSource that holds a real OS resource (a pipe) while open, like a port or a pty."""

    def _open(self) -> None:
        super()._open()
        self.fds = os.pipe()

    def _close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds = ()


class Unplugged(SourceBase):
    def __init__(self):
        super().__init__("usb camera /dev/video7")

    def _open(self) -> None:
        raise SourceError("/dev/video7: no such device (is it plugged in?)")


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def test_duplicate_stream_names_close_what_was_opened():
    a, b = PipeSource("imu", shape=(3,), rate=100), PipeSource("imu", shape=(3,), rate=100)
    acq = Acquisition([a, b])
    with pytest.raises(SourceError, match="stream name"):
        acq.open()
    fds = [*a.__dict__.get("fds", ()), *b.__dict__.get("fds", ())]
    assert a.fds == () and b.fds == () and not any(_is_open(fd) for fd in fds)
    assert acq.sources == []


def test_headless_record_closes_everything_when_opening_fails(tmp_path):
    a, b = PipeSource("imu", shape=(3,), rate=100), PipeSource("imu", shape=(3,), rate=100)
    with pytest.raises(SourceError, match="stream name"):
        headless.record([a, b], tmp_path / "x.h5", duration=1)
    assert a.fds == () and b.fds == ()
    assert not (tmp_path / "x.h5").exists()


def test_a_device_that_does_not_open_is_reported_and_the_rest_runs():
    ok = PipeSource("imu", shape=(3,), rate=100)
    acq = Acquisition([ok, Unplugged()])
    acq.open()
    try:
        assert acq.sources == [ok] and "no such device" in acq.errors["usb camera /dev/video7"]
    finally:
        acq.close()
    assert ok.fds == ()
