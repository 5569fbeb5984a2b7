"""Two small processors that double as worked examples: a moving RMS and a threshold detector.

Both are usable from a rig file (``[[processor]]`` tables, docs/RIG.md) and chain: a
threshold on a moving RMS turns "the microphone got loud" into an events stream.
"""

from __future__ import annotations

import json

import numpy as np

from sensorlab.acquisition.processors.base import ProcessorBase
from sensorlab.acquisition.source import IRREGULAR, Chunk, SourceError, StreamInfo, StreamKind


class MovingRMS(ProcessorBase):
    """Root mean square of each channel over the last ``window`` seconds, every ``hop`` seconds.

    Output sample ``k`` is stamped with the input sample it ends on, input index
    ``i = (k + 1) * hop_n - 1`` counted from the first input sample the processor saw
    (``hop_n = round(hop * rate)``, ``window_n = round(window * rate)``), and equals
    ``sqrt(mean(x[i - window_n + 1 : i + 1] ** 2))`` per channel; the first outputs wait
    until a whole window has arrived. The output is a ``float32`` timeseries at
    ``rate / hop_n`` Hz with the input's channel names.
    """

    def __init__(self, input: str, window: float = 0.1, hop: float = 0.05, name: str = ""):
        super().__init__((input,), description=f"moving RMS of {input}")
        if window <= 0 or hop <= 0:
            raise ValueError(f"moving RMS of {input}: window and hop must be > 0 seconds")
        self.input, self.window, self.hop = input, float(window), float(hop)
        self.name = name or f"{input}_rms"

    def _declare(self) -> list[StreamInfo]:
        src = self.input_infos[self.input]
        if src.kind not in (StreamKind.AUDIO, StreamKind.TIMESERIES) or not src.regular:
            raise SourceError(f"processor {self.name}: moving RMS needs a regular audio or timeseries input; {self.input!r} is {src.kind.value} at {src.nominal_rate} Hz")
        self.window_n = max(1, round(self.window * src.nominal_rate))
        self.hop_n = max(1, round(self.hop * src.nominal_rate))
        self.reset()
        return [
            StreamInfo(
                self.name,
                StreamKind.TIMESERIES,
                src.nominal_rate / self.hop_n,
                channel_names=src.channel_names,
                units=src.units,
                dtype="float32",
                sample_shape=(src.channel_count,),
                device=f"moving RMS of {self.input} ({self.window_n} samples every {self.hop_n})",
            )
        ]

    def reset(self) -> None:
        self._tail = np.empty((0, 0))  # last window_n - 1 squared samples
        self._seen = 0  # input samples since the start (or the last reset)

    def process(self, new: dict[str, Chunk]) -> None:
        chunk = new[self.input]
        x = np.asarray(chunk.data, dtype=np.float64).reshape(len(chunk), -1) ** 2
        if self._tail.shape[1:] != x.shape[1:]:
            self._tail = np.empty((0, x.shape[1]))
        sq = np.concatenate((self._tail, x))  # sq[j] is input sample self._seen - len(tail) + j
        base = self._seen - len(self._tail)
        self._seen += len(x)
        # Window ends: input indices i with (i + 1) % hop_n == 0, i >= window_n - 1, in this chunk.
        first = max(self._seen - len(x), self.window_n - 1)
        first += (-(first + 1)) % self.hop_n
        ends = np.arange(first, self._seen, self.hop_n)
        if len(ends):
            csum = np.concatenate((np.zeros((1, sq.shape[1])), np.cumsum(sq, axis=0)))
            j = ends - base + 1  # exclusive end in sq
            rms = np.sqrt(np.maximum(csum[j] - csum[j - self.window_n], 0.0) / self.window_n)
            ts = chunk.timestamps[ends - (self._seen - len(x))]
            self.emit(self.name, rms.astype(np.float32), ts)
        self._tail = sq[max(0, len(sq) - (self.window_n - 1)) :] if self.window_n > 1 else sq[:0]


class ThresholdEvents(ProcessorBase):
    """An event each time channel ``channel`` of ``input`` rises above ``above`` (and one
    when it falls back below ``below``, default ``above``: set it lower for hysteresis).

    The output is an EVENTS stream of JSON strings in the live-label schema, so the spans
    read like labels: ``{"label": <output name>, "type": "start"|"stop", "value": v}``
    ("start" when it rises above, "stop" when it falls below), stamped with the crossing
    sample.
    """

    def __init__(self, input: str, above: float, below: float | None = None, channel: int | str = 0, name: str = ""):
        super().__init__((input,), description=f"threshold on {input}")
        self.input, self.above = input, float(above)
        self.below = self.above if below is None else float(below)
        if self.below > self.above:
            raise ValueError(f"threshold on {input}: below ({self.below}) must not exceed above ({self.above})")
        self.channel = channel
        self.name = name or f"{input}_events"
        self._high = False

    def _declare(self) -> list[StreamInfo]:
        src = self.input_infos[self.input]
        if src.kind not in (StreamKind.AUDIO, StreamKind.TIMESERIES):
            raise SourceError(f"processor {self.name}: a threshold needs an audio or timeseries input; {self.input!r} is {src.kind.value}")
        if isinstance(self.channel, str):
            if self.channel not in src.channel_names:
                raise SourceError(f"processor {self.name}: {self.input!r} has no channel {self.channel!r} (channels: {list(src.channel_names)})")
            self._col = src.channel_names.index(self.channel)
        else:
            if not 0 <= self.channel < src.channel_count:
                raise SourceError(f"processor {self.name}: channel {self.channel} out of range; {self.input!r} has {src.channel_count}")
            self._col = int(self.channel)
        return [StreamInfo(self.name, StreamKind.EVENTS, IRREGULAR, dtype="str", device=f"threshold {self.above} on {self.input}[{self.channel}]")]

    def reset(self) -> None:
        self._high = False

    def process(self, new: dict[str, Chunk]) -> None:
        chunk = new[self.input]
        v = np.asarray(chunk.data, dtype=np.float64).reshape(len(chunk), -1)[:, self._col]
        texts, times = [], []
        for i in range(len(v)):  # crossings are rare; a Python loop over one channel is fine
            if not self._high and v[i] > self.above:
                self._high = True
            elif self._high and v[i] < self.below:
                self._high = False
            else:
                continue
            texts.append(json.dumps({"label": self.name, "type": "start" if self._high else "stop", "value": round(float(v[i]), 6)}))
            times.append(chunk.timestamps[i])
        if texts:
            self.emit(self.name, np.array(texts, dtype=object), np.array(times))
