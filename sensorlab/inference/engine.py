"""`InferenceProcessor`: a model on a live stream, as a node of the stream graph.

It is an ordinary processor (`sensorlab.acquisition.processors.base`): `Acquisition` gives it
a bounded ring of its input stream and runs it on its own thread, which sleeps until samples
arrive. It cuts windows with `Windower` (the dataset build's code), runs the model
(`LoadedModel`: onnxruntime, or ai-edge-litert for a ``.tflite`` build, on one thread) and emits
a **predictions stream**:

- a float32 timeseries, one sample per window, one channel per class (the label names),
  holding the class probabilities;
- stamped with the window's **end** (host clock, like every stream); the chunk's
  ``device_times`` hold each window's **start** and its ``arrival_times`` the host time the
  prediction was made, so both are stored in the session and ``arrival - end`` is the
  sample-to-prediction latency;
- optionally smoothed, with an events stream ``<name>_events`` from a threshold on one class
  (`sensorlab.inference.smoothing`).

Falling behind is not allowed to grow: a window whose end is older than ``stale_after``
seconds when it could run is skipped (the newest ready window always runs) and counted in
``stats[name].skipped``; a stateful model's state is reset after a skip or a gap in the input,
like after lost input. The health figures (`InferenceStats`: windows run, skipped, the last
and mean per-window inference time, the sample-to-prediction lag) sit in the stream's stats,
which the studio's stream health shows.

A model that cannot be loaded is reported when the processor opens, like a device that does
not open (the rest of the rig runs); one that fails at run time stops its own streams only,
with a message naming the input and the fix — never the recording.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.names import prediction_stream_name
from sensorlab.acquisition.processors.base import ProcessorBase
from sensorlab.acquisition.source import Chunk, SourceError, StreamInfo, StreamKind, StreamStats
from sensorlab.inference.live_settings import LiveSettings, events_info
from sensorlab.inference.mapping import ModelMapping
from sensorlab.inference.model import LoadedModel, ModelError
from sensorlab.inference.ort_ext import OrtError, wake_ready
from sensorlab.inference.ort_session import run_failed
from sensorlab.inference.smoothing import EventDetector, Smoother, stop_event
from sensorlab.inference.windower import Windower

#: Default: a window whose end is older than this when it could run is skipped.
STALE_AFTER = 0.5
#: Unit of every channel of a predictions stream (a probability): how views recognise one.
PROBABILITY_UNIT = "p"
#: Weight of the newest window in the running mean latency.
_EWMA = 0.1
_new_chunk = object.__new__


@dataclass(slots=True)
class InferenceStats(StreamStats):
    """A predictions stream's health: `StreamStats` plus the model's own figures.

    Every field in a slot (`StreamStats`' too; other attributes still go to the instance dict):
    the one-call wake-up (`_ort_wake.h`) writes ~10 of them a window, a load or a pointer swap
    each where ``setattr`` costs ~200 instructions."""

    windows: int = 0  # windows the model ran on
    skipped: int = 0  # stale windows skipped so as not to fall behind
    resets: int = 0  # state resets (gaps, skips, lost input)
    latency_ms: float = math.nan  # features + model run, per window, last call
    latency_ms_mean: float = math.nan  # running mean of the same
    lag_ms: float = math.nan  # prediction time − the window's last sample (end − 1/rate): sample-to-prediction, last window


#: Called on the processor thread after each run: (starts, ends, model inputs, probabilities).
WindowTap = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], None]


class InferenceProcessor(LiveSettings, ProcessorBase):
    """Run ``model`` on windows of its stream; emit class probabilities (and events).

    Parameters
    ----------
    model
        A ``.onnx`` or ``.tflite`` path (configured by its contract, or the mapping saved beside
        it) or a `LoadedModel`.
    name
        Output stream name; default ``<model file stem>_pred``.
    input
        Read this stream instead of the one the contract / mapping names.
    mapping
        Use this mapping instead of the contract or the saved one.
    stale_after
        Seconds after which a ready window is too old to be worth running (`STALE_AFTER`).
    smooth, hysteresis
        Moving average over this many windows (0/1: none); see `Smoother`.
    event_label, threshold, release
        Emit ``<name>_events`` when the (smoothed) probability of ``event_label`` rises above
        ``threshold`` and falls below ``release`` (default ``threshold``).

    All but the model, its input and ``stale_after`` can be changed while it runs
    (`LiveSettings.apply_settings`, `Acquisition.rename_streams`).
    """

    def __init__(self, model: str | Path | LoadedModel, name: str = "", input: str = "", mapping: ModelMapping | None = None,
                 stale_after: float = STALE_AFTER, smooth: int = 0, event_label: str = "", threshold: float | None = None,
                 release: float | None = None):  # fmt: skip
        self.model: LoadedModel | None = None
        self.load_error = ""
        path = Path(model.path if isinstance(model, LoadedModel) else model)
        try:
            self.model = model if isinstance(model, LoadedModel) else LoadedModel(path, mapping)
        except ModelError as e:
            self.load_error = str(e)
        stream = input or (self.model.mapping.stream if self.model else "") or "?"
        super().__init__((stream,), description=f"model {path.name} on {stream}")
        self.input = stream
        self.name = name or prediction_stream_name(str(path))
        self.events_name = f"{self.name}_events"
        self.stale_after = float(stale_after)
        self.smoother = Smoother(smooth)
        self.event_label, self.threshold, self.release = event_label, threshold, release
        self.detector: EventDetector | None = None
        self._close_span: tuple[str, int] | None = None  # (class, column) of an events span a settings change left open
        self.taps: list[WindowTap] = []
        self._batch = True  # several ready windows go to the model in one run (when `LoadedModel.batch_ok`)
        self._one = None  # the bound one-window call, once known (False: the model cannot be bound); see _run_one
        self._fast = None  # the whole usual wake-up as one C call (`_ort_wake.h`'s `Session.wake`), once known (False: not available); see _run_one

    # -- opening ------------------------------------------------------------------------------------
    def open(self, inputs: Mapping[str, StreamInfo] | None = None) -> None:
        if self.model is None:
            raise SourceError(self.load_error)
        super().open(inputs)
        self.stats = {s.name: InferenceStats() for s in self.streams}
        self._st = self.stats[self.name]
        self._length = float(self.model.mapping.window)
        self._one = None
        self._fast = None

    def _declare(self) -> list[StreamInfo]:
        assert self.model is not None
        m, src = self.model.mapping, self.input_infos[self.input]
        if src.kind not in (StreamKind.AUDIO, StreamKind.TIMESERIES) or not src.regular:
            raise SourceError(f"model {self.model.path.name}: needs a regular audio or timeseries stream; {self.input!r} is {src.kind.value}"
                              f"{'' if src.regular else ' without a fixed rate'}; pick another stream in the mapping ('stream')")  # fmt: skip
        columns = self._cols = self._columns(src)
        rate = m.rate or src.nominal_rate
        self._period = 1.0 / rate  # a window ends one sample period after its last sample
        try:
            self.windower = Windower(src.nominal_rate, rate, m.window, m.hop, columns)
        except ValueError as e:
            raise SourceError(f"model {self.model.path.name}: {e}; set 'rate' in the mapping to one the stream's {src.nominal_rate:g} Hz divides evenly") from None
        try:
            self.model.check_window(self.windower.n, len(columns))
        except ModelError as e:
            raise SourceError(str(e)) from None
        labels = self.model.labels
        if self.event_label and self.event_label not in labels:
            raise SourceError(f"model {self.model.path.name}: no class {self.event_label!r} for events (classes: {', '.join(labels)}); fix event_label")
        out = [StreamInfo(self.name, StreamKind.TIMESERIES, 1.0 / m.hop, channel_names=tuple(labels), units=(PROBABILITY_UNIT,) * len(labels), dtype="float32",
                          sample_shape=(len(labels),), device=f"model {self.model.path.name} on {self.input}: window {m.window:g} s, hop {m.hop:g} s "
                          f"at {rate:g} Hz (timestamps: window end; device_times: window start)")]  # fmt: skip
        if self.event_label and self.threshold is not None:
            self.detector = EventDetector(self.event_label, labels.index(self.event_label), self.threshold, self.release)
            out.append(events_info(self.name, self.event_label, self.threshold))
        return out

    def _columns(self, src: StreamInfo) -> list[int]:
        assert self.model is not None
        want = self.model.mapping.channels
        if not want:
            return list(range(src.channel_count))
        cols = []
        for c in want:
            if isinstance(c, str):
                if c not in src.channel_names:
                    raise SourceError(f"model {self.model.path.name}: stream {self.input!r} has no channel {c!r} (channels: {', '.join(src.channel_names)}); "
                                      f"fix 'channels' in the mapping")  # fmt: skip
                cols.append(src.channel_names.index(c))
            elif not 0 <= c < src.channel_count:
                raise SourceError(f"model {self.model.path.name}: channel {c} out of range; {self.input!r} has {src.channel_count}")
            else:
                cols.append(int(c))
        return cols

    # -- running (processor thread) ---------------------------------------------------------------
    def reset(self) -> None:
        """Lost input (ring overflow): start a new grid and forget the model's state."""
        if self.model is not None and hasattr(self, "windower"):
            self.windower.reset()
            self._reset_state()

    def _reset_state(self) -> None:
        assert self.model is not None
        self.model.reset()
        self.smoother.reset()
        st = self.stats.get(self.name)
        if isinstance(st, InferenceStats):
            st.resets += 1

    def wake_after(self, stream: str) -> float:
        """Sleep until the next window can be complete (`Windower.due`): one wake-up per hop, not per chunk."""
        w = getattr(self, "windower", None)
        return w.due if w is not None and stream == self.input else float("-inf")

    def process(self, new: dict[str, Chunk]) -> None:
        chunk = new[self.input]
        for ready in self.windower.push(chunk.timestamps, chunk.data):
            self.run_windows(ready.starts, ready.data, ready.after_gap)

    def process_chunks(self, new: dict[str, list[Chunk]]) -> None:
        """The hop's chunks go to the windower unjoined: it joins the timestamps and samples
        once (not the device and arrival times the ring's `since` would join as well)."""
        usual = self._one is not False and not self.taps and self.detector is None and self.smoother.n <= 1 and self._close_span is None
        w, chunks = self.windower, new[self.input]
        fast = self._fast
        if fast and usual and w._c is not None and w._fast and not w._pending and chunks:
            # The whole usual wake-up in one C call (`_ort_wake.h`'s `Session.wake`): the hop (the C
            # hop's code, `_hop_core.h`: taken where `w._c` says the C hop runs), the run of the
            # window it cut, read where it lies, and what `_emit_one` does — the predictions chunk,
            # the stats, the hand-over to the sink — with `_emit_one`'s arithmetic.
            try:
                r = fast(w, chunks, self._st, self._sink, self.name, self._wake_consts)
            except OrtError as e:
                m = self.model
                raise run_failed(m.path.name, m.window_input.name, e) from None  # type: ignore[union-attr]
            if r is True:  # one window run, its chunk counted and handed over
                return
            if r is None:  # the hop refused (nothing held): the general path
                ready = w.push_parts([(c.timestamps, c.data) for c in chunks])
            elif type(r) is tuple:  # one window after a gap: the state is reset first
                self._run_one(*r)
                return
            else:
                ready = r
        else:
            ready = w.push_chunks(chunks, usual)
        if type(ready) is tuple:  # the usual hop: one window, as (start, samples, after_gap, address)
            self._run_one(*ready)
            return
        if usual and len(ready) == 1 and len(ready[0].starts) == 1:  # one window from the general path
            r = ready[0]
            self._run_one(float(r.starts[0]), r.data[0], r.after_gap)
            return
        for r in ready:
            self.run_windows(r.starts, r.data, r.after_gap)

    def _run_one(self, start: float, window: np.ndarray, after_gap: bool, address: int = 0) -> None:
        """`run_windows` for the usual live hop — one window (its start, its samples ``(n, C)``),
        the bound call, no taps, events or smoothing — with the same stats and the same
        predictions chunk, in fewer calls (the engine's own Python per window is what the ratio
        to a bare run measures): the window's start and end stay Python floats until the
        chunk's arrays, and the chunk is counted (`StreamStats.count_one`) and handed on here.
        ``address``: where the window lies in the windower's held samples (the usual hop's), so
        the model reads it there instead of a copy (`BoundRun.__call__`); 0: copied."""
        one = self._one
        if one is None:
            assert self.model is not None
            one = self._one = self.model.bound(self.windower.n, len(self._cols)) or False
            if one is False:
                self.run_windows(np.array([start]), window[None], after_gap)
                return
        st = self._st
        if after_gap and st.windows:
            self._reset_state()
        # The predictions chunk is made before the run, its probabilities and arrival time filled
        # in after: the same arrays, but NumPy's code is still in the caches here, where after a
        # model run every call pays for fetching it again (2–5× its cost; docs/performance/inference.md).
        # (np.empty and an item set: cheaper than np.array of a one-float list, which parses the list)
        probs = np.empty((1, one.classes), np.float32)
        ends, starts, arrival = np.empty(1), np.empty(1), np.empty(1)
        t0 = now()
        one(window, probs, address)
        t1 = now()
        self._emit_one(start, probs, ends, starts, arrival, t0, t1)
        if self._fast is None:  # the first window: can the whole wake-up be one C call from now on?
            f = getattr(one, "_fused", None)
            self._fast = f.native.wake if f and f.native is not None and f.zero_copy and wake_ready() else False
            self._wake_consts = (self._length, self._period, _EWMA, Chunk)

    def _emit_one(self, start: float, probs: np.ndarray, ends: np.ndarray, starts: np.ndarray, arrival: np.ndarray, t0: float, t1: float) -> None:
        """The one-window wake-up's predictions chunk, stats and emit, the model run between ``t0`` and ``t1``."""
        st = self._st
        end = start + self._length  # (float64 either way: run_windows' starts + window)
        ends[0] = end
        starts[0] = start
        arrival[0] = t1
        # `Chunk(probs, ends, starts, arrival)` without its `__init__` and `__post_init__` (two
        # Python frames, `np.asarray` and two `len`s a window): what they would check holds by
        # construction here (float64 stamps, one sample, one stamp).
        chunk = _new_chunk(Chunk)
        chunk.data, chunk.timestamps, chunk.device_times, chunk.arrival_times = probs, ends, starts, arrival
        per = (t1 - t0) * 1000.0
        st.latency_ms = per
        mean = st.latency_ms_mean
        st.latency_ms_mean = per if mean != mean else (1 - _EWMA) * mean + _EWMA * per
        st.windows += 1
        st.lag_ms = (t1 - end + self._period) * 1000.0
        # `Source._emit` for this one-sample chunk: the counting `StreamStats.count` does, with
        # the end already a float (no `len`, no array indexing); the usual-hop test checks the
        # counters equal the general path's, which calls `_emit`.
        st.count_one(1, end, end, t1)
        sink = self._sink
        if sink is not None:
            sink(self.name, chunk)

    def run_windows(self, starts: np.ndarray, data: np.ndarray, after_gap: bool = False, live: bool = True) -> None:
        """Run the model on cut windows and emit their predictions (offline: ``live=False``, nothing skipped)."""
        assert self.model is not None
        st = self.stats[self.name]
        assert isinstance(st, InferenceStats)
        if after_gap and st.windows:
            self._reset_state()
        m = self.model.mapping
        ends = starts + m.window
        if live and len(starts) > 1:  # one ready window (the usual case) is the newest: it always runs
            keep = ends >= now() - self.stale_after
            keep[-1] = True
            skipped = int(len(keep) - keep.sum())
            if skipped:
                st.skipped += skipped
                if self.model.state_pairs:
                    self._reset_state()  # state carried over skipped windows would be wrong
                starts, ends, data = starts[keep], ends[keep], data[keep]
        t0 = now()
        model = self.model
        bound = model.bound(self.windower.n, len(self._cols)) if live else None
        if bound is not None and len(data) == 1:  # the usual live case: inputs and outputs bound once, nothing allocated but the result
            probs = bound(data[0])
            x = bound.prepare(data[0]).copy() if self.taps else bound.features  # taps may keep it; the buffer is reused
        elif bound is not None and (batch := self._run_batch(data)) is not None:
            x, probs = batch
        elif bound is not None:
            probs = np.concatenate([bound(w) for w in data])
            x = model.features(data) if self.taps else bound.features
        else:
            x = model.features(data)
            probs = model.run(x)
        t1 = now()
        n = len(probs)
        per = (t1 - t0) * 1000.0 / (n or 1)
        st.latency_ms = per
        st.latency_ms_mean = per if st.latency_ms_mean != st.latency_ms_mean else (1 - _EWMA) * st.latency_ms_mean + _EWMA * per
        st.windows += n
        out = self.smoother.apply(probs)
        # The window's newest sample is at end − 1/rate: that is when its data was complete.
        st.lag_ms = (t1 - float(ends[-1]) + self._period) * 1000.0
        self._emit(self.name, Chunk(out, ends, starts, np.array([t1]) if n == 1 else np.full(n, t1)), t1)  # (np.full: ~1 µs more for one)
        detector, close = self.detector, self._close_span
        if detector is not None or close is not None:
            texts, times = detector.update(out, ends) if detector is not None else ([], [])
            if close is not None:  # a span the settings left open ends at this window
                self._close_span = None
                texts.insert(0, stop_event(close[0], float(out[0, close[1]])))
                times.insert(0, float(ends[0]))
            if texts:
                self._emit(self.events_name, Chunk(np.array(texts, dtype=object), np.array(times)), t1)
        for tap in self.taps:
            tap(starts, ends, x, probs)


    def _run_batch(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Several windows ready at once (a wake-up after a stall, hops shorter than the device's
        chunks): their model inputs and probabilities from ONE run, or None to run them one by one.

        Only for a model with a free batch axis and no recurrent state (`LoadedModel.batch_ok`): a
        stateful model's window needs the state its predecessor left, so its windows always run
        one after the other. Nothing waits to fill a batch: these windows were all ready now."""
        assert self.model is not None
        if len(data) < 2 or not self._batch or not self.model.batch_ok:
            return None
        bound = self.model.bound(self.windower.n, len(self._cols))
        try:
            x, probs = bound.batch(data) if bound is not None else (None, None)
        except ModelError:
            probs = None
        if probs is None or len(probs) != len(data):
            # The batch axis is not a real one (the graph reshapes to one window): window by window
            # from now on; a model that fails on one window then fails there, with its own message.
            self._batch = False
            return None
        return (x.copy() if self.taps else x), probs  # taps may keep the inputs; the buffer is reused


def is_predictions(info: StreamInfo) -> bool:
    """True for a predictions stream (class probabilities per window), live or recorded."""
    return info.kind is StreamKind.TIMESERIES and bool(info.units) and all(u == PROBABILITY_UNIT for u in info.units) and info.device.startswith("model ")


__all__ = ["PROBABILITY_UNIT", "STALE_AFTER", "is_predictions", "InferenceProcessor", "InferenceStats", "WindowTap"]
