"""Device listing: cameras, audio inputs, serial ports."""

from __future__ import annotations

import os
import sys

import pytest

from sensorlab.acquisition import devices
from sensorlab.acquisition.source import SourceError
from tests.acquisition.conftest import wait_until


def test_cameras_listed_are_the_video_devices_that_exist():
    """Each camera listed is a /dev/videoN that opened with a real size; a machine with none
    gets the one-line hint instead of an empty list."""
    found = devices.list_devices()
    nodes = [i for i in range(4) if os.path.exists(f"/dev/video{i}")] if sys.platform.startswith("linux") else None
    for cam in found.cameras:
        assert isinstance(cam, devices.CameraDevice) and cam.width > 0 and cam.height > 0
        assert nodes is None or cam.index in nodes
    if not found.cameras:
        assert any("no camera found at index 0-3" in p and "stream URL" in p for p in found.problems)


@pytest.fixture
def usb_named_pty(tmp_path, raw_pty):
    """A real pseudo-terminal reachable as ``ttyUSB0`` (a symlink, as udev makes for USB
    adapters) in the test's own device folder: no other test's listing of /dev sees it."""
    if not sys.platform.startswith("linux"):
        pytest.skip("serial ports are listed from a device folder on Linux only")
    master, port = raw_pty
    link = tmp_path / "ttyUSB0"
    link.symlink_to(port)
    return str(link), master, tmp_path


def test_a_serial_adapter_appears_in_the_listing_and_opens(usb_named_pty):
    from sensorlab.acquisition.serial.port import SerialSource

    link, master, dev = usb_named_pty
    [port] = devices.list_serial_ports(dev)
    # Named for what it is: not "n/a" (what pyserial says of a link it knows nothing about).
    assert (port.port, port.description) == (link, f"pseudo-terminal ({os.path.realpath(link)})")
    # The listed name is one a rig can use: it opens and reads what the device sends.
    got = []
    src = SerialSource(link, name="x", channel_names=["a", "b"], nominal_rate=100.0)
    with src:
        src.start(lambda stream, chunk: got.append(chunk))
        os.write(master, b"junk\n" + b"".join(f"{i},{-i}\n".encode() for i in range(10)))
        assert wait_until(lambda: sum(len(c) for c in got) >= 10, timeout=10)
        src.stop()
    assert [float(c.data[i, 0]) for c in got for i in range(len(c))][:10] == list(range(10))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sysfs")
def test_placeholder_uarts_are_hidden_and_real_ones_say_what_they_are(tmp_path, raw_pty):
    """Since Linux 6.5 pyserial lists every /dev/ttyS0…31 as "n/a": a desktop showed 32 ports
    with one USB adapter among them. A ttyS name with no UART behind it (sysfs type 0) is not
    listed; one with a UART is listed after the adapters, said to be built in."""
    dev, sys_root = tmp_path / "dev", tmp_path / "sys"
    dev.mkdir()
    # Names this machine's own sysfs does not know (pyserial reads the real /sys/class/tty).
    for name, uart_type in (("ttyS90", "4"), ("ttyS91", "0"), ("ttyS92", "0")):
        (dev / name).touch()
        (sys_root / "class" / "tty" / name).mkdir(parents=True)
        (sys_root / "class" / "tty" / name / "type").write_text(uart_type + "\n")
    (dev / "ttyACM0").symlink_to(raw_pty[1])
    ports = devices.list_serial_ports(dev, sys_root)
    assert [(p.port, p.description.split(" (")[0]) for p in ports] == [
        (str(dev / "ttyACM0"), "pseudo-terminal"),
        (str(dev / "ttyS90"), "built-in UART"),
    ]
    assert not any("n/a" in p.description or "n/a" in p.hwid for p in ports)


def test_the_listing_never_says_n_a():
    """``sensorlab devices`` on this machine: every serial line says what the port is."""
    serial = [line for line in devices.list_devices().describe() if line.startswith("  /dev/")]
    assert not any("n/a" in line for line in serial), serial


def test_missing_portaudio_is_one_clear_problem(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    with pytest.raises(SourceError, match="libportaudio2"):
        devices.list_audio_inputs()
    found = devices.list_devices()
    assert found.audio == [] and any("libportaudio2" in p for p in found.problems)


@pytest.mark.audio
def test_virtual_mic_is_listed(pulse):
    names = [d.name for d in devices.list_audio_inputs()]
    assert "vmic" in names and "vmonitor" in names


def test_no_camera_hint_only_when_the_rig_asks_for_a_camera_index(tmp_path):
    """A rig filming a stream URL or a video file has no use for "no camera found at index
    0-3"; a rig asking for index 0, or no rig at all, still gets it (on a machine without one)."""
    from sensorlab.acquisition.kinds.camera import CameraConfig
    from sensorlab.acquisition.kinds.serial import SerialConfig

    clip = tmp_path / "clip.avi"
    clip.write_bytes(b"")

    def hinted(rig) -> bool:
        return any("no camera found at index 0-3" in p for p in devices.list_devices(rig=rig).problems)

    if devices.list_cameras():
        pytest.skip("this machine has a camera at index 0-3: the hint is never given")
    assert not hinted([CameraConfig(device="http://127.0.0.1:8765/stream.mjpg")])
    assert not hinted([CameraConfig(device=str(clip)), SerialConfig(port="/dev/ttyUSB0")])
    assert hinted([CameraConfig(device=0)])
    assert hinted([CameraConfig(device="http://127.0.0.1:8765/stream.mjpg"), CameraConfig(name="cam2", device=1)])
    assert hinted([SerialConfig(port="/dev/ttyUSB0")]) and hinted(None)  # no camera asked for: say what works
