"""Joining the pre-roll to the live subscription, and keeping untimed samples out of the file.

When Record is pressed the recorder writes what the pre-roll rings already hold (the last N
seconds) and then what the subscription delivers. It subscribes *before* it snapshots the
rings, so a chunk dispatched in between is in both and is written once (samples up to the
snapshot's last timestamp are skipped from the subscription; timestamps increase per
stream), never in neither. Everything here runs on the recorder's threads and does no I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import Chunk

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

    def take(self, streams: Mapping[str, object]) -> dict[str, Chunk]:
        """Snapshot every ring of a recorded stream (call right *after* subscribing).

        Returns stream → the chunk to write first; rings of streams the file does not have
        are ignored with a warning.
        """
        out: dict[str, Chunk] = {}
        for name, ring in self.rings.items():
            if name not in streams:
                log.warning("pre-roll ring for unknown stream %r ignored", name)
                continue
            chunk = ring.snapshot()
            if chunk is not None and len(chunk):
                out[name] = chunk
                self._cut[name] = float(chunk.timestamps[-1])
        return out

    def dedupe(self, name: str, chunk: Chunk) -> Chunk | None:
        """``chunk`` without the samples the pre-roll already wrote (None if nothing is left)."""
        cut = self._cut.get(name)
        if cut is None:
            return chunk
        keep = chunk.timestamps > cut
        if not keep.any():
            return None
        del self._cut[name]
        if keep.all():
            return chunk
        return _select(chunk, keep)


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


def _select(chunk: Chunk, keep: np.ndarray) -> Chunk:
    def sel(a):
        return None if a is None else a[keep]

    return Chunk(chunk.data[keep], chunk.timestamps[keep], sel(chunk.device_times), sel(chunk.arrival_times))
