"""`Processor`: a node that turns streams into new streams (derived streams).

A processor is opened after the devices, with the `StreamInfo` of each input it asked for,
and declares its output streams from them. It then runs on its own thread, reads its inputs
from bounded `ChunkRing`s it blocks on (never a polling loop), and emits chunks through the
same dispatch as a device: its outputs are recorded, plotted and forwarded like any stream.

Life cycle (driven by `Acquisition`): ``open(inputs)`` → ``start(sink, rings, wakeup)`` →
``stop()`` → ``close()``. A processor whose `process` raises stops with the error in its
streams' ``stats[...].error`` and ``failed`` fired once; the devices and every other
consumer go on.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sensorlab.acquisition.buffers import ChunkRing, concat_chunks, wait_any
from sensorlab.acquisition.source import Chunk, ChunkSink, SourceBase, SourceError, StreamInfo, StreamStats

log = logging.getLogger(__name__)

#: Seconds of each input a processor's ring holds: how far it may fall behind before it
#: loses input (counted in its output's ``dropped``, and its state is reset like on a gap).
INPUT_SECONDS = 10.0
#: Seconds between wake-ups when no data comes (only to notice `stop` promptly).
IDLE_WAKE = 0.5


@runtime_checkable
class Processor(Protocol):
    """What `Acquisition` needs of a processor."""

    description: str
    inputs: tuple[str, ...]
    streams: tuple[StreamInfo, ...]
    stats: dict[str, StreamStats]
    failed: Any  # psygnal signal (stream, message)

    def open(self, inputs: Mapping[str, StreamInfo] | None = None) -> None: ...
    def start(self, sink: ChunkSink, rings: Mapping[str, ChunkRing] | None = None, wakeup: threading.Condition | None = None) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


class ProcessorBase(SourceBase):
    """Plumbing for processors: input rings, the worker thread, failure isolation.

    Subclasses set ``self.streams`` in `_declare` (from ``self.input_infos``) and implement
    `process`, which receives the new samples of each input (only inputs that have new
    data) and calls `emit`. `reset` is called after input was lost (the ring overflowed).
    """

    def __init__(self, inputs: tuple[str, ...], description: str = ""):
        super().__init__(description or type(self).__name__)
        self.inputs = tuple(inputs)
        self.input_infos: dict[str, StreamInfo] = {}
        self._rings: dict[str, ChunkRing] = {}
        self._wakeup: threading.Condition | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle (Acquisition) ----------------------------------------------------------
    def open(self, inputs: Mapping[str, StreamInfo] | None = None) -> None:
        missing = [n for n in self.inputs if not inputs or n not in inputs]
        if missing:
            have = sorted(inputs or {})
            raise SourceError(f"processor {self.description}: input stream(s) {missing} do not exist (streams: {have}); fix 'input' in the rig")
        self.input_infos = {n: inputs[n] for n in self.inputs}  # type: ignore[index]
        super().open()

    def start(self, sink: ChunkSink, rings: Mapping[str, ChunkRing] | None = None, wakeup: threading.Condition | None = None) -> None:
        if rings is None or wakeup is None or set(rings) != set(self.inputs):
            raise SourceError(f"processor {self.description}: start it through Acquisition.add_processor (it needs its input rings)")
        self._rings, self._wakeup = dict(rings), wakeup
        super().start(sink)

    def _open(self) -> None:
        # Marked as computed from the inputs: a model that goes quiet because its input had
        # gaps is not a device to check (`sensorlab record` judges devices by their streams).
        self.streams = tuple(s if s.derived_from else replace(s, derived_from=self.inputs) for s in self._declare())

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"processor-{self.description}", daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        for ring in self._rings.values():
            ring.close()  # wakes the worker
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        self._thread = None

    # -- the worker thread ---------------------------------------------------------------------
    def _loop(self) -> None:
        rings, wakeup = self._rings, self._wakeup
        assert wakeup is not None
        cursor = {n: float("-inf") for n in rings}
        lost = {n: 0 for n in rings}
        try:
            while self.running:
                # Sleep past chunks the processor has said it cannot use yet (`wake_after`), but
                # never so long that its ring (INPUT_SECONDS) overflows.
                after = {n: max(c, min(self.wake_after(n), c + INPUT_SECONDS / 2)) for n, c in cursor.items()}
                if not wait_any(rings, after, wakeup, IDLE_WAKE):
                    continue
                new: dict[str, list[Chunk]] = {}
                for name, ring in rings.items():
                    chunks = ring.since_chunks(cursor[name])
                    if chunks:
                        new[name] = chunks
                        cursor[name] = float(chunks[-1].timestamps[-1])
                    if ring.dropped != lost[name]:
                        self._lost_input(ring.dropped - lost[name])
                        lost[name] = ring.dropped
                if new and self.running:
                    self.process_chunks(new)
        except Exception as e:  # noqa: BLE001 - a bug in a processor must not reach a device
            log.exception("processor %s failed", self.description)
            self._fail(f"processor {self.description} stopped: {type(e).__name__}: {e}")

    def _lost_input(self, samples: int) -> None:
        for st in self.stats.values():
            st.dropped += samples
        self.reset()

    # -- for subclasses ----------------------------------------------------------------------------
    def emit(self, stream: str, data: np.ndarray, timestamps: np.ndarray) -> None:
        """Hand a chunk of an output stream to the acquisition (worker thread)."""
        from sensorlab.acquisition.clock import now

        self._emit(stream, Chunk(data, timestamps), now())

    def _declare(self) -> list[StreamInfo]:
        raise NotImplementedError

    def process(self, new: dict[str, Chunk]) -> None:
        raise NotImplementedError

    def process_chunks(self, new: dict[str, list[Chunk]]) -> None:
        """The new chunks of each input, as the device made them (only inputs with new data).

        Default: join each input's chunks into one and call `process`. A processor that needs
        only some of a chunk's arrays overrides this to join just those (live inference: the
        timestamps and samples, not the device and arrival times)."""
        self.process({n: c[0] if len(c) == 1 else concat_chunks(c) for n, c in new.items()})  # type: ignore[misc]

    def wake_after(self, stream: str) -> float:
        """Newest sample time of ``stream`` below which `process` would only hold the samples.

        The worker sleeps until a newer sample arrives, then gets every sample since its last
        call at once. Default: wake for every new sample. Live inference returns the time its
        next window can be complete, so it wakes once per hop instead of once per device chunk.
        """
        return float("-inf")

    def reset(self) -> None:
        """Forget state after lost input (default: nothing)."""
