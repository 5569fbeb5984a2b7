"""Joining the pre-roll to the live subscription, and keeping untimed samples out of the file.

When Record is pressed the recorder writes what the pre-roll rings already hold (the last N
seconds) and then what the subscription delivers. It subscribes *before* it snapshots the
rings, so a chunk dispatched in between is in both and is written once (samples up to the
snapshot's last timestamp are skipped from the subscription; timestamps increase per
stream), never in neither. Everything here runs on the recorder's threads and does no I/O.

An LSL stream's host times come from the clock-offset measurement in force when each sample
was stamped (`sensorlab.acquisition.lsl.inlet`), often taken before the pre-roll began. Its
clock stream's ring holds the measurements since the rig opened, and the file gets the ones
in force from the stream's first recorded sample on: at once when the stream has a pre-roll,
else once its first sample arrives (the clock's own chunks wait until then). Without them a
session → XDF → session round trip, or any re-derivation of host times, would use a later
measurement for the first samples.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

from sensorlab.acquisition.buffers import ChunkRing, concat_chunks
from sensorlab.acquisition.lsl.runtime import clock_stream_of
from sensorlab.acquisition.source import Chunk, StreamInfo

log = logging.getLogger(__name__)


class PrerollSplice:
    """The pre-roll of one recording: its first chunks, and the de-duplication after them.

    Parameters
    ----------
    rings
        Stream name → ring already receiving that stream (`Recorder`'s ``preroll``).
    """

    def __init__(self, rings: Mapping[str, ChunkRing]):
        self.rings = dict(rings)
        self._cut: dict[str, float] = {}  # stream → skip subscribed samples up to this time
        # Clock streams waiting for their stream's first sample: clock → (stream, the
        # measurements held, the clock's chunks that arrived since).
        self._waiting: dict[str, tuple[str, Chunk, list[Chunk]]] = {}
        self._released: list[tuple[str, Chunk]] = []

    def take(self, streams: Mapping[str, StreamInfo]) -> dict[str, Chunk]:
        """Snapshot every ring of a recorded stream (call right *after* subscribing).

        Returns stream → the chunk to write first; rings of streams the file does not have
        are ignored with a warning.
        """
        out: dict[str, Chunk] = {}
        clocks: dict[str, tuple[str, Chunk]] = {}
        for name, ring in self.rings.items():
            if name not in streams:
                log.warning("pre-roll ring for unknown stream %r ignored", name)
                continue
            chunk = ring.snapshot()
            if chunk is None or not len(chunk):
                continue
            self._cut[name] = float(chunk.timestamps[-1])
            parent = clock_stream_of(streams[name])
            if parent is not None and parent in streams and chunk.device_times is not None:
                clocks[name] = (parent, chunk)
            else:
                out[name] = chunk
        for name, (parent, history) in clocks.items():
            first = out.get(parent)
            if first is not None:
                out[name] = _in_force_from(history, first)
            else:
                self._waiting[name] = (parent, history, [])
        return out

    def dedupe(self, name: str, chunk: Chunk) -> Chunk | None:
        """``chunk`` without the samples the pre-roll already wrote (None if nothing is left).

        A clock stream's chunk waits while its stream has no sample yet; the stream's first
        chunk releases the clock's measurements (`released`)."""
        cut = self._cut.get(name)
        if cut is not None:
            keep = chunk.timestamps > cut
            if not keep.any():
                return None
            del self._cut[name]
            if not keep.all():
                chunk = _select(chunk, keep)
        if name in self._waiting:
            self._waiting[name][2].append(chunk)
            return None
        if self._waiting:
            for clock, (parent, history, later) in list(self._waiting.items()):
                if parent == name:
                    del self._waiting[clock]
                    self._released.append((clock, concat_chunks([_in_force_from(history, chunk), *later])))
        return chunk

    def released(self, stopping: bool = False) -> Sequence[tuple[str, Chunk]]:
        """Clock chunks to write now (writer thread, after each `dedupe`); ``stopping``: also
        those of streams that never delivered (their newest measurement and what followed)."""
        if not (self._released or (stopping and self._waiting)):
            return ()  # the usual case, once per chunk on the writer thread: no new list
        if stopping:
            for clock, (_parent, history, later) in self._waiting.items():
                self._released.append((clock, concat_chunks([_tail(history, 1), *later])))
            self._waiting.clear()
        out, self._released = self._released, []
        return out


def finite_times(chunk: Chunk | None) -> Chunk | None:
    """``chunk`` without samples whose timestamp is not finite (writer thread).

    A source should never produce them, but one NaN would break every later time-range read
    (they bisect on sorted timestamps), so it is dropped here rather than stored.
    """
    if chunk is None:
        return None
    ok = np.isfinite(chunk.timestamps)
    if ok.all():
        return chunk
    log.warning("dropping %d sample(s) without a valid timestamp", int((~ok).sum()))
    if not ok.any():
        return None
    return _select(chunk, ok)


def _in_force_from(history: Chunk, first: Chunk) -> Chunk:
    """The clock measurements in force from ``first``'s first sample on: the latest taken at or
    before its stamp (device time, the stream's own clock) and every later one."""
    stamp = first.device_times[0] if first.device_times is not None else np.inf
    i = int(np.searchsorted(history.device_times, stamp, side="right")) - 1
    return _tail(history, len(history) - max(i, 0))


def _tail(chunk: Chunk, n: int) -> Chunk:
    keep = np.zeros(len(chunk), dtype=bool)
    keep[len(chunk) - n :] = True
    return _select(chunk, keep)


def _select(chunk: Chunk, keep: np.ndarray) -> Chunk:
    def sel(a):
        return None if a is None else a[keep]

    return Chunk(chunk.data[keep], chunk.timestamps[keep], sel(chunk.device_times), sel(chunk.arrival_times))
