"""The LSL streams this machine sees, for ``sensorlab devices``."""

from __future__ import annotations

from dataclasses import dataclass

from sensorlab.acquisition.lsl.runtime import _CF_NAMES, pylsl

#: Seconds `list_lsl_streams` listens for stream announcements (LSL's own default).
LISTEN_SECONDS = 1.0


@dataclass(frozen=True)
class LslStreamEntry:
    name: str
    type: str
    source_id: str
    channels: int
    rate: float
    channel_format: str
    hostname: str

    def describe(self) -> str:
        rate = f"{self.rate:g} Hz" if self.rate > 0 else "irregular"
        sid = f", source_id {self.source_id!r}" if self.source_id else ""
        return f"  {self.name!r} type {self.type or '-'!r}: {self.channels} × {self.channel_format}, {rate}, on {self.hostname}{sid}"


def list_lsl_streams(wait: float = LISTEN_SECONDS) -> list[LslStreamEntry]:
    """Every LSL stream that answers within ``wait`` seconds (raises `SourceError` without pylsl)."""
    lsl = pylsl()
    found = lsl.resolve_streams(wait_time=wait)
    out = [
        LslStreamEntry(i.name(), i.type(), i.source_id(), i.channel_count(), i.nominal_srate(), _CF_NAMES.get(i.channel_format(), "?"), i.hostname())
        for i in found
    ]
    return sorted(out, key=lambda e: (e.name, e.source_id))
