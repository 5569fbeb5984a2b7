"""Auto-suggested segments for review: pure numpy functions over arrays and their times.

Each method turns a signal into a per-frame (or per-sample) feature, then into spans with
hysteresis (enter above ``high``, leave below ``low``), bridging gaps shorter than
``min_gap`` and dropping spans shorter than ``min_duration``:

- `energy_segments` – frame RMS energy in dB on audio (voice/sound activity). Thresholds
  default to the noise floor (10th percentile of frame energy, digital silence excluded)
  plus a margin.
- `threshold_segments` – a signal (or the norm of several channels) above a level.
- `change_point_segments` – mean or variance shifts between the two halves of a rolling
  window (effect-size statistic, non-maximum suppression); segments between changes.
- `motion_segments` – mean absolute difference of consecutive downscaled grayscale video
  frames.

The results are `Segment` objects with ``suggested=True``: the GUI draws them distinctly and
the user accepts (`AcceptSuggestion`) or rejects (`RejectSuggestion`) them. Reading a stream
from a session in blocks is in `sensorlab.labeling.suggest_stream`.

Times are session-clock seconds; every function takes the per-sample ``times`` array so it
works on irregular streams too.
"""

from __future__ import annotations

import numpy as np

from sensorlab.labeling.annotations import Segment, new_segment_id

#: Tier that suggestions are put on unless the caller names another one.
SUGGESTION_TIER = "suggestions"


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


def estimate_rate(times: np.ndarray) -> float:
    """Samples per second from timestamps (median spacing, robust to gaps)."""
    times = np.asarray(times, dtype=np.float64)
    if times.size < 2:
        raise ValueError("need at least two timestamps to estimate a rate")
    return float(1.0 / np.median(np.diff(times)))


def hysteresis(values: np.ndarray, high: float, low: float) -> np.ndarray:
    """Boolean mask: on when ``values >= high``, stays on until ``values <= low``.

    Vectorised: each sample takes the state decided by the most recent "decisive" sample
    (one that is either above ``high`` or at/below ``low``).
    """
    values = np.asarray(values)
    if low > high:
        raise ValueError(f"low ({low}) must not exceed high ({high})")
    on = values >= high
    decisive = on | (values <= low)
    idx = np.flatnonzero(decisive)
    if idx.size == 0:
        return np.zeros(values.shape, dtype=bool)
    count = np.cumsum(decisive)
    return np.where(count > 0, on[idx[np.maximum(count - 1, 0)]], False)


def _runs(mask: np.ndarray) -> np.ndarray:
    """``(k, 2)`` array of [start, stop) index pairs of the True runs of a 1-d mask."""
    m = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    edges = np.flatnonzero(m[1:] != m[:-1])
    return edges.reshape(-1, 2)


def spans_from_mask(
    mask: np.ndarray,
    t_lo: np.ndarray,
    t_hi: np.ndarray,
    *,
    min_duration: float = 0.0,
    min_gap: float = 0.0,
) -> list[tuple[float, float]]:
    """Convert a per-frame mask to time spans.

    Parameters
    ----------
    mask
        One bool per frame.
    t_lo, t_hi
        Start and end time of each frame (equal for per-sample masks).
    min_duration
        Spans shorter than this (after gap bridging) are dropped.
    min_gap
        Gaps shorter than this between two spans are bridged.
    """
    spans: list[list[float]] = []
    for i0, i1 in _runs(mask):
        a, b = float(t_lo[i0]), float(t_hi[i1 - 1])
        if spans and a - spans[-1][1] < min_gap:
            spans[-1][1] = max(spans[-1][1], b)
        else:
            spans.append([a, b])
    return [(a, b) for a, b in spans if b - a >= min_duration]


def to_segments(
    spans: list[tuple[float, float]],
    label: str,
    *,
    tier: str = SUGGESTION_TIER,
    source: str = "suggest",
    scores: list[float] | None = None,
) -> list[Segment]:
    """Wrap spans as suggested `Segment` objects."""
    return [
        Segment(new_segment_id(), tier, label, a, b, suggested=True, source=source,
                score=float("nan") if scores is None else float(scores[i]))
        for i, (a, b) in enumerate(spans)
    ]


def frames_view(x: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """``(n_frames, frame, ...)`` strided view of ``x`` along axis 0 (no copy)."""
    if x.shape[0] < frame:
        return np.empty((0, frame, *x.shape[1:]), dtype=x.dtype)
    v = np.lib.stride_tricks.sliding_window_view(x, frame, axis=0)[::hop]
    return np.moveaxis(v, -1, 1)


# --------------------------------------------------------------------------------------------
# Energy / voice activity on audio
# --------------------------------------------------------------------------------------------


def frame_energy_db(
    audio: np.ndarray, times: np.ndarray, *, frame: int, hop: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RMS energy per frame in dB (channels averaged in power), with frame start/end times.

    Parameters
    ----------
    audio
        ``(n,)`` or ``(n, channels)`` samples (any numeric dtype; integers are not rescaled,
        so thresholds given in dB are relative to the dtype's units).
    times
        ``(n,)`` sample timestamps.
    frame, hop
        Frame length and step in samples.

    Returns
    -------
    db, t_lo, t_hi
        One value per frame; ``t_lo``/``t_hi`` bound the hop centred on each frame.
    """
    x = np.asarray(audio)
    x = x.reshape(x.shape[0], -1).astype(np.float64, copy=False)
    # Power per sample (mean over channels), then a cumulative sum gives every frame's mean
    # in O(n) without materialising the frames.
    p = np.mean(x * x, axis=1)
    n_frames = 0 if len(p) < frame else (len(p) - frame) // hop + 1
    c = np.concatenate(([0.0], np.cumsum(p)))
    starts = np.arange(n_frames) * hop
    power = (c[starts + frame] - c[starts]) / frame
    db = 10.0 * np.log10(np.maximum(power, 1e-20))
    times = np.asarray(times, dtype=np.float64)
    # Each frame stands for the hop around its centre, so spans are not biased early/late by
    # a whole frame length (a loud onset makes every frame that touches it "active").
    centre = starts + frame // 2
    return db, times[np.maximum(centre - hop // 2, 0)], times[np.minimum(centre + (hop - 1) // 2, len(p) - 1)]


#: Frames quieter than this (dB re full scale 1.0) are digital silence, not the room's noise:
#: exact zeros (clamped to -200 dB) or values below what a 24-bit converter can represent
#: (its 1-LSB level is about -144 dB). A virtual or file-based source, or a recording started
#: before the sound, begins and ends with such frames; counted in the noise floor they would
#: put it at -200 dB, and every frame of real audio would then count as "active".
DIGITAL_SILENCE_DB = -150.0


def noise_floor(db: np.ndarray) -> float:
    """The 10th percentile of frame energy, ignoring digital silence (`DIGITAL_SILENCE_DB`).

    Examples
    --------
    >>> noise_floor(np.array([-200.0] * 50 + [-60.0] * 40 + [-20.0] * 10))
    -60.0
    """
    db = np.asarray(db, dtype=np.float64)
    live = db[db > DIGITAL_SILENCE_DB]
    if live.size:
        return float(np.percentile(live, 10))
    return float(np.percentile(db, 10)) if db.size else 0.0


def auto_thresholds(db: np.ndarray, margin_db: float = 12.0) -> tuple[float, float]:
    """(high, low) = `noise_floor` + margin, + half the margin."""
    floor = noise_floor(db)
    return floor + margin_db, floor + margin_db / 2


def energy_segments(
    audio: np.ndarray,
    times: np.ndarray,
    *,
    frame_s: float = 0.03,
    hop_s: float = 0.01,
    high_db: float | None = None,
    low_db: float | None = None,
    margin_db: float = 12.0,
    min_duration: float = 0.1,
    min_gap: float = 0.2,
    label: str = "sound",
    tier: str = SUGGESTION_TIER,
    rate: float | None = None,
) -> list[Segment]:
    """Suggest segments where the audio is louder than its noise floor (energy VAD).

    Parameters
    ----------
    audio, times
        Samples ``(n,)`` / ``(n, channels)`` and their timestamps.
    frame_s, hop_s
        Analysis frame and hop in seconds.
    high_db, low_db
        Hysteresis thresholds in dB; default from `auto_thresholds` with ``margin_db``.
    min_duration, min_gap
        See `spans_from_mask`.
    label, tier
        Of the suggested segments.
    rate
        Sample rate; estimated from ``times`` if omitted.

    Returns
    -------
    list of Segment
        ``suggested=True``, ``score`` = peak frame energy in dB.

    Examples
    --------
    >>> t = np.arange(48000 * 3) / 48000
    >>> x = 0.001 * np.random.default_rng(0).standard_normal(t.size)
    >>> x[48000:96000] += 0.5 * np.sin(2 * np.pi * 440 * t[48000:96000])
    >>> [(round(s.start, 1), round(s.end, 1)) for s in energy_segments(x, t)]
    [(1.0, 2.0)]
    """
    rate = rate or estimate_rate(times)
    frame, hop = max(1, round(frame_s * rate)), max(1, round(hop_s * rate))
    db, t_lo, t_hi = frame_energy_db(audio, times, frame=frame, hop=hop)
    return energy_segments_from_frames(
        db, t_lo, t_hi, high_db=high_db, low_db=low_db, margin_db=margin_db,
        min_duration=min_duration, min_gap=min_gap, label=label, tier=tier,
    )


def energy_segments_from_frames(
    db: np.ndarray,
    t_lo: np.ndarray,
    t_hi: np.ndarray,
    *,
    high_db: float | None = None,
    low_db: float | None = None,
    margin_db: float = 12.0,
    min_duration: float = 0.1,
    min_gap: float = 0.2,
    label: str = "sound",
    tier: str = SUGGESTION_TIER,
) -> list[Segment]:
    """Second half of `energy_segments`, for frame energies computed block by block."""
    auto_high, auto_low = auto_thresholds(db, margin_db)
    high = auto_high if high_db is None else high_db
    low = (auto_low if high_db is None else high - margin_db / 2) if low_db is None else low_db
    mask = hysteresis(db, high, min(low, high))
    spans = spans_from_mask(mask, t_lo, t_hi, min_duration=min_duration, min_gap=min_gap)
    scores = [float(db[(t_lo >= a) & (t_hi <= b)].max(initial=-np.inf)) for a, b in spans]
    return to_segments(spans, label, tier=tier, source="suggest:energy", scores=scores)


# --------------------------------------------------------------------------------------------
# Threshold and change points on signals
# --------------------------------------------------------------------------------------------


def reduce_channels(signal: np.ndarray, channel: int | None = None, how: str = "norm") -> np.ndarray:
    """One value per sample: a channel, or the ``"norm"`` / ``"abs"`` max / ``"mean"`` over channels."""
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim == 1:
        return x if channel in (None, 0) else _bad_channel(channel)
    x = x.reshape(x.shape[0], -1)
    if channel is not None:
        return x[:, channel]
    if how == "norm":
        return np.sqrt(np.sum(x * x, axis=1))
    if how == "abs":
        return np.max(np.abs(x), axis=1)
    if how == "mean":
        return x.mean(axis=1)
    raise ValueError(f"unknown channel reduction {how!r} (norm, abs, mean)")


def _bad_channel(channel: int) -> np.ndarray:
    raise IndexError(f"channel {channel} of a one-channel signal")


def threshold_segments(
    signal: np.ndarray,
    times: np.ndarray,
    *,
    high: float,
    low: float | None = None,
    channel: int | None = None,
    reduce: str = "norm",
    min_duration: float = 0.0,
    min_gap: float = 0.0,
    label: str = "active",
    tier: str = SUGGESTION_TIER,
) -> list[Segment]:
    """Suggest segments where a signal is at or above ``high`` (until it falls to ``low``).

    Examples
    --------
    >>> t = np.arange(1000) / 100.0
    >>> x = np.where((t >= 2) & (t < 4), 5.0, 0.0)
    >>> [(s.start, s.end) for s in threshold_segments(x, t, high=1.0)]
    [(2.0, 3.99)]
    """
    v = reduce_channels(signal, channel, reduce)
    times = np.asarray(times, dtype=np.float64)
    mask = hysteresis(v, high, high if low is None else low)
    spans = spans_from_mask(mask, times, times, min_duration=min_duration, min_gap=min_gap)
    return to_segments(spans, label, tier=tier, source="suggest:threshold")


def _window_sums(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of x and x² over every length-w window, shape (n - w + 1, channels)."""
    c1 = np.concatenate((np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)))
    c2 = np.concatenate((np.zeros((1, x.shape[1])), np.cumsum(x * x, axis=0)))
    return c1[w:] - c1[:-w], c2[w:] - c2[:-w]


def change_statistic(signal: np.ndarray, window: int, kind: str = "mean") -> np.ndarray:
    """Shift between the ``window`` samples before and after each sample.

    ``kind="mean"``: |mean difference| / pooled std (an effect size, independent of window
    length). ``kind="variance"``: |log(std_after / std_before)|, e.g. log 2 when the
    spread doubles. Channels combine as the root of the summed squares. Samples without a
    full window on both sides get 0.
    """
    x = np.asarray(signal, dtype=np.float64)
    x = x.reshape(x.shape[0], -1)
    n = x.shape[0]
    out = np.zeros(n)
    if n < 2 * window or window < 2:
        return out
    # Centre per channel: cumulative sums of raw IMU values in the thousands lose precision.
    x = x - x.mean(axis=0)
    s1, s2 = _window_sums(x, window)
    mean = s1 / window
    var = np.maximum(s2 / window - mean * mean, 0.0)
    # Window k covers [k, k+w); at sample i the left window starts at i-w, the right at i.
    left, right = slice(0, n - 2 * window + 1), slice(window, n - window + 1)
    if kind == "mean":
        pooled = np.sqrt((var[left] + var[right]) / 2) + 1e-12
        stat = (mean[right] - mean[left]) / pooled
    elif kind == "variance":
        stat = 0.5 * np.log((var[right] + 1e-12) / (var[left] + 1e-12))
    else:
        raise ValueError(f"unknown change statistic {kind!r} (mean, variance)")
    out[window : n - window + 1] = np.sqrt(np.sum(stat * stat, axis=1))
    return out


def change_points(
    signal: np.ndarray,
    times: np.ndarray,
    *,
    window_s: float = 1.0,
    threshold: float | None = None,
    kind: str = "mean",
    min_distance_s: float | None = None,
    rate: float | None = None,
) -> np.ndarray:
    """Times where the signal's mean (or variance) shifts, sorted.

    Parameters
    ----------
    window_s
        Length of each half of the rolling window; changes closer than this blur together.
    threshold
        Minimum `change_statistic`: default 1.5 (pooled stds) for ``"mean"``,
        log 2 (std doubles) for ``"variance"``.
    min_distance_s
        Non-maximum suppression radius (default ``window_s``).
    """
    times = np.asarray(times, dtype=np.float64)
    rate = rate or estimate_rate(times)
    w = max(2, round(window_s * rate))
    thr = threshold if threshold is not None else (1.5 if kind == "mean" else float(np.log(2)))
    stat = change_statistic(signal, w, kind)
    cand = np.flatnonzero(stat >= thr)
    if cand.size == 0:
        return np.empty(0)
    radius = max(1, round((min_distance_s if min_distance_s is not None else window_s) * rate))
    # Greedy non-maximum suppression, strongest first; candidates are few after thresholding
    # a smooth statistic, but cap the loop by keeping only local maxima.
    s = stat[cand]
    is_peak = (s >= stat[np.maximum(cand - 1, 0)]) & (s >= stat[np.minimum(cand + 1, len(stat) - 1)])
    cand = cand[is_peak]
    taken: list[int] = []
    for i in cand[np.argsort(-stat[cand], kind="stable")]:
        if all(abs(i - j) >= radius for j in taken):
            taken.append(int(i))
    return np.sort(times[taken])


def change_point_segments(
    signal: np.ndarray,
    times: np.ndarray,
    *,
    window_s: float = 1.0,
    threshold: float | None = None,
    kind: str = "mean",
    channel: int | None = None,
    as_points: bool = False,
    label: str = "segment",
    tier: str = SUGGESTION_TIER,
    rate: float | None = None,
) -> list[Segment]:
    """Suggest the segments between consecutive change points (or the points themselves).

    The whole signal is covered: from the first sample to the first change, between
    changes, and from the last change to the last sample. Relabel each to accept it.
    """
    x = np.asarray(signal, dtype=np.float64)
    if channel is not None:
        x = reduce_channels(x, channel)
    times = np.asarray(times, dtype=np.float64)
    cps = change_points(x, times, window_s=window_s, threshold=threshold, kind=kind, rate=rate)
    if as_points:
        return to_segments([(t, t) for t in cps], label, tier=tier, source="suggest:changepoint")
    edges = [float(times[0]), *map(float, cps), float(times[-1])]
    spans = [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    return to_segments(spans, label, tier=tier, source="suggest:changepoint")


# --------------------------------------------------------------------------------------------
# Motion on video
# --------------------------------------------------------------------------------------------


def downscaled_gray(frames: np.ndarray, size: int = 64) -> np.ndarray:
    """``(n, h', w')`` float32 grayscale, block-averaged so the width is about ``size``.

    Accepts ``(n, h, w)`` gray or ``(n, h, w, 3)`` BGR (OpenCV order, as recorded).
    """
    f = np.asarray(frames)
    if f.ndim == 4:
        # BGR luma weights (ITU-R BT.601), in float32 to halve memory on long blocks.
        f = f.astype(np.float32) @ np.array([0.114, 0.587, 0.299], dtype=np.float32)
    f = f.astype(np.float32, copy=False)
    n, h, w = f.shape
    k = max(1, w // size)
    h2, w2 = (h // k) * k, (w // k) * k
    return f[:, :h2, :w2].reshape(n, h2 // k, k, w2 // k, k).mean(axis=(2, 4))


def motion_score(gray: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """Mean absolute difference to the previous frame, in grey levels (first frame: 0).

    ``previous`` is the last frame of the preceding block, so block-wise scores join up.
    """
    g = np.asarray(gray, dtype=np.float32)
    if g.shape[0] == 0:
        return np.empty(0)
    prev = np.concatenate(([g[0] if previous is None else previous], g[:-1]))
    return np.abs(g - prev).mean(axis=(1, 2)).astype(np.float64)


def motion_segments(
    frames: np.ndarray,
    times: np.ndarray,
    *,
    size: int = 64,
    threshold: float | None = None,
    min_duration: float = 0.2,
    min_gap: float = 0.5,
    label: str = "motion",
    tier: str = SUGGESTION_TIER,
) -> list[Segment]:
    """Suggest segments with motion in video by frame differencing.

    ``threshold`` is in grey levels of mean absolute difference; by default it is the
    median score plus 6 robust standard deviations (at least 1 grey level above the median),
    which ignores sensor noise and compression flicker.
    """
    return motion_segments_from_scores(
        motion_score(downscaled_gray(frames, size)), np.asarray(times, dtype=np.float64),
        threshold=threshold, min_duration=min_duration, min_gap=min_gap, label=label, tier=tier,
    )


def motion_segments_from_scores(
    score: np.ndarray,
    times: np.ndarray,
    *,
    threshold: float | None = None,
    min_duration: float = 0.2,
    min_gap: float = 0.5,
    label: str = "motion",
    tier: str = SUGGESTION_TIER,
) -> list[Segment]:
    """Second half of `motion_segments`, for scores computed block by block."""
    med = float(np.median(score)) if score.size else 0.0
    if threshold is None:
        sigma = 1.4826 * float(np.median(np.abs(score - med))) if score.size else 0.0
        threshold = med + max(6 * sigma, 1.0)
    # Leave halfway back to the typical (noise) level: noise alone never holds it on.
    mask = hysteresis(score, threshold, min(threshold, med + (threshold - med) / 2))
    # A motion frame differs from the one before it: the motion spans from that one on.
    t_lo = np.concatenate((times[:1], times[:-1]))
    spans = spans_from_mask(mask, t_lo, times, min_duration=min_duration, min_gap=min_gap)
    return to_segments(spans, label, tier=tier, source="suggest:motion")


__all__ = [
    "DIGITAL_SILENCE_DB",
    "SUGGESTION_TIER",
    "change_point_segments",
    "change_points",
    "change_statistic",
    "downscaled_gray",
    "energy_segments",
    "energy_segments_from_frames",
    "estimate_rate",
    "frame_energy_db",
    "frames_view",
    "hysteresis",
    "motion_score",
    "motion_segments",
    "motion_segments_from_scores",
    "noise_floor",
    "reduce_channels",
    "spans_from_mask",
    "threshold_segments",
    "to_segments",
]
