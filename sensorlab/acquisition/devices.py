"""List the cameras, audio inputs, serial ports and LSL streams this machine has (``sensorlab devices``).

Each lister returns plain dataclasses and never hangs: camera indices are probed with a
deadline, and a missing PortAudio becomes one line in ``problems``, not a traceback.

Examples
--------
>>> found = list_devices()                          # doctest: +SKIP
>>> [c.index for c in found.cameras], [a.name for a in found.audio], found.problems
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field

from sensorlab.acquisition.source import SourceError


@dataclass(frozen=True)
class CameraDevice:
    index: int
    width: int
    height: int
    fps: float


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    default_samplerate: float
    is_default: bool = False


@dataclass(frozen=True)
class SerialPortInfo:
    port: str
    description: str
    hwid: str


@dataclass
class Devices:
    cameras: list[CameraDevice] = field(default_factory=list)
    audio: list[AudioDevice] = field(default_factory=list)
    serial: list[SerialPortInfo] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each, naming the fix
    lsl: list = field(default_factory=list)  # `lsl.listing.LslStreamEntry`
    lsl_note: str = ""  # why LSL streams could not be listed (pylsl missing)

    def describe(self) -> list[str]:
        """Lines for ``sensorlab devices``, with the rig-file value to use for each device."""
        lines = ["Cameras (rig: [[camera]] device = INDEX):"]
        lines += [f"  {c.index}: {c.width}x{c.height} @ {c.fps:g} fps" for c in self.cameras] or ["  (none)"]
        lines.append("Audio inputs (rig: [[audio]] device = INDEX or NAME):")
        lines += [
            f"  {a.index}: {a.name} [{a.hostapi}] {a.max_input_channels} ch, {a.default_samplerate:g} Hz"
            + (" (default)" if a.is_default else "")
            for a in self.audio
        ] or ["  (none: is PulseAudio/PipeWire running, and is a microphone connected?)"]
        lines.append("Serial ports (rig: [[serial]] port = PORT; pseudo-terminals and URLs are not listed):")
        lines += [f"  {p.port}: {p.description} [{p.hwid}]" for p in self.serial] or ["  (none)"]
        lines.append("LSL streams (rig: [[lsl]] name = NAME, lsl_name / type / source_id = as listed):")
        lines += [e.describe() for e in self.lsl] or [f"  ({self.lsl_note or 'none seen within 1 s; see docs/LSL.md if they are on another machine'})"]
        lines.append("Emulated devices (rig: [[emulated]] device = NAME): camera, microphone, imu-text, imu-binary, radar, imu-radar, eeg")
        if self.problems:
            lines.append("Notes:")
            lines += [f"  {p}" for p in self.problems]
        return lines


def list_cameras(indices: range = range(4), timeout: float = 2.0) -> list[CameraDevice]:
    """Cameras OpenCV can open among ``indices``; each probe runs with a deadline.

    On Linux an index without ``/dev/videoN`` is skipped without asking OpenCV.
    """
    found: list[CameraDevice] = []
    for i in indices:
        if sys.platform.startswith("linux") and not os.path.exists(f"/dev/video{i}"):
            continue
        result: list[CameraDevice] = []
        # A wedged driver can block VideoCapture for a long time: probe in a daemon thread.
        t = threading.Thread(target=_probe_camera, args=(i, result), daemon=True)
        t.start()
        t.join(timeout)
        found += result
    return found


def _probe_camera(i: int, out: list[CameraDevice]) -> None:
    import cv2

    cap = cv2.VideoCapture(i)
    try:
        if cap.isOpened():
            out.append(CameraDevice(i, int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                                    float(cap.get(cv2.CAP_PROP_FPS))))  # fmt: skip
    finally:
        cap.release()


def list_audio_inputs() -> list[AudioDevice]:
    """Audio devices with input channels, via PortAudio.

    Raises
    ------
    SourceError
        PortAudio is not installed (the message says how to install it).
    """
    try:
        import sounddevice as sd
    except (OSError, ImportError) as e:
        raise SourceError(f"cannot list audio devices: PortAudio is missing ({e}); install it with `sudo apt install libportaudio2`") from e
    apis = [a["name"] for a in sd.query_hostapis()]
    default_in = sd.default.device[0]
    return [
        AudioDevice(d["index"], d["name"], apis[d["hostapi"]], d["max_input_channels"], d["default_samplerate"], d["index"] == default_in)
        for d in sd.query_devices()
        if d["max_input_channels"] > 0
    ]


def list_serial_ports() -> list[SerialPortInfo]:
    """Serial ports pyserial finds (USB-serial adapters, on-board UARTs)."""
    from serial.tools import list_ports

    return [SerialPortInfo(p.device, p.description, p.hwid) for p in sorted(list_ports.comports())]


def list_devices() -> Devices:
    """Everything at once; a lister that fails adds a line to ``problems``."""
    out = Devices()
    for attr, lister in (("cameras", list_cameras), ("audio", list_audio_inputs), ("serial", list_serial_ports)):
        try:
            setattr(out, attr, lister())
        except SourceError as e:
            out.problems.append(str(e))
        except Exception as e:  # a broken driver must not hide the other devices
            out.problems.append(f"listing {attr} failed: {type(e).__name__}: {e}")
    try:
        from sensorlab.acquisition.lsl.listing import list_lsl_streams

        out.lsl = list_lsl_streams()
    except SourceError as e:  # pylsl missing: a note in its own section, not a problem of the machine
        out.lsl_note = str(e)
    except Exception as e:  # noqa: BLE001 - a broken network stack must not hide the other devices
        out.problems.append(f"listing LSL streams failed: {type(e).__name__}: {e}")
    if not out.cameras:
        out.problems.append("no camera found at index 0-3; a video file or a stream URL (ESP32-CAM) also works")
    return out
