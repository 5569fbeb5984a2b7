"""`Acquisition` releases every device it opened when it cannot go on (duplicate stream names)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.source import SourceBase, SourceError
from sensorlab.studio import headless
from tests.acquisition.conftest import wait_until


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


class SlowToOpen(PipeSource):
    """Opens like a camera on a slow URL: the rig may be replaced meanwhile."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.opening = threading.Event()

    def _open(self) -> None:
        self.opening.set()
        time.sleep(0.5)
        super()._open()


class WontStart(PipeSource):
    def _start(self) -> None:
        raise SourceError("input stream rejected: device busy")


def test_closing_while_opening_ends_closed_and_never_starts():
    src = SlowToOpen("cam", "timeseries", rate=100, shape=(1,))
    acq = Acquisition([src])
    opener = threading.Thread(target=lambda: (acq.open(), acq.start()))
    opener.start()
    assert src.opening.wait(10)  # really while opening, not before the opener got going
    acq.close()  # the user picked another rig while this one was opening
    opener.join(10)
    assert not opener.is_alive()
    assert not src.running
    assert not getattr(src, "fds", ())  # whatever it opened was released (or never opened)


def test_a_source_that_fails_to_start_is_reported_and_the_others_run():
    good = PipeSource("imu", "timeseries", rate=200, shape=(3,))
    bad = WontStart("mic", "audio", rate=1000, shape=(1,))
    acq = Acquisition([good, bad])
    acq.open()
    acq.start()
    try:
        assert [s.name for s in acq.streams.values()] == ["imu"]
        assert any("device busy" in msg for msg in acq.errors.values())
        assert not bad.fds  # closed
        assert good.running
        assert wait_until(lambda: acq.stats["imu"].samples > 0, timeout=10)  # and it delivers
    finally:
        acq.close()
