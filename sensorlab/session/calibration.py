"""Clap-to-sync calibration: measure each stream's fixed time offset from a common event.

A clap (a tap on the table, an LED flash) is one instant seen by every sensor: an impulse in
the audio, an accelerometer spike, a bright video frame, a radar target. Each stream's
timestamps may read late or early by a constant (camera exposure and USB latency, a serial
bridge's buffering). This module finds the event's onset in every stream, to a fraction of a
sample, and the median difference to a reference stream is that stream's offset.

Sub-sample onsets: the rising crossing of the detection threshold is interpolated linearly
between the last sample below and the first above it. For a step (a flash filling a frame,
a spike) that lands halfway between the two samples on average, i.e. the expected event
time, where "first sample above" would be late by half a period on average; the remaining
error per event is within ±½ period, and the median over several claps shrinks it.

Matching: an onset is paired with the reference onset whose difference agrees with most other
events (offsets up to `MAX_OFFSET`), so a stream that is 200 ms late is still matched to the
right clap. Clap at least a second apart (the detectors merge onsets within 0.5 s).

Core (Qt-free) users: `sensorlab sync SESSION` (`calibrate_session`) and the studio's
"clap to sync" dialog (`ClapCapture` on the running rig). Offsets are stored with
`sensorlab.session.sync_offsets`, never written into the recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sensorlab.acquisition.source import StreamInfo, StreamKind
from sensorlab.session import sync

#: Largest offset (s) a calibration looks for; claps must be further apart than twice this.
MAX_OFFSET = 0.5
#: Samples / frames read per block when scanning a session.
SCAN_BLOCK_SAMPLES = 480_000
SCAN_BLOCK_FRAMES = 300


def resolution(info: StreamInfo) -> float:
    """Seconds one sample spans (the stream's time resolution); NaN for irregular streams."""
    return 1.0 / info.nominal_rate if info.nominal_rate > 0 else float("nan")


def rising_crossings(values: np.ndarray, times: np.ndarray, threshold: float,
                     prev: tuple[float, float] | None = None) -> np.ndarray:  # fmt: skip
    """Times where ``values`` rises above ``threshold``, interpolated between samples.

    ``prev`` is the ``(value, time)`` of the sample just before (a previous block), if any.
    A NaN neighbour (an unreadable frame) gives the time of the first sample above.
    """
    v = np.asarray(values, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    if len(v) == 0:
        return np.empty(0)
    pv, pt = (np.concatenate([[prev[0]], v]), np.concatenate([[prev[1]], t])) if prev else (v, t)
    above = pv > threshold
    i = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    out = pt[i].copy()
    v0, v1, t0 = pv[i - 1], pv[i], pt[i - 1]
    ok = np.isfinite(v0) & (v1 > v0)
    frac = np.clip((threshold - v0[ok]) / (v1[ok] - v0[ok]), 0.0, 1.0)
    out[ok] = t0[ok] + frac * (pt[i][ok] - t0[ok])
    if not prev and above[0]:  # above from the very first sample: no earlier sample to interpolate with
        out = np.concatenate([[t[0]], out])
    return out


def half_level_onsets(values: np.ndarray, times: np.ndarray, threshold: float, window: int = 3) -> np.ndarray:
    """Onsets of events found above ``threshold``, timed where each crosses half its own height.

    For frame envelopes (brightness, radar peak): a threshold set relative to the typical
    level sits at an arbitrary fraction of an event's rise, which biases the interpolated time
    (a radar flash 10× the background crossing 4× is timed a sixth of a frame early). Half
    way between the frame before and the event's peak (over ``window`` frames) is unbiased
    for a step.
    """
    v = np.asarray(values, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    above = v > threshold
    idx = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    out = []
    for i in idx:
        base, peak = v[i - 1], np.nanmax(v[i : i + window])
        if not np.isfinite(base):
            out.append(t[i])
            continue
        mid = 0.5 * (base + peak)
        j = i + int(np.argmax(v[i : i + window] >= mid))
        v0, v1 = v[j - 1], v[j]
        frac = float(np.clip((mid - v0) / (v1 - v0), 0.0, 1.0)) if v1 > v0 else 1.0
        out.append(t[j - 1] + frac * (t[j] - t[j - 1]))
    if len(v) and above[0]:
        out.insert(0, t[0])
    return np.asarray(out, dtype=np.float64)


class OnsetCollector:
    """Collects one stream's clap onsets from blocks of samples (a session scan or a live ring).

    Audio and accelerometer thresholds are absolute, so their onsets are found block by block
    (memory stays bounded on hour-long files). Video and radar thresholds are relative to the
    stream's typical level, so their per-frame envelope (one number per frame) is kept and
    searched at the end.
    """

    def __init__(self, info: StreamInfo):
        self.info = info
        self._channel = sync.accel_x_channel(info) if info.kind is StreamKind.TIMESERIES else None
        self._found: list[np.ndarray] = []
        self._env: list[np.ndarray] = []
        self._times: list[np.ndarray] = []
        self._prev: tuple[float, float] | None = None

    @staticmethod
    def accepts(info: StreamInfo) -> bool:
        return sync.can_detect(info)

    def add(self, data: np.ndarray, times: np.ndarray) -> None:
        if len(times) == 0:
            return
        kind = self.info.kind
        if kind is StreamKind.VIDEO:
            self._env.append(sync.frame_brightness(data))
            self._times.append(np.asarray(times, dtype=np.float64))
            return
        if kind is StreamKind.FRAMES:
            self._env.append(np.asarray(data, dtype=np.float32).reshape(len(data), -1).max(axis=1))
            self._times.append(np.asarray(times, dtype=np.float64))
            return
        if kind is StreamKind.AUDIO:
            x = np.abs(np.asarray(data, dtype=np.float32).reshape(len(data), -1)).max(axis=1)
            if np.issubdtype(np.asarray(data).dtype, np.integer):
                x = x / np.iinfo(data.dtype).max
            thr = sync.AUDIO_THRESHOLD
        else:
            x, thr = np.asarray(data)[:, self._channel].astype(np.float64), sync.ACCEL_THRESHOLD_G
        self._found.append(rising_crossings(x, times, thr, self._prev))
        self._prev = (float(x[-1]), float(times[-1]))

    def onsets(self) -> np.ndarray:
        """Clap onsets found so far (s), one per event (`sync.REFRACTORY`)."""
        if self._env:
            env, t = np.concatenate(self._env), np.concatenate(self._times)
            if len(env) == 0 or np.isnan(env).all():
                return np.empty(0)
            med = float(np.nanmedian(env))
            if self.info.kind is StreamKind.VIDEO:
                thr = med + 0.5 * (255.0 - med)
            elif med > 0:
                thr = sync.RADAR_FACTOR * med
            else:
                return np.empty(0)
            return sync.merge_close(half_level_onsets(env, t, thr))
        found = np.concatenate(self._found) if self._found else np.empty(0)
        return sync.merge_close(np.sort(found))


@dataclass
class StreamOffset:
    """One stream's measured offset: its timestamps read ``offset`` s later than the reference's."""

    name: str
    offset: float
    stderr: float  # standard error of the median-like estimate (s)
    events: int  # claps matched with the reference
    resolution: float  # s per sample of this stream; 0 for irregular times (a camera stamped per frame)
    diffs: list[float] = field(default_factory=list)  # per matched clap (s)


@dataclass
class Calibration:
    """What a clap-to-sync estimate found. ``offsets`` excludes the reference (offset 0)."""

    reference: str
    offsets: dict[str, StreamOffset]
    onsets: dict[str, np.ndarray]
    problems: dict[str, str]  # stream → why it has no offset

    def as_dict(self) -> dict[str, float]:
        """``{stream: offset}`` to store (`sync_offsets.apply`)."""
        return {n: o.offset for n, o in self.offsets.items()}

    def details(self) -> dict[str, Any]:
        """Plain data stored with the offsets (what the estimate was based on)."""
        return {n: {"offset_ms": o.offset * 1e3, "stderr_ms": o.stderr * 1e3, "events": o.events, "resolution_ms": o.resolution * 1e3}
                for n, o in self.offsets.items()}  # fmt: skip

    def lines(self) -> list[str]:
        """Human-readable result, one line per stream."""
        if not self.reference:
            return [f"no clap found: {'; '.join(f'{k}: {v}' for k, v in self.problems.items()) or 'no stream can show one'}"]
        out = [f"reference: {self.reference} ({len(self.onsets.get(self.reference, []))} claps)"]
        for n, o in self.offsets.items():
            late = "late" if o.offset >= 0 else "early"
            # Irregular times have no sample period to bound the error: one clap gives none.
            error = "± ? ms" if o.events < 2 and not o.resolution > 0 else f"± {o.stderr * 1e3:.1f} ms"
            each = f"one sample is {_ms(o.resolution)}" if o.resolution > 0 else "irregular times: clap a few times for an error"
            out.append(f"{n}: {o.offset * 1e3:+.1f} ms {error} ({late}; {o.events} clap{'s' * (o.events != 1)}; {each})")
        out += [f"{n}: no offset ({why})" for n, why in self.problems.items()]
        return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms" if np.isfinite(seconds) else "irregular"


def match_offset(ref: np.ndarray, other: np.ndarray, tolerance: float, max_offset: float = MAX_OFFSET) -> np.ndarray:
    """Differences ``other - ref`` of the clap pairs that agree on one offset.

    Every difference within ±``max_offset`` is a candidate; the one that the most other
    events agree with (within ``tolerance``) wins, and its agreeing pairs are returned.
    """
    ref, other = np.asarray(ref, np.float64), np.asarray(other, np.float64)
    if len(ref) == 0 or len(other) == 0:
        return np.empty(0)
    d = other[None, :] - ref[:, None]
    cand = d[np.abs(d) <= max_offset]
    if len(cand) == 0:
        return np.empty(0)
    best, best_n = None, 0
    for c in cand:
        # Each reference clap pairs with at most one onset: the closest to this candidate offset.
        near = np.abs(d - c)
        j = near.argmin(axis=1)
        ok = near[np.arange(len(ref)), j] <= tolerance
        n = int(ok.sum())
        if n > best_n or (n == best_n and best is not None and abs(c) < abs(np.median(best))):
            best, best_n = d[np.arange(len(ref)), j][ok], n
    return best if best is not None else np.empty(0)


def estimate(onsets: dict[str, np.ndarray], infos: dict[str, StreamInfo], reference: str | None = None) -> Calibration:
    """Offsets of every stream relative to ``reference`` from their clap onsets.

    The default reference is the stream with the finest time resolution that saw a clap (the
    microphone, typically): its onsets are the most precise.

    Raises
    ------
    ValueError
        ``reference`` is not one of the streams.
    """
    problems = {n: "no clap detected" for n, o in onsets.items() if len(o) == 0}
    seen = [n for n, o in onsets.items() if len(o)]
    if reference is not None and reference not in onsets:
        raise ValueError(f"reference stream {reference!r} cannot show claps; choose one of: {', '.join(onsets) or 'none'}")
    if reference is None:
        if not seen:
            return Calibration("", {}, onsets, problems)
        reference = min(seen, key=lambda n: (np.nan_to_num(resolution(infos[n]), nan=1.0), -len(onsets[n])))
    elif not len(onsets[reference]):
        return Calibration("", {}, onsets, {**problems, reference: "the reference stream shows no clap"})
    ref = onsets[reference]
    res_ref = np.nan_to_num(resolution(infos[reference]), nan=0.0)
    out: dict[str, StreamOffset] = {}
    for n in seen:
        if n == reference:
            continue
        res = np.nan_to_num(resolution(infos[n]), nan=0.0)
        # Two interpolated onsets of one event differ by less than a period of the coarser
        # stream, plus real jitter (host-stamped frames): allow both.
        diffs = match_offset(ref, onsets[n], tolerance=max(res, res_ref) + 0.02)
        if len(diffs) == 0:
            problems[n] = f"no clap within ±{MAX_OFFSET * 1e3:.0f} ms of one in {reference}"
            continue
        # Per-event error: quantisation (uniform over a sample: period/√12 per stream) or the
        # observed scatter, whichever is larger.
        quant = float(np.sqrt((res**2 + res_ref**2) / 12.0))
        spread = float(np.std(diffs, ddof=1)) if len(diffs) > 1 else 0.0
        se = max(quant, spread) / np.sqrt(len(diffs))
        out[n] = StreamOffset(n, float(np.median(diffs)), se, len(diffs), res, [float(x) for x in diffs])
    return Calibration(reference, out, onsets, problems)


def scan_stream(reader: Any, t0: float = -np.inf, t1: float = np.inf) -> np.ndarray | None:
    """Interpolated clap onsets of a `StreamReader` between ``t0`` and ``t1`` (None: it cannot show claps)."""
    if not OnsetCollector.accepts(reader.info):
        return None
    col = OnsetCollector(reader.info)
    step = SCAN_BLOCK_FRAMES if reader.info.kind in (StreamKind.VIDEO, StreamKind.FRAMES) else SCAN_BLOCK_SAMPLES
    i, n = reader.index_of(t0) if np.isfinite(t0) else 0, reader.index_of(t1) if np.isfinite(t1) else reader.count
    while i < n:
        c = reader.read_index(i, min(n, i + step), decode=False)
        col.add(c.data, c.timestamps)
        i += step
    return col.onsets()


def calibrate_session(path: str | Path, reference: str | None = None, raw: bool = True) -> Calibration:
    """Estimate every stream's offset from the claps in a session file.

    ``raw`` (default) measures on the timestamps as recorded, which is what a stored offset
    corrects; False measures what is left after the stored offsets (the residual).
    """
    from sensorlab.session.reader import Session

    with Session.open(path, raw_times=raw) as s:
        onsets, infos = {}, {}
        for name, r in s.streams.items():
            if r.count and r.time_order().ok:
                ev = scan_stream(r)
                if ev is not None:
                    onsets[name], infos[name] = ev, r.info
    return estimate(onsets, infos, reference)


class ClapCapture:
    """Record clap onsets from a running rig for a few seconds (the studio's "clap to sync").

    Takes one ring per stream that can show claps from an `Acquisition`; call `poll` now and
    then (drains the rings: the live video is reduced to one brightness per frame at once, so
    memory stays small), then `finish` for the estimate. `close` gives the rings back.
    """

    def __init__(self, acquisition: Any, seconds: float = 6.0):
        self._acq = acquisition
        self.infos = {n: i for n, i in acquisition.streams.items() if OnsetCollector.accepts(i)}
        self._rings = {n: acquisition.ring(n, seconds=max(2.0, seconds)) for n in self.infos}
        self._collect = {n: OnsetCollector(i) for n, i in self.infos.items()}
        self._last = {n: -np.inf for n in self.infos}

    def poll(self) -> None:
        for n, ring in self._rings.items():
            c = ring.since(self._last[n])
            if c is not None and len(c):
                self._collect[n].add(c.data, c.timestamps)
                self._last[n] = float(c.timestamps[-1])

    def finish(self, reference: str | None = None) -> Calibration:
        self.poll()
        self.close()
        return estimate({n: c.onsets() for n, c in self._collect.items()}, self.infos, reference)

    def close(self) -> None:
        rings, self._rings = self._rings, {}
        for n, ring in rings.items():
            self._acq.release_ring(n, ring)
