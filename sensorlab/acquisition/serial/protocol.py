"""The interface every serial parser implements, shared by the text and binary protocols.

A parser is a plain object that turns bytes into samples. It owns no port and no thread:
`SerialSource` feeds it whatever the reader thread read, and tests and benchmarks feed it
bytes directly. Parsers never raise on bad input; they count it (`ParserCounters`) and
resynchronise on the next line end or frame delimiter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(slots=True)
class Samples:
    """A run of consecutive samples of one stream, decoded from one line or one packet.

    Parameters
    ----------
    stream
        Stream name.
    data
        ``(n, *sample_shape)`` values.
    device_times
        ``(n,)`` device-clock seconds (unwrapped, monotonic while the device runs), or None
        when the device supplies no clock and no nominal rate was given.
    lost_before
        Samples known to be missing immediately before this run (sequence or counter gap).
    lost_in_transit
        The part of ``lost_before`` that the device did send but that did not arrive intact:
        the gap came right after damaged bytes (a frame cut short or corrupted), as when an
        OS or UART buffer overran because the host did not read in time. The rest of the gap
        arrived with intact framing: the device skipped those sequence numbers, i.e. never
        sent them (its own buffer was full, or its firmware dropped them).
    wire_bytes
        Bytes this run occupied on the wire (for the transmit-time correction of arrival
        times, see `sensorlab.acquisition.serial.timing`).
    restarted
        The device restarted right before this run (its sequence number, counter or time
        column went backwards, as when its reset button is pressed while the port stays
        open): it took no samples while it rebooted, so the stream has a gap here whose
        length only the host times tell.
    """

    stream: str
    data: np.ndarray
    device_times: np.ndarray | None
    lost_before: int = 0
    wire_bytes: int = 0
    lost_in_transit: int = 0
    restarted: bool = False


@dataclass
class ParserCounters:
    """Health counters of one parser. Written only by the thread that calls ``feed``.

    ``parse_errors`` counts every unit of input that was thrown away (a garbage line, a
    frame with a bad CRC or bad COBS encoding, a wrong column count, an over-long line);
    ``errors_by_stream`` attributes those it can to a stream name (key ``""`` otherwise).
    ``lost_samples`` counts samples known missing from sequence/counter gaps, ``gaps`` how
    many such gaps were seen; ``lost_in_transit`` is the part of ``lost_samples`` lost
    between the device and the host (see `Samples.lost_in_transit`). ``duplicates_by_stream``
    counts packets a firmware re-sent unchanged (binary protocol), dropped so that no sample
    is stored twice.
    """

    bytes: int = 0
    units: int = 0  # good lines or good frames
    samples: int = 0
    parse_errors: int = 0
    lost_samples: int = 0
    lost_in_transit: int = 0
    gaps: int = 0
    resets: int = 0  # sequence, counter or time column went backwards: the device restarted
    skipped: int = 0  # well-formed but ignored (header repeats, packets of unknown streams)
    errors_by_stream: dict[str, int] = field(default_factory=dict)
    # Packets the device sent twice (same sequence number, same bytes), dropped unstored.
    duplicates_by_stream: dict[str, int] = field(default_factory=dict)

    def error(self, stream: str = "") -> None:
        self.parse_errors += 1
        self.errors_by_stream[stream] = self.errors_by_stream.get(stream, 0) + 1


@runtime_checkable
class Parser(Protocol):
    """Bytes in, samples out.

    ``feed`` accepts any split of the byte stream (a line or frame may straddle calls) and
    returns the samples completed by this call, in arrival order. ``resync`` forgets any
    partial line/frame and ignores input up to the next line end or frame delimiter without
    counting it as an error (after opening a port mid-stream, or flushing its input).
    """

    counters: ParserCounters

    def feed(self, data: bytes) -> list[Samples]: ...

    def resync(self) -> None: ...
