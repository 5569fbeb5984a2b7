"""The stream model shared by every device, the recorder, the live view and the reader.

- `StreamInfo` describes one stream (what pylsl calls a stream info).
- `Chunk` is a block of samples with one host-clock timestamp per sample.
- `Source` is the protocol every device class implements. A source may carry several
  streams (a microcontroller sending IMU samples and radar frames on one link).
- `StreamStats` holds the health counters of one stream.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any, Protocol, runtime_checkable

import numpy as np
from psygnal import Signal

log = logging.getLogger(__name__)

#: ``nominal_rate`` of a stream without a fixed sample rate (events, camera on a URL).
IRREGULAR = 0.0


class StreamKind(str, Enum):
    """What a stream carries; decides how it is stored, plotted and windowed."""

    VIDEO = "video"  # (h, w, 3) uint8 BGR frames, stored as JPEG by default
    AUDIO = "audio"  # (channels,) samples at a fixed rate
    TIMESERIES = "timeseries"  # (channels,) samples, e.g. IMU, PPG, EEG
    FRAMES = "frames"  # n-d arrays per sample, e.g. a radar range-Doppler map
    EVENTS = "events"  # one UTF-8 string per sample (markers, live labels, predictions)


@dataclass(frozen=True)
class StreamInfo:
    """Description of one stream.

    Parameters
    ----------
    name
        Unique within a session; used as the HDF5 group name.
    kind
        See `StreamKind`.
    nominal_rate
        Samples per second, or `IRREGULAR`.
    channel_names, units
        One entry per channel (the last axis of a sample for timeseries/audio).
    dtype
        NumPy dtype string of one value (``"float32"``, ``"int16"``, ``"uint8"``; ``"str"``
        for events).
    sample_shape
        Shape of one sample: ``(6,)`` for a 6-axis IMU, ``(480, 640, 3)`` for video,
        ``(64, 32)`` for a radar map, ``()`` for events.
    device
        Human description of the device ("ESP32 IMU on /dev/ttyUSB0 @ 921600").
    has_device_time
        True when the device supplies its own clock or sample counter; the raw device times
        are stored next to the corrected host timestamps.
    clock_from_rate
        True when ``device_times`` are the sample's index (a text board's line index or
        sample counter) divided by ``nominal_rate``: the declared rate *is* the stream's clock,
        so a wrong one stamps every sample wrongly. `sensorlab info`/`record` check such a
        stream's rate against its arrivals; a device clock (µs ticks, a `ms` column) needs no
        such check.
    derived_from
        The input streams a processor (a model's predictions, a filter) computes this stream
        from; ``()`` for a device's stream. Such a stream stops when its input does or when
        its input's gaps keep its window from filling: that is no device to check.
    scale, offset
        For integer counts (int16 PCM, raw IMU counts): ``physical = raw * scale + offset``
        in float32, one number or one per channel (the last axis of a sample); ``()`` when
        the values are physical already. ``units`` are those of the physical value. The
        device's dtype is what chunks carry and the file stores; `Acquisition` rings and the
        session reader hand consumers the physical values (`to_physical`, `physical`).
    """

    name: str
    kind: StreamKind
    nominal_rate: float
    channel_names: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    dtype: str = "float32"
    sample_shape: tuple[int, ...] = ()
    device: str = ""
    has_device_time: bool = False
    clock_from_rate: bool = False
    derived_from: tuple[str, ...] = ()
    scale: tuple[float, ...] = ()
    offset: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", StreamKind(self.kind))
        object.__setattr__(self, "channel_names", tuple(self.channel_names))
        object.__setattr__(self, "units", tuple(self.units))
        object.__setattr__(self, "derived_from", tuple(self.derived_from))
        object.__setattr__(self, "sample_shape", tuple(int(s) for s in self.sample_shape))
        for key in ("scale", "offset"):
            v = getattr(self, key)
            v = () if v is None else (float(v),) if isinstance(v, int | float) else tuple(float(x) for x in v)
            if v and (len(v) not in (1, self.sample_shape[-1] if self.sample_shape else 1) or not all(np.isfinite(v))):
                raise ValueError(f"stream {self.name!r}: {key} {list(v)} must be finite, one number or one per channel")
            object.__setattr__(self, key, v)
        if not self.name or "/" in self.name:
            raise ValueError(f"stream name {self.name!r} must be non-empty and contain no '/'")

    @property
    def channel_count(self) -> int:
        return self.sample_shape[-1] if self.kind in (StreamKind.AUDIO, StreamKind.TIMESERIES) else 1

    @property
    def regular(self) -> bool:
        return self.nominal_rate > 0

    @property
    def scaled(self) -> bool:
        """True when samples are counts that `to_physical` turns into physical values."""
        return bool(self.scale or self.offset)

    def to_physical(self, data: np.ndarray) -> np.ndarray:
        """``data`` (counts of this stream) as float32 physical values; unchanged when not `scaled`.

        Computed in float32 (``raw * scale + offset``), as the binary serial protocol always
        did, so values are bit for bit what sensorlab delivered before counts were kept raw.
        """
        if not self.scaled:
            return data
        out = np.asarray(data).astype(np.float32)
        if self.scale:
            out *= np.asarray(self.scale, dtype=np.float32)
        if self.offset:
            out += np.asarray(self.offset, dtype=np.float32)
        return out

    def physical(self) -> StreamInfo:
        """The stream as consumers see it: float32 physical values, no scale (self if not `scaled`)."""
        if not self.scaled:
            return self
        return replace(self, dtype="float32", scale=(), offset=())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = self.kind.value
        for key in ("scale", "offset", "clock_from_rate", "derived_from"):  # absent when unused: older streams' JSON is unchanged
            if not d[key]:
                del d[key]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StreamInfo:
        fields = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**fields)


@dataclass(slots=True)
class Chunk:
    """A block of samples of one stream.

    ``data`` has shape ``(n, *info.sample_shape)``; ``timestamps`` has shape ``(n,)`` in
    host-clock seconds (corrected, see `sensorlab.acquisition.clock`). ``device_times``
    holds the raw device clock in seconds where the device has one, and ``arrival_times`` the
    uncorrected host time each sample was received, so correction can be redone later.

    Slots, not an instance dict: the live inference hop (`sensorlab/inference/_hop.c`) reads a
    device's one-sample chunks' arrays from their slots directly (~10 instructions an attribute
    where a dict lookup through ``getattr`` costs ~250, ~25 chunks a window at 100 Hz).
    """

    data: np.ndarray
    timestamps: np.ndarray
    device_times: np.ndarray | None = None
    arrival_times: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.timestamps = np.asarray(self.timestamps, dtype=np.float64)
        if len(self.data) != len(self.timestamps):
            raise ValueError(f"chunk has {len(self.data)} samples but {len(self.timestamps)} timestamps")

    def __len__(self) -> int:
        return len(self.timestamps)

    def freeze(self) -> Chunk:
        """Make the arrays read-only (in place; no copy) and return the chunk.

        `Acquisition` freezes every chunk before handing the same object to every consumer,
        so one that normalises in place gets a ``ValueError`` instead of silently changing
        what the recorder and the others see. (~1.5 µs per chunk of four arrays, once for all
        consumers; a copy per consumer would cost more than that for each of them.)
        """
        for a in (self.data, self.timestamps, self.device_times, self.arrival_times):
            if isinstance(a, np.ndarray):
                a.setflags(write=False)  # ~3x cheaper than assigning flags.writeable
        return self


@dataclass
class StreamStats:
    """Health counters of one stream, updated by the device thread.

    NB: each counter is only ever written by one thread (the stream's device thread) and
    read by others; int/float attribute writes are atomic under the GIL, so readers see a
    consistent (if slightly stale) value without a lock.
    """

    samples: int = 0
    dropped: int = 0  # samples known lost (sequence gaps, ring overflow)
    # The part of ``dropped`` lost on the host side: the device sent them, but their bytes
    # did not arrive intact (an OS/UART buffer overran because nobody read in time, or the
    # line corrupted them). ``dropped - dropped_in_transit`` the device never sent.
    dropped_in_transit: int = 0
    overflows: int = 0  # driver-reported overruns (PortAudio input overflow)
    parse_errors: int = 0  # garbage, bad CRC, wrong column count
    # Packets the device sent twice (same sequence number, same bytes): dropped, not stored.
    duplicates: int = 0
    first_time: float = float("nan")
    last_time: float = float("nan")
    last_arrival: float = float("nan")  # host time the last chunk arrived (stall detection)
    error: str = ""  # non-empty once the stream has stopped because of a fault
    # Why the input is thrown away while it lasts, with the fix (a text board's lines with
    # other columns than the rig's `channels`); "" once samples fit again. Not a stop.
    problem: str = ""
    consumer_errors: int = 0  # consumers detached because they raised on one of its chunks
    gaps: list[tuple[float, float]] = field(default_factory=list)  # (start, end) host times
    # A device that vanished and may come back (a serial board unplugged): ``lost`` is True
    # while it is gone; the stream is not failed (``error`` stays empty) because the source
    # keeps trying to reopen it. ``lost_at`` / ``lost_reason``: when and why it last went
    # (kept after it is back, so a poller never misses a short outage). ``reconnects``
    # counts the times it came back; each return also adds a gap.
    lost: bool = False
    lost_at: float = float("nan")
    lost_reason: str = ""
    reconnects: int = 0

    def count(self, chunk: Chunk, arrival: float) -> None:
        n = len(chunk)
        if n == 0:
            return
        ts = chunk.timestamps
        self.count_one(n, float(ts[0]), float(ts[-1]), arrival)

    def count_one(self, n: int, first: float, last: float, arrival: float) -> None:
        """Count one chunk of ``n`` (> 0) samples stamped ``first`` … ``last`` that arrived at
        ``arrival``: what `count` does for every chunk, called directly by a hot path that holds
        these as floats already (the inference engine's one-window hop)."""
        if self.samples == 0:
            self.first_time = first
        self.samples += n
        self.last_time = last
        self.last_arrival = arrival


#: Called by a source, on its device thread, for every chunk. Must only copy and enqueue.
ChunkSink = Callable[[str, Chunk], None]


class SourceError(RuntimeError):
    """A device could not be opened or stopped working. The message names the fix."""


def close_sources(nodes) -> None:
    """Close each of ``nodes`` (sources or processors, opened or not; closing twice is safe),
    logging what fails: one broken device must not keep the others' ports, ptys or boards."""
    for node in nodes:
        try:
            node.close()
        except Exception as e:  # noqa: BLE001
            log.warning("closing %s: %s", getattr(node, "description", "") or type(node).__name__, e)


@runtime_checkable
class Source(Protocol):
    """A device that produces one or more streams.

    Life cycle: ``open()`` (blocking: opens the device, learns its streams; raises
    `SourceError` with a clear message) → ``start(sink)`` → ``stop()`` → ``close()``.
    ``with source:`` opens and closes.

    ``failed`` fires (on the device thread) with ``(stream, message)`` when the device
    vanishes or breaks mid-stream; the stream's ``stats[name].error`` holds the same message.
    `SourceBase` implements the plumbing; `Acquisition` and the rig builders are typed
    against this protocol, so a device class need not inherit it.
    """

    description: str
    streams: tuple[StreamInfo, ...]
    stats: dict[str, StreamStats]
    failed: Any  # a psygnal signal (stream, message)

    def open(self) -> None: ...
    def start(self, sink: ChunkSink) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


class SourceBase:
    """Shared plumbing for sources: stats, the failure signal, context management.

    Subclasses implement `_open`, `_start`, `_stop` and set ``self.streams`` in `_open`.
    """

    failed = Signal(str, str)  # (stream name or "", message); emitted on the device thread
    stopped = Signal()

    def __init__(self, description: str = ""):
        self.description = description
        self.streams: tuple[StreamInfo, ...] = ()
        self.stats: dict[str, StreamStats] = {}
        self._sink: ChunkSink | None = None
        self._running = threading.Event()

    # -- life cycle ---------------------------------------------------------------
    def open(self) -> None:
        self._open()
        self.stats = {s.name: StreamStats() for s in self.streams}

    def start(self, sink: ChunkSink) -> None:
        if not self.streams:
            self.open()
        self._sink = sink
        self._running.set()
        self._start()

    def stop(self) -> None:
        if self._running.is_set():
            self._running.clear()
            self._stop()
            self.stopped.emit()

    def close(self) -> None:
        self.stop()
        self._close()

    @property
    def running(self) -> bool:
        return self._running.is_set()

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- for subclasses (device thread) ---------------------------------------------
    def _emit(self, stream: str, chunk: Chunk, arrival: float) -> None:
        """Count and forward a chunk (device thread)."""
        if len(chunk) == 0:
            return
        self.stats[stream].count(chunk, arrival)
        sink = self._sink
        if sink is not None:
            sink(stream, chunk)

    def _fail(self, message: str, stream: str | None = None) -> None:
        """Mark streams as stopped because of a fault and tell listeners (device thread)."""
        for name, st in self.stats.items():
            if stream is None or name == stream:
                st.error = message
        self._running.clear()
        self.failed.emit(stream or "", message)

    def _open(self) -> None:
        raise NotImplementedError

    def _start(self) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        pass
