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
