"""`SignalSource`: a seeded, exactly-timed stream of any kind, for tests, demos and benchmarks.

Every sample is a pure function of its index ``k`` (see `SignalSource.expected`), and its
timestamp is exactly ``t0 + k / rate``, so a test can record N samples and compare what it
reads back value by value. Hooks simulate the two ways real devices misbehave:

- **stall**: no data for a while (USB hiccup); afterwards the missed samples are either
  skipped and counted as dropped with a gap (a device with sequence numbers), or delivered
  late (a device that buffers);
- **vanish**: the device disappears (cable pulled); the source calls ``_fail`` like a real
  driver, so ``stats[name].error`` is set and ``failed`` fires on the device thread.

Examples
--------
>>> src = SignalSource("imu", rate=1000, shape=(6,), chunk_size=10, realtime=False, max_samples=100)
>>> src.open(); got = []
>>> src.start(lambda name, chunk: got.append(chunk)); src.wait(5.0)
True
>>> sum(len(c) for c in got), got[0].data.shape[1:]
(100, (6,))
>>> src.close()
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.source import IRREGULAR, Chunk, SourceBase, StreamInfo, StreamKind


class SignalSource(SourceBase):
    """One deterministic stream.

    Parameters
    ----------
    name
        Stream name.
    kind
        Any `StreamKind`. VIDEO frames are ``(h, w, 3)`` uint8 with a uniform level (so JPEG
        round trips are near exact); EVENTS samples are the strings ``"<name> <k>"``.
    rate
        Samples per second emitted (for EVENTS too); also the nominal rate unless
        ``nominal_rate`` says otherwise (EVENTS default to `IRREGULAR`).
    shape
        Sample shape; default ``(1,)`` for timeseries/audio, ``(480, 640, 3)`` for video,
        ``(64, 32)`` for frames, ``()`` for events.
    dtype
        NumPy dtype of values (ignored for VIDEO/EVENTS).
    chunk_size
        Samples per chunk.
    pattern
        ``"counter"``: value = ``k * prod(shape) + element index`` (wrapped to the dtype);
        ``"sine"``: a seeded multi-tone sine per element; or a callable ``f(timestamps) ->
        (n, *shape) array`` (e.g. ``World.imu``, to record the simulated world's claps).
    seed
        Seeds the sine's phases and the arrival jitter.
    realtime
        Pace chunks to the host clock; False emits as fast as possible (timestamps are still
        ``t0 + k / rate``) — the fast, exact mode for tests and benchmarks.
    max_samples
        Stop after this many samples (`wait` returns then).
    device_time
        Chunks carry ``device_times`` (the device's sample clock, ``k / rate``) and
        ``arrival_times``; the stream reports ``has_device_time``.
    clock_from_rate
        With ``device_time``: the device times count samples at ``nominal_rate`` instead
        (``k / nominal_rate``, as a text board's line index is stamped), and the stream says
        so (`StreamInfo.clock_from_rate`).
    t0
        Host time of sample 0 (default: when `start` is called).
    vanish_after, stall_after
        Sample index at which the device vanishes / stalls (see module docstring);
        `vanish` and `stall` trigger the same from another thread.
    stall_for
        Seconds a stall lasts.
    stall_drops
        After a stall, skip the missed samples (count them as dropped, record a gap) rather
        than deliver them late.
    channel_names
        Default ``ch0, ch1, …`` for timeseries/audio.
    scale, offset, units
        The stream's `StreamInfo.scale` / ``offset`` / ``units``: integer values are then
        counts of ``value * scale + offset`` physical units (int16 PCM, IMU counts).
    """

    def __init__(
        self,
        name: str = "signal",
        kind: StreamKind | str = StreamKind.TIMESERIES,
        rate: float = 100.0,
        shape: tuple[int, ...] | None = None,
        dtype: str = "float32",
        chunk_size: int = 10,
        pattern: str | Callable[[np.ndarray], np.ndarray] = "counter",
        seed: int = 0,
        realtime: bool = True,
        max_samples: int | None = None,
        device_time: bool = False,
        clock_from_rate: bool = False,
        t0: float | None = None,
        nominal_rate: float | None = None,
        vanish_after: int | None = None,
        stall_after: int | None = None,
        stall_for: float = 0.5,
        stall_drops: bool = True,
        channel_names: tuple[str, ...] | None = None,
        scale: tuple[float, ...] = (),
        offset: tuple[float, ...] = (),
        units: tuple[str, ...] = (),
    ):
        super().__init__(description=f"signal:{name}")
        kind = StreamKind(kind)
        default_shape = {
            StreamKind.VIDEO: (480, 640, 3),
            StreamKind.FRAMES: (64, 32),
            StreamKind.EVENTS: (),
        }.get(kind, (1,))
        self.name = name
        self.kind = kind
        self.rate = float(rate)
        self.shape = tuple(default_shape if shape is None else shape)
        self.dtype = {"video": "uint8", "events": "str"}.get(kind.value, dtype)
        self.chunk_size = int(chunk_size)
        self.pattern = pattern
        self.realtime = realtime
        self.max_samples = max_samples
        self.device_time = device_time
        self.clock_from_rate = clock_from_rate and device_time
        self.t0 = t0
        self.nominal_rate = (IRREGULAR if kind is StreamKind.EVENTS else self.rate) if nominal_rate is None else nominal_rate
        self.vanish_after = vanish_after
        self.stall_after = stall_after
        self.stall_for = stall_for
        self.stall_drops = stall_drops
        self.channel_names = channel_names
        self.scale, self.offset, self.units = scale, offset, units
        rng = np.random.default_rng(seed)
        size = int(np.prod(self.shape)) if self.shape else 1
        self._phase = rng.uniform(0, 2 * np.pi, size)
        self._freq = rng.uniform(0.5, 5.0, size)
        self._jitter_rng = np.random.default_rng(seed + 1)
        self._k = 0
        self._stop_evt = threading.Event()
        self._thread: threading.Thread | None = None
        self.done = threading.Event()  # set when the thread ends (max_samples, vanish, stop)

    # -- the signal ------------------------------------------------------------------
    def timestamps(self, k: np.ndarray) -> np.ndarray:
        """Host time of samples ``k`` (valid once started)."""
        return float(self.t0 or 0.0) + np.asarray(k, dtype=np.float64) / self.rate

    def expected(self, k: np.ndarray | int) -> np.ndarray:
        """The samples with indices ``k``: ``(len(k), *shape)`` (pure; any thread)."""
        k = np.atleast_1d(np.asarray(k, dtype=np.int64))
        if callable(self.pattern):
            return np.asarray(self.pattern(self.timestamps(k))).astype(self.dtype if self.kind is not StreamKind.EVENTS else object, copy=False)
        if self.kind is StreamKind.EVENTS:
            return np.array([f"{self.name} {i}" for i in k], dtype=object)
        if self.kind is StreamKind.VIDEO:
            level = (16 + 5 * k) % 224 + 16 if self.pattern == "counter" else 128 + 100 * np.sin(2 * np.pi * 0.5 * k / self.rate)
            frames = np.empty((len(k), *self.shape), dtype=np.uint8)
            frames[...] = np.asarray(level, dtype=np.uint8).reshape(-1, *([1] * len(self.shape)))
            return frames
        size = int(np.prod(self.shape)) if self.shape else 1
        if self.pattern == "counter":
            vals = k[:, None] * size + np.arange(size)[None, :]
            dt = np.dtype(self.dtype)
            if dt.kind in "iu":  # wrap like a device's counter register would
                vals = vals.astype(dt)
            return vals.astype(dt).reshape(len(k), *self.shape)
        t = k[:, None] / self.rate
        vals = np.sin(2 * np.pi * self._freq[None, :] * t + self._phase[None, :])
        dt = np.dtype(self.dtype)
        if dt.kind == "i":
            vals = vals * (0.5 * np.iinfo(dt).max)
        elif dt.kind == "u":
            vals = (vals + 1) * (0.5 * np.iinfo(dt).max)
        return vals.astype(dt).reshape(len(k), *self.shape)

    # -- hooks (any thread) ---------------------------------------------------------------
    def vanish(self) -> None:
        """Make the device disappear at the next chunk."""
        self.vanish_after = self._k

    def stall(self, seconds: float) -> None:
        """Stall for ``seconds`` at the next chunk."""
        self.stall_for = seconds
        self.stall_after = self._k

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the source has emitted ``max_samples`` (or stopped); True if it has."""
        return self.done.wait(timeout)

    # -- SourceBase --------------------------------------------------------------------------
    def _open(self) -> None:
        self.streams = (
            StreamInfo(
                name=self.name,
                kind=self.kind,
                nominal_rate=self.nominal_rate,
                channel_names=self._channel_names(),
                dtype=self.dtype,
                sample_shape=self.shape,
                device=f"emulated {self.pattern} @ {self.rate:g} Hz",
                has_device_time=self.device_time,
                clock_from_rate=self.clock_from_rate,
                units=self.units,
                scale=self.scale,
                offset=self.offset,
            ),
        )

    def _channel_names(self) -> tuple[str, ...]:
        if self.channel_names is not None:
            return tuple(self.channel_names)
        if self.kind in (StreamKind.TIMESERIES, StreamKind.AUDIO):
            return tuple(f"ch{i}" for i in range(self.shape[-1]))
        return ()

    def _start(self) -> None:
        if self.t0 is None:
            self.t0 = now()
        self._stop_evt.clear()
        self.done.clear()
        self._thread = threading.Thread(target=self._run, name=f"signal-{self.name}", daemon=True)
        self._thread.start()

    def _stop(self) -> None:
        self._stop_evt.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)

    def _run(self) -> None:  # device thread
        try:
            while not self._stop_evt.is_set():
                k0 = self._k
                if self.max_samples is not None and k0 >= self.max_samples:
                    break
                if self.vanish_after is not None and k0 >= self.vanish_after:
                    self._fail(f"{self.name}: device disconnected (emulated, after {k0} samples)", self.name)
                    break
                if self.stall_after is not None and k0 >= self.stall_after:
                    self.stall_after = None
                    self._do_stall(k0)
                    continue
                n = self.chunk_size
                if self.max_samples is not None:
                    n = min(n, self.max_samples - k0)
                if self.vanish_after is not None:
                    n = min(n, self.vanish_after - k0)
                if self.stall_after is not None:
                    n = min(n, self.stall_after - k0)
                if n <= 0:
                    continue
                k = np.arange(k0, k0 + n)
                ts = self.timestamps(k)
                if self.realtime:
                    delay = ts[-1] - now()
                    if delay > 0 and self._stop_evt.wait(delay):
                        break
                arrival = now() if self.realtime else float(ts[-1]) + 0.001
                chunk = Chunk(
                    data=self.expected(k),
                    timestamps=ts,
                    device_times=k / (self.nominal_rate if self.clock_from_rate else self.rate) if self.device_time else None,
                    arrival_times=np.full(n, arrival + float(self._jitter_rng.uniform(0, 1e-4))) if self.device_time else None,
                )
                self._k = k0 + n
                self._emit(self.name, chunk, arrival)
        finally:
            self.done.set()

    def _do_stall(self, k0: int) -> None:
        if self._stop_evt.wait(self.stall_for):
            return
        if not self.stall_drops:
            return
        # Exactly the samples of the stall are lost, in real time too: counting up to the clock
        # would add those the thread was merely behind on (a busy machine's late wake-ups, then
        # caught up), and a 20 ms stall lost 300+ samples (the health row red, not amber).
        resume = k0 + int(round(self.stall_for * self.rate))
        if self.max_samples is not None:
            resume = min(resume, self.max_samples)
        skipped = resume - k0
        if skipped > 0:
            st = self.stats[self.name]
            st.dropped += skipped
            st.gaps.append((float(self.timestamps(k0 - 1)[()]) if k0 else float(self.t0 or 0.0), float(self.timestamps(resume)[()])))
            self._k = resume
