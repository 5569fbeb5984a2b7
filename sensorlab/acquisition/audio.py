"""`AudioSource`: a microphone through sounddevice (PortAudio), stamped by sample count.

Why not PortAudio's ADC time: behind PulseAudio ``inputBufferAdcTime`` implied 47 317 Hz and
wandered by ±10 ms (docs/TESTING.md). Instead `SampleClock` counts samples from the first
callback (device time = count / nominal rate) and fits that onto the host time each block
arrived, with the lower-envelope `ClockFit`: blocks that PulseAudio hands over late (it
delivers 20 ms bursts) do not bias the fit.

Threads: PortAudio's callback thread only copies each block and enqueues it; one worker
thread stamps blocks and emits chunks. `EmulatedMicrophone` drives the same callback.

Examples
--------
>>> with AudioSource("vmic", samplerate=48000) as mic:      # doctest: +SKIP
...     mic.start(lambda stream, chunk: print(stream, len(chunk), chunk.timestamps[0]))
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque

import numpy as np

from sensorlab.acquisition.clock import ClockFit, keep_increasing, now
from sensorlab.acquisition.source import Chunk, SourceBase, SourceError, StreamInfo, StreamKind

log = logging.getLogger(__name__)

#: int16 PCM → full-scale units: -32768 … 32767 become -1.0 … 0.99997 (exact in float32).
PCM16_SCALE = (1.0 / 32768,)

#: The warm-up hold (`AudioSource` ``warmup``) also waits until the clock fit has stopped moving:
#: until the stamp it gives the first held sample has not moved earlier by more than this over
#: the last ``warmup`` seconds of audio. On a host busy at start (a CI machine, a laptop loading
#: the studio) the first hand-overs arrive late; when the host catches up the fit steps back,
#: and samples already stamped are squeezed 1 µs apart to keep time sorted. Holding until the
#: fit settles stamps a start that catches up burst by burst right; hand-overs all late by the
#: same amount for longer than the hold look on time, and are still squeezed afterwards
#: (docs/SESSION-FORMAT.md, "Ordering").
SETTLE_TOLERANCE = 0.001
#: Longest hold, seconds: a host that stays too busy for the fit to settle still gets its audio
#: (stamped with the best fit so far; any later step back is squeezed as before).
MAX_WARMUP = 2.0

_COMMON_RATES = (8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 192000)


class SampleClock:
    """Stamps consecutive audio blocks from their sample count and arrival times.

    Called by one thread (the audio worker). Device time of sample ``i`` is ``i / rate``;
    each block's last sample is paired with the block's arrival time.
    """

    def __init__(self, rate: float, latency: float = 0.0):
        self.rate = float(rate)
        self.fit = ClockFit(latency=latency)
        self.count = 0
        self._last = -np.inf
        self._seen: deque[tuple[int, float]] = deque()  # (samples counted, stamp of sample 0 then)

    def add(self, n: int, arrival: float) -> None:
        """Count a block of ``n`` samples whose last sample arrived at ``arrival``."""
        self.count += n
        self.fit.add((self.count - 1) / self.rate, arrival)

    def settled(self, window: int, tolerance: float = SETTLE_TOLERANCE) -> bool:
        """Whether the stamp the fit gives sample 0 moved earlier by at most ``tolerance``
        seconds over the last ``window`` samples counted (False until that many were seen).

        Call it once per hand-over while holding samples back: each call notes the current
        stamp. The fit only moves earlier when a hand-over arrives with less delay than every
        one before it, i.e. the earlier ones were late."""
        mapping = self.fit.mapping()
        if mapping is None:
            return False
        stamp = float(mapping.to_host(0.0))
        seen = self._seen
        seen.append((self.count, stamp))
        while len(seen) > 1 and self.count - seen[1][0] >= window:
            seen.popleft()  # keep one note at least `window` samples old
        if self.count - seen[0][0] < window:
            return False
        return max(s for _, s in seen) - stamp <= tolerance

    def stamp(self, first: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Host timestamps and device times of samples ``first … first + n - 1``."""
        device = (first + np.arange(n)) / self.rate
        ts = self.fit.mapping().to_host(device)
        # The fit's offset can step back early on (a later block arrives with less delay
        # than the first): keep_increasing squeezes the overlap rather than go backwards.
        ts = keep_increasing(ts, self._last)
        self._last = float(ts[-1])
        return ts, device


class AudioSource(SourceBase):
    """A sound-card input stream.

    Parameters
    ----------
    device
        PortAudio device index or (part of a) name; None for the system default input.
    samplerate, channels, blocksize
        Stream format; ``blocksize`` samples per callback.
    dtype
        ``"int16"`` (default: 16-bit PCM, what sound cards deliver; chunks and files keep it,
        and `StreamInfo.scale` 1/32768 turns it into full-scale units in [-1, 1)) or
        ``"float32"`` (full-scale float, 2× the bytes).
    name
        Stream name.
    warmup
        Seconds of audio held back at start, until the clock fit has seen a few hand-overs.
    latency
        Known constant delay (s) from capturing a block's last sample to its callback, beyond
        the block itself (a USB card's buffering, ~0.5-2 ms), subtracted by the clock fit. Like
        any constant delay it is invisible in arrival times, so it can only be configured:
        PortAudio's ``inputBufferAdcTime`` would tell it, but behind PulseAudio it reads 0 ms
        on median and wanders by tens of ms (docs/performance/sync.md, "Timestamps").

    ``stats[name].overflows`` counts blocks PortAudio flagged with an input overflow. If the
    stream ends without `stop` (sound server killed, USB mic unplugged) the stream fails
    with "audio device … disappeared".
    """

    def __init__(self, device: int | str | None = None, samplerate: int = 48000, channels: int = 1,
                 blocksize: int = 480, dtype: str = "int16", name: str = "audio", warmup: float = 0.25,
                 latency: float = 0.0):  # fmt: skip
        super().__init__(f"audio {device if device is not None else 'default'}")
        if dtype not in ("float32", "int16"):
            raise ValueError(f"dtype must be 'float32' or 'int16', got {dtype!r}")
        self.device, self.samplerate, self.channels = device, samplerate, channels
        self.blocksize, self.dtype, self.name, self.warmup = blocksize, dtype, name, warmup
        self.device_label = repr(device) if device is not None else "default input"
        self._stream = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._released = threading.Event()  # set by the worker once it answered `release_held`
        self.fit_latency = latency  # (EmulatedMicrophone's own ``latency`` is its card's, not this)
        self.clock = SampleClock(samplerate, latency)

    # -- device: PortAudio (overridden by EmulatedMicrophone) -------------------------
    def _open_device(self) -> str:
        """Check the device and format; return a human description (caller's thread)."""
        try:
            import sounddevice as sd
        except (OSError, ImportError) as e:
            raise SourceError(f"cannot use audio: PortAudio is missing ({e}); install it with `sudo apt install libportaudio2`") from e
        try:
            info = sd.query_devices(self.device, "input")
        except (ValueError, sd.PortAudioError) as e:
            names = [d["name"] for d in sd.query_devices() if d["max_input_channels"] > 0]
            raise SourceError(f"audio device {self.device_label} not found ({e}); inputs: {names or 'none'}; try `sensorlab devices`") from e
        try:
            sd.check_input_settings(info["index"], channels=self.channels, dtype=self.dtype, samplerate=self.samplerate)
        except (ValueError, sd.PortAudioError) as e:
            ok = [r for r in _COMMON_RATES if _accepts(sd, info["index"], self.channels, self.dtype, r)]
            raise SourceError(
                f"audio device {self.device_label} ({info['name']}) rejects {self.samplerate} Hz × {self.channels} ch {self.dtype}: {e}; "
                f"it has up to {info['max_input_channels']} input channels and accepts rates {ok or 'none of the common ones'}"
            ) from e
        return f"{info['name']} @ {self.samplerate} Hz"

    def _start_device(self) -> None:
        import sounddevice as sd

        try:
            self._stream = sd.InputStream(device=self.device, samplerate=self.samplerate, channels=self.channels,
                                          blocksize=self.blocksize, dtype=self.dtype, callback=self._callback,
                                          finished_callback=self._finished)  # fmt: skip
            self._stream.start()
        except sd.PortAudioError as e:
            self._stream = None
            raise SourceError(f"audio device {self.device_label} could not be started: {e}; is the sound server running? try `sensorlab devices`") from e

    def _stop_device(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.close(ignore_errors=True)

    # -- SourceBase ---------------------------------------------------------------
    def _open(self) -> None:
        desc = self._open_device()
        self.streams = (StreamInfo(self.name, StreamKind.AUDIO, float(self.samplerate),
                                   channel_names=tuple(f"ch{i}" for i in range(self.channels)),
                                   units=("",) * self.channels, dtype=self.dtype,
                                   sample_shape=(self.channels,), device=desc, has_device_time=True,
                                   scale=PCM16_SCALE if self.dtype == "int16" else ()),)  # fmt: skip

    def _start(self) -> None:
        self.clock = SampleClock(self.samplerate, self.fit_latency)
        self._queue = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._work, daemon=True, name=f"audio-{self.name}")
        self._worker.start()
        try:
            self._start_device()
        except Exception:
            self._running.clear()
            self._queue.put(None)
            raise

    def _stop(self) -> None:
        self._stop_device()
        self._queue.put(None)  # in case finished_callback did not fire
        if self._worker is not None and self._worker is not threading.current_thread():
            self._worker.join(5)

    def _close(self) -> None:
        self._stop_device()  # after a failure `stop` has nothing to do, but the stream is open

    def release_held(self, timeout: float = 5.0) -> bool:
        """End the warm-up now: the worker stamps and delivers the blocks it holds back before
        this returns (any thread; at most ``timeout`` s, False if it did not answer). A
        recording that stops within the first `warmup` seconds calls it before unsubscribing."""
        worker = self._worker
        if worker is None or not worker.is_alive():
            return True  # not running: `stop` delivered what was held
        self._released.clear()
        self._queue.put(_RELEASE)
        return self._released.wait(timeout)

    # -- threads ------------------------------------------------------------------
    def _callback(self, indata, frames, time_info, status) -> None:
        """PortAudio's callback thread: stamp the arrival, copy, enqueue. Nothing else."""
        self._queue.put((now(), indata.copy(), bool(status.input_overflow)))

    def _finished(self) -> None:
        """PortAudio thread, when the stream ends for any reason (stopped or lost)."""
        self._queue.put(None)

    def _work(self) -> None:
        """Worker thread: stamp blocks, emit chunks; report a stream that ended by itself."""
        try:
            self._stamp_and_emit()
        except Exception as e:  # a bug (ours or a consumer's) must not leave a silent, growing queue
            log.exception("audio worker for %s", self.device_label)
            self._fail(f"internal error in the audio stream of {self.device_label}: {type(e).__name__}: {e}")
            self._stop_device()  # no more blocks into a queue nobody drains
            return
        if self._running.is_set():  # ended without stop(): the device is gone
            self._fail(f"audio device {self.device_label} disappeared: the stream ended after {self.clock.count} samples "
                       "without an error (sound server stopped or device unplugged); check `sensorlab devices` and restart")  # fmt: skip

    def _stamp_and_emit(self) -> None:
        q = self._queue
        st = self.stats[self.name]
        warm = int(self.warmup * self.samplerate)
        longest = max(warm, int(MAX_WARMUP * self.samplerate))
        pending: list[tuple[float, np.ndarray, bool]] = []  # counted by the clock, not yet emitted
        while True:
            item = q.get()
            # PulseAudio hands over ~20 ms at once: feed the whole burst to the fit before
            # stamping, so its first block already benefits from the least-delayed pair.
            batch = [item]
            while item is not None:
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
                batch.append(item)
            release = False
            for block in batch:
                if block is _RELEASE:
                    release, warm = True, 0  # and nothing is held from now on
                elif block is not None:
                    self.clock.add(len(block[1]), block[0])
                    pending.append(block)
            end = batch[-1] is None
            # Hold the first `warmup` seconds, and on until the fit settles (`SETTLE_TOLERANCE`,
            # at most `MAX_WARMUP`): the first bursts alone would give an offset up to one
            # hand-over late (on a busy host far more), and the correction would then squeeze
            # the samples stamped before it.
            holding = bool(warm) and not end
            if holding:
                settled = self.clock.settled(warm)  # notes the fit at every hand-over
                holding = self.clock.count < warm or not (settled or self.clock.count >= longest)
            if not holding:
                warm = 0  # the hold is over for good
                first = self.clock.count - sum(len(b[1]) for b in pending)
                for arrival, data, overflow in pending:
                    st.overflows += overflow
                    ts, dev = self.clock.stamp(first, len(data))
                    first += len(data)
                    self._emit(self.name, Chunk(data, ts, dev, np.full(len(data), arrival)), arrival)
                pending = []
            if release:
                self._released.set()
            if end:
                break


#: Queued by `AudioSource.release_held`: the worker delivers what it holds back.
_RELEASE = object()


def _accepts(sd, device: int, channels: int, dtype: str, rate: int) -> bool:
    try:
        sd.check_input_settings(device, channels=min(channels, 2), dtype=dtype, samplerate=rate)
        return True
    except Exception:
        return False
