"""Parser for event lines: a device that prints what happened, one line per event.

What firmware that runs its own model typically prints: the class of each window it
classified (``clap``), or a JSON object (``{"label": "clap", "score": 0.93}``). Each
non-empty line (``\\n`` or ``\\r\\n`` terminated, surrounding spaces stripped) is one event
of an EVENTS stream; its text is kept as it came, so nothing the device said is lost.
`SerialSource` stamps each event with the host time the line arrived (lines carry no
device clock here), which is what comparing the device's answers with the host model's
needs (`sensorlab.inference.device_parity`).

Lines longer than ``max_line`` bytes and lines that are not UTF-8 are counted in
``counters.parse_errors`` and skipped, like any garbage on a serial line.
"""

from __future__ import annotations

import numpy as np

from sensorlab.acquisition.serial.protocol import ParserCounters, Samples


class EventLineParser:
    """Turn text lines into events (``data``: an object array of ``str``).

    Examples
    --------
    >>> p = EventLineParser("mcu")
    >>> [s.data.tolist() for s in p.feed(b'clap\\r\\n{"label": "idle"}\\n\\nidl')]
    [['clap', '{"label": "idle"}']]
    """

    def __init__(self, stream: str = "events", max_line: int = 1024):
        self.stream = stream
        self.max_line = max_line
        self.counters = ParserCounters()
        self._buf = b""
        self._syncing = False

    def resync(self) -> None:
        """Drop any partial line and ignore input up to the next newline (not an error)."""
        self._buf = b""
        self._syncing = True

    def feed(self, data: bytes) -> list[Samples]:
        self.counters.bytes += len(data)
        lines = (self._buf + data).split(b"\n")
        rest = lines.pop()
        if self._syncing:
            if not lines:
                self._buf = b""
                return []
            lines = lines[1:]  # the fragment we were skipping
            self._syncing = False
        if len(rest) > self.max_line:  # a device printing without newlines: skip to the next one
            self.counters.error(self.stream)
            rest, self._syncing = b"", True
        self._buf = rest
        texts, wire = [], 0
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            if len(line) > self.max_line:
                self.counters.error(self.stream)
                continue
            try:
                texts.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                self.counters.error(self.stream)
                continue
            wire += len(raw) + 1
        if not texts:
            return []
        self.counters.units += len(texts)
        self.counters.samples += len(texts)
        data = np.empty(len(texts), dtype=object)
        data[:] = texts
        return [Samples(self.stream, data, None, wire_bytes=wire)]


__all__ = ["EventLineParser"]
