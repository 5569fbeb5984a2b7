"""`PreRoll`: keep the last seconds of every stream so that a recording starts before Record.

One bounded `ChunkRing` per stream, fed by the acquisition like the live view's (it drops the
oldest data, never blocks a device). The recorder writes what the rings hold when it starts
and skips what it then receives twice. Memory is capped per stream: raw video frames are
large (30 s of 640×480 at 30 fps is 830 MB), so a long pre-roll keeps fewer seconds of video.
"""

from __future__ import annotations

import threading

import numpy as np

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.lsl.runtime import clock_stream_of
from sensorlab.acquisition.source import StreamInfo

#: Seconds of pre-roll until the user picks another value: enough to catch the gesture or word
#: that made them press Record.
DEFAULT_PREROLL_S = 5

#: Memory a pre-roll buffer may hold per stream.
PREROLL_BYTES = 256 * 1024 * 1024

#: Clock-offset measurements kept of each LSL clock stream whatever the pre-roll (0 included):
#: 16 h at the usual one per 5 s, a few hundred kB. A stream's host times come from the
#: measurement in force when each sample was stamped, which can be older than the pre-roll;
#: the recording needs that measurement so that its host times can be derived again (XDF
#: export and import, a later re-fit). `PrerollSplice` writes only the ones the file needs.
CLOCK_HISTORY = 12_000


def preroll_cap(info: StreamInfo) -> int | None:
    """Most samples of ``info``'s stream a pre-roll ring keeps (None: bounded by time only)."""
    if not info.sample_shape:
        return None
    per_sample = int(np.prod(info.sample_shape)) * np.dtype(info.dtype if info.dtype != "str" else "uint8").itemsize
    return max(1, PREROLL_BYTES // per_sample)


class PreRoll:
    """Pre-roll rings on one acquisition (any thread; the rings fill on device threads).

    ``seconds == 0`` keeps nothing but the clock streams' measurements (`CLOCK_HISTORY`).
    `attach` (a new rig) and `set_seconds` replace the rings;
    `add_stream` gives a stream that joined later (a processor) its ring too.
    """

    def __init__(self, seconds: float = DEFAULT_PREROLL_S):
        self.seconds = float(seconds)
        self._acq: Acquisition | None = None
        self._rings: dict[str, ChunkRing] = {}
        self._lock = threading.Lock()

    def attach(self, acquisition: Acquisition | None) -> None:
        """Buffer ``acquisition``'s streams from now on (None: buffer nothing)."""
        with self._lock:
            self._release()
            self._acq = acquisition
            self._fill()

    def set_seconds(self, seconds: float) -> None:
        with self._lock:
            self.seconds = float(seconds)
            self._release(keep_clocks=True)  # their measurements since the rig opened stay
            self._fill()

    def add_stream(self, info: StreamInfo) -> None:
        with self._lock:
            if self._acq is not None and info.name not in self._rings:
                ring = self._new_ring(info)
                if ring is not None:
                    self._rings[info.name] = ring

    def remove_stream(self, name: str) -> None:
        """A stream that ended (its processor removed): its pre-roll goes with it."""
        with self._lock:
            ring = self._rings.pop(name, None)
            if ring is not None and self._acq is not None:
                self._acq.release_ring(name, ring)

    def rename_stream(self, old: str, new: str) -> None:
        """A stream renamed (`Acquisition.rename_streams` moved its ring): the same ring, the new name."""
        with self._lock:
            if old in self._rings:
                self._rings[new] = self._rings.pop(old)

    def rings(self) -> dict[str, ChunkRing]:
        """Stream name → its ring (a copy of the mapping; empty when pre-roll is off)."""
        with self._lock:
            return dict(self._rings)

    def _fill(self) -> None:
        if self._acq is None:
            return
        for name, info in self._acq.streams.items():
            ring = self._rings.get(name) or self._new_ring(info)
            if ring is not None:
                self._rings[name] = ring

    def _new_ring(self, info: StreamInfo) -> ChunkRing | None:
        """The ring of one stream (held lock): clock streams always, others with a pre-roll."""
        assert self._acq is not None
        if clock_stream_of(info) is not None:
            return self._acq.ring(info.name, seconds=float("inf"), max_samples=CLOCK_HISTORY, raw=True)
        if self.seconds <= 0:
            return None
        return self._acq.ring(info.name, seconds=self.seconds, max_samples=preroll_cap(info), raw=True)

    def _release(self, keep_clocks: bool = False) -> None:
        kept = {}
        if self._acq is not None:
            for name, ring in self._rings.items():
                info = self._acq.streams.get(name)
                if keep_clocks and info is not None and clock_stream_of(info) is not None:
                    kept[name] = ring
                else:
                    self._acq.release_ring(name, ring)
        self._rings = kept
