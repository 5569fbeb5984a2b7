"""Turn validated rig entries (`sensorlab.acquisition.rig`) into unopened sources.

Device modules are imported here, lazily, so reading a rig file stays cheap and a missing
driver (e.g. no PortAudio) only matters when that kind of device is actually used.
"""

from __future__ import annotations

from sensorlab.acquisition.lsl.config import LslConfig, build_lsl_source
from sensorlab.acquisition.rig import AudioConfig, CameraConfig, EmulatedConfig, SerialConfig
from sensorlab.acquisition.source import SourceBase

#: Default stream names of emulated devices (a rig may override them with ``name``).
EMULATED_NAMES = {
    "camera": "camera",
    "microphone": "mic",
    "imu-text": "wrist",
    "imu-binary": "imu",
    "radar": "radar",
    "imu-radar": "",  # a two-stream device names its streams: imu, radar
    "eeg": "eeg",
}


def build_source(config: CameraConfig | AudioConfig | SerialConfig | EmulatedConfig | LslConfig) -> SourceBase:
    """Create the source a rig entry describes (not opened)."""
    if isinstance(config, LslConfig):
        return build_lsl_source(config)
    if isinstance(config, CameraConfig):
        from sensorlab.acquisition.camera import CameraSource

        return CameraSource(config.device, config.width, config.height, config.fps, loop=config.loop, name=config.name)
    if isinstance(config, AudioConfig):
        from sensorlab.acquisition.audio import AudioSource

        return AudioSource(config.device, config.rate, config.channels, config.blocksize, name=config.name)
    if isinstance(config, SerialConfig):
        from sensorlab.acquisition.serial.port import SerialSource

        return SerialSource(
            config.port,
            config.baud,
            config.protocol,
            name=config.name if config.protocol == "text" else "",
            channel_names=config.channels,
            units=config.units or (),
            nominal_rate=config.rate or 0.0,
            time_column=config.time_column,
            uart=config.uart,
        )
    return build_emulated(config)


def build_emulated(config: EmulatedConfig) -> SourceBase:
    """An emulated device of the shared simulated world (`emulated/world.py`)."""
    from sensorlab.acquisition.emulated import mcu
    from sensorlab.acquisition.emulated.serial_device import EmulatedSerialSource
    from sensorlab.acquisition.emulated.world import shared_world

    world = shared_world()
    name = config.name or EMULATED_NAMES[config.device]
    drift = {"drift_ppm": config.drift_ppm}
    if config.device == "camera":
        from sensorlab.acquisition.emulated.camera import EmulatedCamera

        return EmulatedCamera(world, fps=config.rate or 30.0, name=name)
    if config.device == "microphone":
        from sensorlab.acquisition.emulated.microphone import EmulatedMicrophone

        return EmulatedMicrophone(world, int(config.rate or 48000), config.channels or 1, name=name, drift_ppm=config.drift_ppm)
    if config.device == "imu-text":
        rate = config.rate or 100.0
        device = mcu.TextIMU(rate=rate, world=world, **drift)
        return EmulatedSerialSource(device, "text", name=name, nominal_rate=rate, channel_names=mcu.IMU_CHANNELS, units=mcu.IMU_UNITS)
    if config.device == "imu-binary":
        device = mcu.BinaryIMU(rate=config.rate or 1000.0, name=name, world=world, **drift)
    elif config.device == "radar":
        device = mcu.RadarMCU(rate=config.rate or 20.0, name=name, world=world, **drift)
    elif config.device == "imu-radar":
        device = mcu.imu_radar_mcu(imu_rate=config.rate or 1000.0, world=world, **drift)
    else:  # eeg
        device = mcu.BinaryMCU(
            [eeg_stream(world, name, config.rate or 1000.0, config.channels or 16)],
            device="sensorlab emulated EEG amplifier",
            world=world,
            baudrate=2_000_000,
            **drift,
        )
    return EmulatedSerialSource(device, "binary")


def eeg_stream(world, name: str, rate: float, channels: int):
    """A ``channels``-channel int16 biosignal stream (0.1 µV per count)."""
    from sensorlab.acquisition.emulated.mcu import EmulatedStream
    from sensorlab.acquisition.serial.description import StreamDescription

    desc = StreamDescription(
        0, name, "timeseries", rate, "int16", (channels,),
        tuple(f"ch{i + 1}" for i in range(channels)), ("uV",), (0.1,),
    )  # fmt: skip
    return EmulatedStream(desc, lambda t: world.biosignal(t, channels), 10)
