"""Measure cross-stream sync from common events ("claps") — pure functions on arrays.

A clap shows up in every modality at once (see ``acquisition/emulated/world.py``): an
impulse in the audio, an accelerometer-x spike above 2 g, a bright video frame, a strong
peak in the radar map. Detect the onset of each in each stream, pair onsets across streams
(nearest within `MAX_PAIR_OFFSET`), and the time differences are the sync error.
`sensorlab info` (via `summary`) and the sync benchmark both use these functions.

Examples
--------
>>> t = np.arange(1000) / 100.0
>>> x = np.zeros(1000); x[[150, 450]] = 3.0
>>> onsets(x, t, threshold=2.0).tolist()
[1.5, 4.5]
>>> pair_errors(np.array([1.5, 4.5]), np.array([1.502, 4.499]))
array([ 0.002, -0.001])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sensorlab.acquisition.source import StreamInfo, StreamKind

#: Onsets closer than this (s) belong to one event (a clap's ring-down, a bright frame pair).
REFRACTORY = 0.5
#: Onsets in two streams further apart than this (s) are not the same event.
MAX_PAIR_OFFSET = 0.25
#: Accelerometer spike threshold (g): a clap on the table; walking stays under it.
ACCEL_THRESHOLD_G = 2.0
#: Audio impulse threshold (full scale = 1).
AUDIO_THRESHOLD = 0.3
#: Radar: a peak this many times the median frame peak.
RADAR_FACTOR = 4.0


def onsets(values: np.ndarray, times: np.ndarray, threshold: float, refractory: float = REFRACTORY) -> np.ndarray:
    """Times where ``values`` rises above ``threshold``, at most one per ``refractory`` seconds."""
    above = np.asarray(values) > threshold
    if not above.any():
        return np.empty(0)
    rising = np.flatnonzero(above & ~np.concatenate([[False], above[:-1]]))
    return merge_close(np.asarray(times, dtype=np.float64)[rising], refractory)


def merge_close(times: np.ndarray, refractory: float = REFRACTORY) -> np.ndarray:
    """Keep the first of onsets closer together than ``refractory`` seconds (sorted input)."""
    out: list[float] = []
    for t in np.asarray(times, dtype=np.float64):
        if not out or t - out[-1] >= refractory:
            out.append(float(t))
    return np.asarray(out)


def accel_x_channel(info: StreamInfo) -> int | None:
    """Index of the accelerometer x channel of a timeseries stream, or None if it has none."""
    for i, name in enumerate(info.channel_names):
        n = name.lower().replace("_", "").replace("-", "")
        if n in ("ax", "accx", "accelx", "accelerometerx"):
            return i
    return None


def detect_audio(data: np.ndarray, times: np.ndarray, threshold: float = AUDIO_THRESHOLD) -> np.ndarray:
    """Clap onsets in ``(n, channels)`` audio (float in [-1, 1], or integer PCM)."""
    x = np.abs(np.asarray(data, dtype=np.float32).reshape(len(data), -1)).max(axis=1)
    if np.issubdtype(data.dtype, np.integer):
        x = x / np.iinfo(data.dtype).max
    return onsets(x, times, threshold)


def detect_accel(data: np.ndarray, times: np.ndarray, channel: int = 0, threshold_g: float = ACCEL_THRESHOLD_G) -> np.ndarray:
    """Clap onsets from an accelerometer channel in g."""
    return onsets(np.asarray(data)[:, channel], times, threshold_g)


def frame_brightness(frames: np.ndarray) -> np.ndarray:
    """Mean brightness per frame of ``(n, h, w[, 3])`` frames, or of an object array of JPEG bytes.

    JPEGs are decoded at 1/8 size in grayscale (libjpeg's DCT scaling: ~10× faster than a
    full decode, and the mean is the same to a grey level).
    """
    if frames.dtype == object:
        import cv2

        out = np.full(len(frames), np.nan)  # NaN: a frame that does not decode (damaged) is never "bright"
        for i, b in enumerate(frames):
            img = cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_8) if len(b) else None
            if img is not None:
                out[i] = float(img.mean())
        return out
    return np.asarray(frames, dtype=np.float32).reshape(len(frames), -1).mean(axis=1)


def detect_bright(brightness: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Onsets of frames much brighter than usual (a flash / the lights of a clap)."""
    if len(brightness) == 0 or np.isnan(brightness).all():
        return np.empty(0)
    med = float(np.nanmedian(brightness))
    return onsets(brightness, times, med + 0.5 * (255.0 - med))


def detect_peaks(frames: np.ndarray, times: np.ndarray, factor: float = RADAR_FACTOR) -> np.ndarray:
    """Onsets of frames whose peak is ``factor`` × the median frame peak (radar target flash)."""
    if len(frames) == 0:
        return np.empty(0)
    peak = np.asarray(frames, dtype=np.float32).reshape(len(frames), -1).max(axis=1)
    med = float(np.median(peak))
    return onsets(peak, times, factor * med) if med > 0 else np.empty(0)


def can_detect(info: StreamInfo) -> bool:
    """True for streams in which claps can show up (see `detect`)."""
    if info.kind is StreamKind.TIMESERIES:
        return accel_x_channel(info) is not None
    return info.kind in (StreamKind.AUDIO, StreamKind.VIDEO, StreamKind.FRAMES)


def detect(info: StreamInfo, data: np.ndarray, times: np.ndarray) -> np.ndarray | None:
    """Clap onsets of one stream by kind; None for streams that cannot show claps.

    ``data`` for video may be decoded frames or JPEG bytes (object array).
    """
    if info.kind is StreamKind.AUDIO:
        return detect_audio(data, times)
    if info.kind is StreamKind.TIMESERIES:
        ch = accel_x_channel(info)
        return None if ch is None else detect_accel(data, times, ch)
    if info.kind is StreamKind.VIDEO:
        return detect_bright(frame_brightness(data), times)
    if info.kind is StreamKind.FRAMES:
        return detect_peaks(data, times)
    return None


def pair_errors(a: np.ndarray, b: np.ndarray, max_offset: float = MAX_PAIR_OFFSET) -> np.ndarray:
    """``t_b - t_a`` for each onset in ``a`` whose nearest onset in ``b`` is within ``max_offset``."""
    a, b = np.asarray(a, dtype=np.float64), np.sort(np.asarray(b, dtype=np.float64))
    if len(a) == 0 or len(b) == 0:
        return np.empty(0)
    j = np.clip(np.searchsorted(b, a), 1, len(b) - 1) if len(b) > 1 else np.zeros(len(a), dtype=int)
    if len(b) > 1:
        j = np.where(np.abs(b[j - 1] - a) < np.abs(b[j] - a), j - 1, j)
    d = b[j] - a
    return np.round(d[np.abs(d) <= max_offset], 9)


def resolution_note(a: str, b: str, median_s: float, resolutions: dict[str, float]) -> str:
    """What a pair's median error means against the coarser stream's sample period.

    Onsets are found at the first sample past a threshold, so each is late by up to one
    sample: within one period of the coarser stream, an error cannot be told from its
    resolution (a 20 Hz radar cannot place a clap better than 50 ms).
    """
    ra, rb = resolutions.get(a, np.nan), resolutions.get(b, np.nan)
    coarse, r = (a, ra) if np.nan_to_num(ra) >= np.nan_to_num(rb) else (b, rb)
    if not np.isfinite(r):
        return ""
    if median_s <= r:
        return f"within one sample of {coarse} ({r * 1e3:.3g} ms at {1 / r:g} Hz): not resolvable finer"
    return f"beyond one sample of {coarse} ({r * 1e3:.3g} ms): a real offset; `sensorlab sync` corrects it"


def alignment(events: dict[str, np.ndarray], max_offset: float = MAX_PAIR_OFFSET, resolutions: dict[str, float] | None = None) -> dict[str, Any]:
    """Pairwise sync error between streams from their detected onsets.

    ``resolutions`` (s per sample, by stream) adds a ``note`` per pair judging the error
    against the coarser stream's sample period (`resolution_note`).

    Returns
    -------
    dict
        ``pairs``: list of ``{"a", "b", "matched", "median_ms", "max_ms"[, "note"]}`` (|error|);
        ``median_ms`` / ``max_ms`` over all matched pairs (None when nothing matched);
        ``message``: a one-line verdict.
    """
    names = [n for n, e in events.items() if len(e)]
    pairs, allerr = [], []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            err = np.abs(pair_errors(events[a], events[b], max_offset))
            if len(err):
                pairs.append({"a": a, "b": b, "matched": int(len(err)), "median_ms": float(np.median(err) * 1e3), "max_ms": float(err.max() * 1e3)})
                if resolutions:
                    pairs[-1]["note"] = resolution_note(a, b, float(np.median(err)), resolutions)
                allerr.append(err)
    if not allerr:
        return {"pairs": [], "median_ms": None, "max_ms": None, "message": "no common events (claps) found in two or more streams; sync not measured"}
    err = np.concatenate(allerr)
    med, mx = float(np.median(err) * 1e3), float(err.max() * 1e3)
    return {"pairs": pairs, "median_ms": med, "max_ms": mx, "message": f"sync error from {len(err)} matched events: median {med:.1f} ms, max {mx:.1f} ms"}
