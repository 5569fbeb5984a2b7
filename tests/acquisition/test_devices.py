"""Device listing: cameras, audio inputs, serial ports."""

from __future__ import annotations

import sys

import pytest

from sensorlab.acquisition import devices
from sensorlab.acquisition.source import SourceError


def test_list_cameras_returns_dataclasses():
    cams = devices.list_cameras()
    assert all(isinstance(c, devices.CameraDevice) for c in cams)


def test_list_serial_ports():
    ports = devices.list_serial_ports()
    assert all(isinstance(p, devices.SerialPortInfo) and p.port for p in ports)


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
