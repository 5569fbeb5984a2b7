"""The ``[[lsl]]`` device kind: a Lab Streaming Layer stream on this machine or the network.

The config, the source and the lister live in `sensorlab.acquisition.lsl` (docs/LSL.md);
this module only tells the registry about them. pylsl is imported when a stream is listed
or built, never when a rig is read.
"""

from __future__ import annotations

from sensorlab.acquisition.kinds.base import DeviceKind, EditorField, Found, optional_float
from sensorlab.acquisition.lsl.config import LslConfig, build_lsl_source


def _optional_text(text: str) -> str | None:
    return text or None


class LslKind(DeviceKind):
    table = "lsl"
    config = LslConfig
    title = "LSL streams"
    hint = "[[lsl]] name = NAME, lsl_name / type / source_id = as listed"
    order = 50
    none_found = "(none seen within 1 s; see docs/LSL.md if they are on another machine)"
    editor = (
        EditorField("lsl_name", _optional_text),
        EditorField("type", _optional_text),
        EditorField("source_id", _optional_text),
        EditorField("timeout", optional_float),
    )

    def list_devices(self) -> list[Found]:
        from sensorlab.acquisition.lsl.listing import list_lsl_streams

        found = []
        for e in list_lsl_streams():  # SourceError without pylsl: shown as a note by the caller
            config = LslConfig(name=_stream_name(e.name), lsl_name=e.name, source_id=e.source_id or None)
            found.append(Found(e.describe().strip(), f"LSL {e.name!r} ({e.type or '-'}, {e.channels} ch, on {e.hostname})", config, e))
        return found

    def build(self, config: LslConfig):
        return build_lsl_source(config)

    def describe(self, config: LslConfig) -> str:
        query = ", ".join(f"{k}={v}" for k, v in config.query().items())
        return f"lsl · {config.name} · {query}"


def _stream_name(lsl_name: str) -> str:
    """A usable sensorlab stream name from an LSL stream name (which may hold '/' or spaces)."""
    clean = "".join(c if c.isalnum() or c in "-_" else "_" for c in lsl_name).strip("_")
    return clean[:100] or "lsl"


KIND = LslKind()
