"""The ``[[emulated]]`` device kind: simulated devices for demos and tests, no hardware needed.

They observe one shared simulated world (`emulated/world.py`), so a clap is seen by the
emulated camera, heard by the microphone and felt by the IMU at the same moment.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from sensorlab.acquisition.kinds.base import DeviceConfig, DeviceKind, EditorField, Found, optional_float

#: The emulated devices and the stream each records by default (a rig may override it with
#: ``name``); "" for a two-stream device, which names its streams itself (imu, radar).
EMULATED_NAMES = {
    "camera": "camera",
    "microphone": "mic",
    "imu-text": "wrist",
    "imu-binary": "imu",
    "radar": "radar",
    "imu-radar": "",
    "eeg": "eeg",
    "classifier": "classifier",
}
EMULATED = tuple(EMULATED_NAMES)
#: Allowed ranges of an emulated device's ``rate`` by kind (Hz), measured: above them the
#: emulated serial link overflows (samples dropped, or none recorded at all), below them a
#: binary device (10 samples per packet) sends nothing for seconds.
EMULATED_RATES = {
    "camera": (1.0, 120.0),
    "microphone": (8000.0, 192000.0),
    "imu-text": (1.0, 2000.0),
    "imu-binary": (10.0, 5000.0),
    "radar": (1.0, 40.0),
    "imu-radar": (10.0, 2000.0),
    "eeg": (10.0, 4000.0),
    "classifier": (1.0, 100.0),  # windows classified per second (1 / hop)
}
#: The emulated EEG's 2 Mbaud link carries at most this many int16 values per second (rate × channels).
EEG_VALUES_PER_S = 64_000
#: An emulated clock error beyond ±5 % is no real oscillator (crystals: ±100 ppm, RC: ±2 %).
MAX_DRIFT_PPM = 50_000.0


class EmulatedConfig(DeviceConfig):
    allow_empty_name: ClassVar[bool] = True  # "": the emulated device's own default name
    name: str = ""
    device: Literal["camera", "microphone", "imu-text", "imu-binary", "radar", "imu-radar", "eeg", "classifier"]
    rate: float | None = Field(default=None, gt=0)
    channels: int | None = Field(default=None, ge=1, le=64)
    drift_ppm: float = Field(default=0.0, ge=-MAX_DRIFT_PPM, le=MAX_DRIFT_PPM)
    # classifier only: the chance that a window's printed class is wrong (injected divergences).
    misreport: float | None = Field(default=None, ge=0.0, le=1.0)
    # The device as threads of the recording process, sharing its GIL and CPU (for tests that
    # need the emulator's internals); default: a board (serial kinds) in the board host process
    # (emulated/board_host.py), the camera and the microphone each in a device process of its
    # own (device_process.py), as independent of the recording's load as real hardware.
    in_process: bool = False

    @field_validator("rate")
    @classmethod
    def _rate_in_range(cls, v: float | None, info: ValidationInfo) -> float | None:
        device = info.data.get("device")  # validated before `rate` (field order)
        if v is not None and device in EMULATED_RATES:
            lo, hi = EMULATED_RATES[device]
            if not lo <= v <= hi:
                raise ValueError(f"an emulated {device} runs at {lo:g} … {hi:g} Hz, got {v:g}")
        return v

    @field_validator("channels")
    @classmethod
    def _link_carries_it(cls, v: int | None, info: ValidationInfo) -> int | None:
        rate = info.data.get("rate") or 1000.0  # the EEG's default rate (build_emulated)
        if v is not None and info.data.get("device") == "eeg" and v * rate > EEG_VALUES_PER_S:
            most = int(EEG_VALUES_PER_S // rate)
            raise ValueError(f"{v} channels at {rate:g} Hz exceed the emulated link; use at most {most} channels at this rate")
        return v


class EmulatedKind(DeviceKind):
    table = "emulated"
    config = EmulatedConfig
    title = "Emulated demo devices"
    hint = "[[emulated]] device = NAME"
    order = 40
    scanned = False
    editor = (EditorField("device", choices=EMULATED), EditorField("rate", optional_float))

    def list_devices(self) -> list[Found]:
        return [Found(d, d, EmulatedConfig(name=d.replace("-", "_"), device=d)) for d in EMULATED]

    def listing_lines(self, found: list[Found]) -> list[str]:
        return [f"Emulated devices (rig: {self.hint}): " + ", ".join(f.line for f in found)]  # one line: no hardware

    def build(self, config: EmulatedConfig):
        return build_emulated(config)

    def named(self, config: EmulatedConfig) -> EmulatedConfig:
        if not config.name and EMULATED_NAMES[config.device]:
            return config.model_copy(update={"name": EMULATED_NAMES[config.device]})
        return config

    def fixed_name(self, config: EmulatedConfig) -> str | None:
        return None if EMULATED_NAMES[config.device] else "streams imu and radar (named by the device)"

    def describe(self, config: EmulatedConfig) -> str:
        if not EMULATED_NAMES[config.device]:
            return f"emulated · {config.device} · streams imu, radar"
        return f"emulated · {config.name or EMULATED_NAMES[config.device]} · {config.device}"


KIND = EmulatedKind()


def build_emulated(config: EmulatedConfig):
    """An emulated device of the shared simulated world (`emulated/world.py`), not opened.

    A board (every serial kind) runs in the board host process (`emulated/board_host.py`), as
    independent of the recording process's load as real hardware, unless ``in_process``."""
    from sensorlab.acquisition.emulated.serial_device import EmulatedSerialSource
    from sensorlab.acquisition.emulated.world import shared_world

    world = shared_world()
    name = config.name or EMULATED_NAMES[config.device]
    if config.device in ("camera", "microphone"):
        return _camera_or_microphone(config, world, name)
    protocol, kwargs = board_source_args(config)
    if config.in_process:
        return EmulatedSerialSource(emulated_board(config, world), protocol, **kwargs)
    from sensorlab.acquisition.emulated.board_host import RemoteBoard

    return EmulatedSerialSource(RemoteBoard(config, world), protocol, **kwargs)


def _camera_or_microphone(config: EmulatedConfig, world, name: str):
    """The emulated camera or microphone: in a device process (`ProcessSource`) unless ``in_process``."""
    if config.device == "camera":
        factory, kwargs = "sensorlab.acquisition.emulated.camera:EmulatedCamera", {"fps": config.rate or 30.0, "name": name}
    else:
        factory = "sensorlab.acquisition.emulated.microphone:EmulatedMicrophone"
        kwargs = {"samplerate": int(config.rate or 48000), "channels": config.channels or 1, "name": name, "drift_ppm": config.drift_ppm}
    if not config.in_process:
        from sensorlab.acquisition.device_process import ProcessSource

        return ProcessSource(factory, kwargs, f"emulated {config.device}", world=world)
    module, _, cls = factory.partition(":")
    import importlib

    return getattr(importlib.import_module(module), cls)(world=world, **kwargs)


def board_source_args(config: EmulatedConfig) -> tuple[str, dict]:
    """The protocol and `SerialSource` options that read an emulated board."""
    from sensorlab.acquisition.emulated import mcu

    name = config.name or EMULATED_NAMES[config.device]
    if config.device == "imu-text":
        return "text", {"name": name, "nominal_rate": config.rate or 100.0, "channel_names": mcu.IMU_CHANNELS, "units": mcu.IMU_UNITS}
    if config.device == "classifier":
        return "events", {"name": name}
    return "binary", {}


def emulated_board(config: EmulatedConfig, world):
    """The emulated microcontroller of a serial kind (its pty open, not started)."""
    from sensorlab.acquisition.emulated import mcu

    name = config.name or EMULATED_NAMES[config.device]
    drift = {"drift_ppm": config.drift_ppm}
    if config.device == "imu-text":
        return mcu.TextIMU(rate=config.rate or 100.0, world=world, **drift)
    if config.device == "classifier":
        from sensorlab.acquisition.emulated.classifier import ClassifierMCU

        hop = 1.0 / (config.rate or 10.0)
        return ClassifierMCU(window=max(0.4, hop), hop=hop, misreport=config.misreport or 0.0, world=world, **drift)
    if config.device == "imu-binary":
        return mcu.BinaryIMU(rate=config.rate or 1000.0, name=name, world=world, **drift)
    if config.device == "radar":
        return mcu.RadarMCU(rate=config.rate or 20.0, name=name, world=world, **drift)
    if config.device == "imu-radar":
        return mcu.imu_radar_mcu(imu_rate=config.rate or 1000.0, world=world, **drift)
    return mcu.BinaryMCU(  # eeg
        [eeg_stream(world, name, config.rate or 1000.0, config.channels or 16)],
        device="sensorlab emulated EEG amplifier",
        world=world,
        baudrate=2_000_000,
        **drift,
    )


def eeg_stream(world, name: str, rate: float, channels: int):
    """A ``channels``-channel int16 biosignal stream (0.1 µV per count)."""
    from sensorlab.acquisition.emulated.mcu import EmulatedStream
    from sensorlab.acquisition.serial.description import StreamDescription

    desc = StreamDescription(
        0, name, "timeseries", rate, "int16", (channels,),
        tuple(f"ch{i + 1}" for i in range(channels)), ("uV",), (0.1,),
    )  # fmt: skip
    return EmulatedStream(desc, lambda t: world.biosignal(t, channels), 10)
