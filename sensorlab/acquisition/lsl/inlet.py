"""`LslSource`: an LSL stream as a sensorlab source, on the host clock, with its clock offsets.

LSL stamps each sample on the *sender's* clock. Like LabRecorder, the source measures the
offset to the sender's clock with ``StreamInlet.time_correction()`` when it opens and every
``clock_interval`` seconds, and records each measurement in a companion stream
``<name>_lsl_clock`` (`runtime.clock_stream_info`): the sender-clock time it was taken (device
time) and the offset that maps sender time to host time (value). Each sample is then stored
with

- ``device_times``: its LSL time stamp as sent (the sender's clock),
- ``timestamps``: that stamp plus the offset of the latest measurement taken at or before it
  (on the sender's clock) — a rule `sensorlab.session.xdf` applies again on import, so a
  session → XDF → session round trip gives the same host times,
- ``arrival_times``: when the chunk was pulled (host clock).

The reader thread only pulls, copies and emits (docs/ARCHITECTURE.md, "Conventions");
liblsl buffers up to six minutes while it measures a clock offset.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.lsl.runtime import (
    CLOCK_INTERVAL,
    clock_stream_info,
    events_text,
    local_to_host,
    lsl_errors,
    pylsl,
    stream_info_from_lsl,
)
from sensorlab.acquisition.source import Chunk, SourceBase, SourceError, StreamKind

log = logging.getLogger(__name__)

#: Seconds one pull waits for data (how quickly `stop` is noticed).
PULL_TIMEOUT = 0.1
#: Samples per pull at most.
MAX_CHUNK = 4096
#: Seconds one clock-offset measurement may take before it is skipped (the previous one stays).
CORRECTION_TIMEOUT = 2.0
#: Seconds of data liblsl keeps for us while we do not pull (the inlet's buffer).
INLET_BUFFER_S = 360


class LslSource(SourceBase):
    """Record the LSL stream matching ``query`` (LSL properties: name, type, source_id) as ``name``.

    Raises `SourceError` from `open` when pylsl is missing, no stream matches within
    ``timeout`` seconds, or the first clock-offset measurement fails.
    """

    def __init__(self, query: dict[str, str], name: str, timeout: float = 5.0, clock_interval: float = CLOCK_INTERVAL):
        self.query = dict(query)
        self.what = " and ".join(f"{k} {v!r}" for k, v in self.query.items())
        super().__init__(f"LSL stream with {self.what} as {name!r}")
        self.name = name
        self.timeout = float(timeout)
        self.clock_interval = float(clock_interval)
        self._inlet = None
        self._thread: threading.Thread | None = None
        self._clock_times: list[float] = []  # sender-clock time of each offset measurement
        self._clock_values: list[float] = []  # sender time + value = host time
        self._next_clock = 0.0
        self._failed_corrections = 0

    # -- life cycle ----------------------------------------------------------------------------
    def _open(self) -> None:
        lsl = pylsl()
        predicate = " and ".join(f"{k}='{v}'" for k, v in self.query.items())
        found = lsl.resolve_bypred(predicate, minimum=1, timeout=self.timeout)
        if not found:
            raise SourceError(
                f"{self.description}: no such LSL stream appeared within {self.timeout:g} s; is its program running? "
                "`sensorlab devices` lists the LSL streams this machine sees (docs/LSL.md: networks without multicast)"
            )
        inlet = lsl.StreamInlet(found[0], max_buflen=INLET_BUFFER_S, recover=True)
        try:
            full = inlet.info(timeout=self.timeout)  # with its desc (channel labels)
            info = stream_info_from_lsl(full, self.name)
            self.streams = (info, clock_stream_info(self.name, info.device))
            inlet.open_stream(timeout=self.timeout)
        except SourceError:
            raise
        except Exception as e:  # noqa: BLE001 - TimeoutError, LostError: the sender went away while we connected
            raise SourceError(f"{self.description}: could not connect ({type(e).__name__}: {e}); is its program still running?") from None
        self._inlet = inlet
        self._kind = info.kind
        self._dtype = np.dtype("float64" if info.kind is StreamKind.EVENTS else info.dtype)
        self._clock_times, self._clock_values = [], []
        try:
            self._pending_clock = self._measure()  # the first offset, before any sample is mapped
        except Exception as e:  # noqa: BLE001 - liblsl errors vary by version
            raise SourceError(f"{self.description}: could not measure its clock offset ({type(e).__name__}: {e})") from None

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"lsl-{self.name}", daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(PULL_TIMEOUT + CORRECTION_TIMEOUT + 2.0)
        self._thread = None

    def _close(self) -> None:
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            try:
                inlet.close_stream()
            except Exception as e:  # noqa: BLE001 - closing a lost stream
                log.debug("closing %s: %s", self.description, e)

    # -- reader thread ---------------------------------------------------------------------------
    def _measure(self) -> Chunk:
        """One clock-offset measurement as a chunk of the clock stream (reader thread or `open`)."""
        inlet = self._inlet
        t_local = pylsl().local_clock()
        offset = inlet.time_correction(timeout=CORRECTION_TIMEOUT)
        sender_time = t_local - offset
        value = offset + local_to_host()
        self._clock_times.append(sender_time)
        self._clock_values.append(value)
        self._next_clock = now() + self.clock_interval
        return Chunk(np.array([[value]]), np.array([sender_time + value]), np.array([sender_time]), np.array([now()]))

    def _loop(self) -> None:
        inlet = self._inlet
        clock_name = self.streams[1].name
        self._emit(clock_name, self._pending_clock, now())
        lost_error, timeout_error = lsl_errors()
        try:
            while self.running:
                if now() >= self._next_clock:
                    try:
                        self._emit(clock_name, self._measure(), now())
                    except timeout_error:
                        self._failed_corrections += 1  # keep the previous offset; try again later
                        self._next_clock = now() + self.clock_interval
                        if self._failed_corrections in (1, 10, 100):
                            log.warning("%s: clock-offset measurement timed out (%d so far)", self.description, self._failed_corrections)
                values, stamps = inlet.pull_chunk(timeout=PULL_TIMEOUT, max_samples=MAX_CHUNK, min_samples=1, as_numpy=True)
                if len(stamps) == 0:
                    continue
                arrival = now()
                raw = np.asarray(stamps, dtype=np.float64)
                idx = np.searchsorted(np.asarray(self._clock_times), raw, side="right") - 1
                ts = raw + np.asarray(self._clock_values)[np.clip(idx, 0, None)]
                if self._kind is StreamKind.EVENTS:
                    data = events_text([[v.decode("utf-8", "replace") for v in row] for row in values])
                else:
                    data = np.array(values, dtype=self._dtype)  # a copy: liblsl may reuse its buffer
                self._emit(self.name, Chunk(data, ts, raw, np.full(len(raw), arrival)), arrival)
        except lost_error:
            self._fail(f"{self.description}: the LSL stream was lost (its program stopped or the network went away)")
        except Exception as e:  # noqa: BLE001 - liblsl errors vary by version
            log.exception("%s failed", self.description)
            self._fail(f"{self.description} stopped: {type(e).__name__}: {e}")

    @property
    def clock_offsets(self) -> tuple[np.ndarray, np.ndarray]:
        """(sender-clock times, offsets) of every measurement so far."""
        return np.array(self._clock_times), np.array(self._clock_values)
