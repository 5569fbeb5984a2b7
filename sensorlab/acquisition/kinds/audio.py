"""The ``[[audio]]`` device kind: a PortAudio input (microphone, line in, PulseAudio source)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from sensorlab.acquisition.kinds.base import DeviceConfig, DeviceKind, EditorField, Found
from sensorlab.acquisition.source import SourceError


class AudioConfig(DeviceConfig):
    name: str = "audio"
    device: int | str | None = None  # None: the system default input
    rate: int = Field(default=48000, ge=1000, le=768000)
    channels: int = Field(default=1, ge=1, le=64)
    blocksize: int = Field(default=480, ge=16, le=65536)
    # Run the sound card's stream in a device process of its own ("process"), in the recording
    # process ("thread"), or choose ("auto": the process on Linux/macOS), where the studio's
    # GIL and load cannot delay its callback (acquisition/device_process.py).
    reader: Literal["auto", "thread", "process"] = "auto"


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    default_samplerate: float
    is_default: bool = False


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


class AudioKind(DeviceKind):
    table = "audio"
    config = AudioConfig
    title = "Audio inputs"
    hint = "[[audio]] device = INDEX or NAME"
    order = 20
    none_found = "(none: is PulseAudio/PipeWire running, and is a microphone connected?)"
    editor = (
        EditorField("device", lambda s: s or None),
        EditorField("rate", int, choices=("8000", "16000", "22050", "44100", "48000", "96000"), editable=True),
        EditorField("channels", int),
    )

    def list_devices(self) -> list[Found]:
        return [
            Found(
                f"{a.index}: {a.name} [{a.hostapi}] {a.max_input_channels} ch, {a.default_samplerate:g} Hz" + (" (default)" if a.is_default else ""),
                f"{a.name} ({a.hostapi}, {a.max_input_channels} ch, {a.default_samplerate:g} Hz)",
                AudioConfig(name="mic", device=a.name, rate=int(a.default_samplerate), channels=min(2, a.max_input_channels)),
                a,
            )
            for a in list_audio_inputs()
        ]

    def build(self, config: AudioConfig):
        from sensorlab.acquisition.device_process import ProcessSource, wants_device_process

        kwargs = {"device": config.device, "samplerate": config.rate, "channels": config.channels,
                  "blocksize": config.blocksize, "name": config.name}  # fmt: skip
        if wants_device_process(config.reader):
            return ProcessSource("sensorlab.acquisition.audio:AudioSource", kwargs, f"audio {config.device if config.device is not None else 'default'}")
        from sensorlab.acquisition.audio import AudioSource

        return AudioSource(**kwargs)

    def describe(self, config: AudioConfig) -> str:
        device = config.device if config.device is not None else "default input"
        return f"audio · {config.name} · {device} · {config.rate} Hz × {config.channels}"


KIND = AudioKind()
