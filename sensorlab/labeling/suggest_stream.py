"""Run a suggestion method over one stream of a recorded session, block by block.

Hour-long streams do not fit in memory as float64 (an hour of 48 kHz stereo is 1.4 GB), so
the raw-data-heavy methods (``energy`` on audio, ``motion`` on video) reduce each block to
a small per-frame feature and only keep that; ``threshold`` keeps one value per sample;
``changepoint`` keeps the (optionally reduced) samples, so use it on sensor streams or pass
``channel=``.

`iter_suggest_for_stream` is a generator that yields progress in [0, 1] and returns the
segments (the GUI runs it in a ``thread_worker`` and shows the progress);
`suggest_for_stream` runs it to the end. Both run on the caller's thread.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from sensorlab.labeling.annotations import Segment
from sensorlab.labeling.suggest import (
    SUGGESTION_TIER,
    change_point_segments,
    downscaled_gray,
    energy_segments_from_frames,
    estimate_rate,
    frame_energy_db,
    motion_score,
    motion_segments_from_scores,
    reduce_channels,
    threshold_segments,
)
from sensorlab.progress import run_to_end
from sensorlab.session.blocks import ReadableStream, iter_blocks, stream_span

METHODS = ("energy", "threshold", "changepoint", "motion")
_DEFAULT_LABELS = {"energy": "sound", "threshold": "active", "changepoint": "segment", "motion": "motion"}


def suggestion_source(method: str, stream_name: str = "") -> str:
    """The ``source`` of suggestions made by ``method`` on a stream (``suggest:energy:mic``).

    A re-run replaces the unreviewed suggestions with the same source and tier.
    """
    return f"suggest:{method}:{stream_name}" if stream_name else f"suggest:{method}"


#: What suggestions need of a session stream (kept under its old name).
StreamReader = ReadableStream


def _rate(stream: StreamReader) -> float:
    rate = float(getattr(stream.info, "nominal_rate", 0.0) or 0.0)
    if rate > 0:
        return rate
    if hasattr(stream, "read_index"):
        head = stream.read_index(0, 2000).timestamps
    else:
        head = stream.timestamps[:2000]  # type: ignore[attr-defined]
    return estimate_rate(np.asarray(head, dtype=np.float64))


def _blocks(stream: StreamReader, t0: float, t1: float, block_s: float) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
    """(data, timestamps, progress) of each block's samples, each sample once (`iter_blocks`)."""
    for b in iter_blocks(stream, block_s, t0=t0, t1=t1):
        yield b.new_data, b.new_timestamps, b.progress


def iter_suggest_for_stream(
    stream: StreamReader,
    method: str,
    *,
    t0: float | None = None,
    t1: float | None = None,
    block_s: float = 60.0,
    label: str | None = None,
    tier: str = SUGGESTION_TIER,
    **params: Any,
) -> Generator[float, None, list[Segment]]:
    """Yield progress while computing suggestions for ``stream``; return the segments.

    Parameters
    ----------
    stream
        A session stream (``.info``, ``.timestamps``, ``.read(t0, t1)``).
    method
        ``"energy"`` (audio), ``"threshold"`` (needs ``high=``), ``"changepoint"``,
        ``"motion"`` (video / frames).
    t0, t1
        Time range (default: the whole stream).
    block_s
        Seconds read per block (for video, 60 s at 30 fps of 480p is ~1.6 GB of uint8:
        lower it for large frames).
    label, tier
        Of the suggestions (default label per method: sound, active, segment, motion).
    **params
        Passed to the method (see `sensorlab.labeling.suggest`).

    Examples
    --------
    >>> gen = iter_suggest_for_stream(session.streams["mic"], "energy", margin_db=15)  # doctest: +SKIP
    """
    if method not in METHODS:
        raise ValueError(f"unknown suggestion method {method!r}; choose from {', '.join(METHODS)}")
    label = label or _DEFAULT_LABELS[method]
    count, first, last = stream_span(stream)
    if count == 0:
        return []
    t0 = first if t0 is None else float(t0)
    t1 = last if t1 is None else float(t1)
    rate = _rate(stream)
    name = getattr(stream.info, "name", "")

    if method == "energy":
        frame = max(1, round(params.pop("frame_s", 0.03) * rate))
        hop = max(1, round(params.pop("hop_s", 0.01) * rate))
        feats: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        carry_x: np.ndarray | None = None
        carry_t = np.empty(0)
        for data, ts, progress in _blocks(stream, t0, t1, block_s):
            if len(ts):
                x = data.reshape(len(ts), -1).astype(np.float32)
                x = x if carry_x is None else np.concatenate((carry_x, x))
                tt = np.concatenate((carry_t, ts))
                db, lo, hi = frame_energy_db(x, tt, frame=frame, hop=hop)
                feats.append((db, lo, hi))
                # Keep the samples of frames not yet complete so frames straddle blocks.
                carry_x, carry_t = x[len(db) * hop :], tt[len(db) * hop :]
            yield progress
        if feats:
            db, lo, hi = (np.concatenate(p) for p in zip(*feats, strict=True))
        else:
            db = lo = hi = np.empty(0)
        segs = energy_segments_from_frames(db, lo, hi, label=label, tier=tier, **params)
    elif method == "motion":
        size = params.pop("size", 64)
        scores, times = [], []
        prev = None
        for data, ts, progress in _blocks(stream, t0, t1, block_s):
            if len(ts):
                g = downscaled_gray(data, size)
                scores.append(motion_score(g, prev))
                times.append(ts)
                prev = g[-1]
            yield progress
        segs = motion_segments_from_scores(
            np.concatenate(scores) if scores else np.empty(0),
            np.concatenate(times) if times else np.empty(0),
            label=label, tier=tier, **params,
        )
    else:
        channel = params.pop("channel", None)
        how = params.pop("reduce", "norm")
        values, times = [], []
        for data, ts, progress in _blocks(stream, t0, t1, block_s):
            if len(ts):
                v = data.reshape(len(ts), -1).astype(np.float64)
                if method == "threshold":
                    v = reduce_channels(v, channel, how)
                elif channel is not None:
                    v = v[:, channel]
                values.append(v)
                times.append(ts)
            yield progress
        if not values:
            return []
        x, t = np.concatenate(values), np.concatenate(times)
        if method == "threshold":
            segs = threshold_segments(x, t, label=label, tier=tier, **params)
        else:
            segs = change_point_segments(x, t, label=label, tier=tier, rate=rate, **params)
    source = suggestion_source(method, name)
    return [replace(s, source=source) for s in segs]


def suggest_for_stream(stream: StreamReader, method: str, **params: Any) -> list[Segment]:
    """Run `iter_suggest_for_stream` to the end and return its segments.

    Examples
    --------
    >>> segs = suggest_for_stream(session.streams["imu"], "changepoint", window_s=2.0)  # doctest: +SKIP
    """
    return run_to_end(iter_suggest_for_stream(stream, method, **params))


__all__ = ["METHODS", "StreamReader", "iter_suggest_for_stream", "suggest_for_stream", "suggestion_source"]
