"""Onset detection and snapping, so segment edges can land on the sample where sound starts.

`detect_onsets` finds abrupt energy rises in audio or a signal; `snap_to_onset` moves a time
(a drag, a hotkey press during playback) to the nearest onset within a tolerance. Both are
pure numpy and work on whole arrays or one block at a time.
"""

from __future__ import annotations

import numpy as np

from sensorlab.labeling.suggest import estimate_rate, frame_energy_db, noise_floor


def detect_onsets(
    signal: np.ndarray,
    times: np.ndarray,
    *,
    frame_s: float = 0.01,
    hop_s: float = 0.0025,
    rise_db: float = 9.0,
    lookback_s: float = 0.02,
    min_gap_s: float = 0.05,
    floor_db: float | None = None,
    refine: bool = True,
    rate: float | None = None,
) -> np.ndarray:
    """Times of abrupt energy rises (onsets), sorted.

    A frame is an onset when its energy exceeds the minimum of the preceding ``lookback_s``
    by ``rise_db`` and it is the strongest rise within ``min_gap_s``. With ``refine`` the
    time is then moved to the first sample, within that frame and the one before, whose
    magnitude reaches a quarter of the frame's peak: frame hops are a few ms, a sample at
    48 kHz is 21 µs.

    Parameters
    ----------
    signal, times
        ``(n,)`` / ``(n, channels)`` samples and their timestamps.
    floor_db
        Ignore onsets whose frame energy is below this (default: `noise_floor` + 6 dB, so the
        step from digital silence to the room noise is not an onset).

    Returns
    -------
    numpy.ndarray
        Onset times (session clock), float64.

    Examples
    --------
    >>> t = np.arange(48000) / 48000
    >>> x = 1e-4 * np.random.default_rng(1).standard_normal(t.size)
    >>> x[24000:24480] += 0.5
    >>> detect_onsets(x, t).round(4).tolist()
    [0.5]
    """
    x = np.asarray(signal, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    rate = rate or estimate_rate(times)
    frame, hop = max(1, round(frame_s * rate)), max(1, round(hop_s * rate))
    # frame_energy_db reports centred hops; we need frame starts here, so recompute them.
    db, _, _ = frame_energy_db(x, times, frame=frame, hop=hop)
    if db.size < 2:
        return np.empty(0)
    k = max(1, round(lookback_s / (hop / rate)))
    padded = np.concatenate((np.full(k, db[0]), db))
    past_min = np.lib.stride_tricks.sliding_window_view(padded[:-1], k).min(axis=1)
    rise = db - past_min
    floor = noise_floor(db) + 6.0 if floor_db is None else floor_db
    cand = np.flatnonzero((rise >= rise_db) & (db >= floor))
    radius = max(1, round(min_gap_s * rate / hop))
    taken: list[int] = []
    # Earliest frame of each cluster wins ties; strongest rise wins otherwise.
    for i in cand[np.lexsort((cand, -rise[cand]))]:
        if all(abs(i - j) >= radius for j in taken):
            taken.append(int(i))
    taken.sort()
    mono = np.abs(x.reshape(x.shape[0], -1)).max(axis=1)
    out = []
    for i in taken:
        s0 = i * hop
        if refine:
            lo, hi = max(0, s0 - frame), min(len(mono), s0 + frame)
            seg = mono[lo:hi]
            j = int(np.argmax(seg >= 0.25 * seg.max())) if seg.size else 0
            out.append(times[lo + j])
        else:
            out.append(times[min(s0 + frame // 2, len(times) - 1)])
    return np.asarray(out, dtype=np.float64)


def snap_to_onset(t: float | np.ndarray, onsets: np.ndarray, tolerance: float) -> float | np.ndarray:
    """Move ``t`` to the nearest onset if one is within ``tolerance`` seconds, else keep it.

    Parameters
    ----------
    t
        A time or an array of times.
    onsets
        Sorted onset times (from `detect_onsets`).
    tolerance
        Maximum distance to snap, seconds.

    Examples
    --------
    >>> snap_to_onset(1.004, np.array([0.5, 1.0, 2.0]), tolerance=0.01)
    1.0
    >>> snap_to_onset(1.3, np.array([0.5, 1.0, 2.0]), tolerance=0.01)
    1.3
    """
    onsets = np.asarray(onsets, dtype=np.float64)
    tt = np.asarray(t, dtype=np.float64)
    if onsets.size == 0:
        return float(tt) if tt.ndim == 0 else tt.copy()
    i = np.searchsorted(onsets, tt)
    left = onsets[np.clip(i - 1, 0, onsets.size - 1)]
    right = onsets[np.clip(i, 0, onsets.size - 1)]
    nearest = np.where(np.abs(tt - left) <= np.abs(right - tt), left, right)
    out = np.where(np.abs(nearest - tt) <= tolerance, nearest, tt)
    return float(out) if out.ndim == 0 else out


def snap_to_samples(t: float | np.ndarray, sample_times: np.ndarray) -> float | np.ndarray:
    """Move ``t`` to the nearest sample timestamp of a reference stream (no tolerance).

    Used when importing from formats coarser than the sample period (ELAN: 1 ms).
    """
    return snap_to_onset(t, sample_times, tolerance=np.inf)


__all__ = ["detect_onsets", "snap_to_onset", "snap_to_samples"]
