"""What the health table computes per stream, without Qt: the measured rate, when a stream
counts as stalled, and a model's figures (`sensorlab.app.live.health_view` shows them)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sensorlab.acquisition.source import StreamInfo, StreamKind

#: A regular stream is stalled after this many nominal sample periods without data…
STALL_PERIODS = 20
#: …but never sooner than this (seconds; covers PulseAudio's and USB's bursty delivery).
STALL_MIN_S = 1.0
#: Irregular streams (camera on a URL) are stalled after this long; event streams never are.
STALL_IRREGULAR_S = 3.0


@dataclass
class RateMeter:
    """Measured rate over the stream's own timestamps, not over arrival: audio arrives in
    20 ms hand-overs and serial in USB bursts, so counting arrivals per second jitters by
    percents while the sample clock is steady."""

    t: float  # host time of the last update
    samples: int
    last_time: float  # timestamp of the newest sample at the last update
    rate: float = float("nan")

    def update(self, t: float, samples: int, last_time: float) -> float:
        if t - self.t >= 0.9:
            span = last_time - self.last_time
            if span > 0 and samples > self.samples:
                inst = (samples - self.samples) / span
                self.rate = inst if math.isnan(self.rate) else 0.5 * self.rate + 0.5 * inst
            elif samples == self.samples:
                self.rate = 0.0  # nothing new for a whole window
            self.t, self.samples, self.last_time = t, samples, last_time
        return self.rate


@dataclass
class HostPauses:
    """How long this process itself was held up, from its own refreshes coming late.

    A stream is stalled when its *device* stops delivering. When the whole process could not
    run (a busy or suspended machine, a VM whose host ran something else), its device threads
    could not take data either, and the data were waiting in the reader process, the sound
    server or the kernel; right after such a pause every stream looks silent for as long as
    the pause lasted, and counting that against the devices called every stream of a merely
    busy machine "stalled" (issue 14 §2: waits of 0.4–2.2 s at load 18–20 with nothing lost).
    So the silence that counts is the silence minus the pauses the view saw meanwhile.

    ``period``: the seconds between refreshes asked for; a refresh later than that by more
    than ``slack`` seconds counts the excess as a pause.
    """

    period: float
    slack: float = 0.1
    #: Pauses older than this many seconds are forgotten (a silence longer than that is a stall).
    keep: float = 120.0

    def __post_init__(self):
        self.last: float | None = None
        self.pauses: list[tuple[float, float]] = []  # (host time the pause ended, its length)

    def note(self, t: float) -> None:
        """A refresh ran at host time ``t``."""
        if self.last is not None:
            excess = t - self.last - self.period
            if excess > self.slack:
                self.pauses.append((t, excess))
        self.last = t
        while self.pauses and self.pauses[0][0] < t - self.keep:
            self.pauses.pop(0)

    def since(self, t0: float) -> float:
        """Seconds of pause after host time ``t0`` (a pause that began before ``t0`` counts from it)."""
        return sum(min(length, end - t0) for end, length in self.pauses if end > t0)


def silence(t: float, last_arrival: float, pauses: HostPauses | None = None) -> float:
    """Seconds a stream has had no data at host time ``t``, not counting this process's own
    pauses since its last data (`HostPauses`)."""
    return t - last_arrival - (pauses.since(last_arrival) if pauses is not None else 0.0)


def stall_after(info: StreamInfo) -> float | None:
    """Seconds without data after which ``info``'s stream counts as stalled (None: never)."""
    if info.kind is StreamKind.EVENTS:
        return None
    if not info.regular:
        return STALL_IRREGULAR_S
    return max(STALL_MIN_S, STALL_PERIODS / info.nominal_rate)


def model_health(st) -> str:
    """", model 1.2 ms/window, lag 35 ms, 4 skipped" for a predictions stream (`InferenceStats`), else ""."""
    latency = getattr(st, "latency_ms_mean", None)
    if latency is None or math.isnan(latency):
        return ""
    skipped = getattr(st, "skipped", 0)
    lag = getattr(st, "lag_ms", math.nan)
    parts = [f"model {latency:.2f} ms/window"] + ([f"lag {lag:.0f} ms"] if not math.isnan(lag) else []) + [f"{skipped:,} skipped"]
    return " · " + ", ".join(parts)
