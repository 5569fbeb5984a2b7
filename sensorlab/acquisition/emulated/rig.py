"""The built-in demo rig: every modality, emulated, observing one simulated world.

- ``camera``: 640×480 @ 30 fps video
- ``mic``: stereo microphone at 48 kHz (its sample clock runs 20 ppm fast)
- ``imu`` + ``radar``: one binary-protocol microcontroller on a pseudo-terminal carrying a
  1 kHz 6-axis IMU and 64×32 range-Doppler maps at 20 Hz; its clock drifts 100 ppm
- ``eeg``: a 16-channel 1 kHz biosignal amplifier (binary protocol)
- ``wrist``: a 100 Hz IMU speaking CSV text lines (the Edge Impulse data-forwarder format)
"""

from __future__ import annotations

from sensorlab.acquisition.rig import EmulatedConfig, RigConfig
from sensorlab.acquisition.source import SourceBase


def demo_rig(eeg: bool = True, text_imu: bool = True) -> RigConfig:
    """The demo rig as a `RigConfig` (what ``sensorlab record --demo`` records). Stream names
    are spelled out, so the rig file says that the text IMU's stream is called ``wrist``."""
    devices = [
        EmulatedConfig(device="camera", name="camera"),
        EmulatedConfig(device="microphone", name="mic", channels=2, drift_ppm=20.0),
        EmulatedConfig(device="imu-radar", drift_ppm=100.0),
    ]
    if eeg:
        devices.append(EmulatedConfig(device="eeg", name="eeg", drift_ppm=-50.0))
    if text_imu:
        devices.append(EmulatedConfig(device="imu-text", name="wrist", drift_ppm=30.0))
    return RigConfig(name="demo", emulated=devices)


def demo_sources(eeg: bool = True, text_imu: bool = True) -> list[SourceBase]:
    """Unopened sources of the demo rig."""
    return demo_rig(eeg, text_imu).build_sources()
