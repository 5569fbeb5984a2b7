"""`EmulatedMicrophone`: World audio delivered the way PulseAudio delivers it.

It is an `AudioSource` whose PortAudio stream is replaced by a thread: the emulated sound
card samples the World with its own crystal (``drift_ppm`` off the host clock) and hands
over whatever it has captured every ~20 ms (with jitter), as back-to-back blocks of
``blocksize``: the bursty pattern measured behind PulseAudio (docs/TESTING.md). Blocks
go through `AudioSource._callback`, so timestamping is the *same code* as for a real card,
and a World clap should come out stamped at its world time.

Examples
--------
>>> mic = EmulatedMicrophone(drift_ppm=20)                 # doctest: +SKIP
>>> with mic:
...     mic.start(lambda stream, chunk: ...)
"""

from __future__ import annotations

import threading
from collections import deque
from types import SimpleNamespace

import numpy as np

from sensorlab.acquisition.audio import AudioSource
from sensorlab.acquisition.clock import now
from sensorlab.acquisition.emulated.world import World, shared_world

_NO_STATUS = SimpleNamespace(input_overflow=False)


class EmulatedMicrophone(AudioSource):
    """A virtual microphone hearing `World.audio`.

    Parameters
    ----------
    world
        The scene to sample (default: `shared_world()`, so claps line up with other
        emulated devices).
    samplerate, channels, blocksize, name
        As for `AudioSource`.
    dtype
        ``"int16"`` (default, like a sound card: the world's [-1, 1] signal quantised to
        16-bit PCM) or ``"float32"``.
    drift_ppm
        Sample-clock error. Positive means the card's crystal runs fast: it produces
        ``samplerate × (1 + drift_ppm·1e-6)`` samples per host second, and the fitted
        `ClockMapping.drift_ppm` comes out ≈ ``drift_ppm`` (same sign convention).
    handover, jitter
        Seconds between hand-overs, and the maximum extra random delay of each.
    latency
        Minimum delay from capture of a block's last sample to its delivery, seconds.
    seed
        Seeds the jitter.
    warmup
        As for `AudioSource`.
    fit_latency
        The `AudioSource` ``latency`` (the constant delay the clock fit is told about); the
        card's own ``latency`` stays unknown to the fit unless it is given here too.
    """

    def __init__(self, world: World | None = None, samplerate: int = 48000, channels: int = 1, blocksize: int = 480,
                 name: str = "audio", drift_ppm: float = 20.0, handover: float = 0.02, jitter: float = 0.004,
                 latency: float = 0.0005, seed: int = 0, fit_latency: float = 0.0, dtype: str = "int16",
                 warmup: float = 0.25):  # fmt: skip
        super().__init__("emulated", samplerate, channels, blocksize, dtype, name, warmup=warmup, latency=fit_latency)
        self.description = "emulated microphone"
        self.world = world or shared_world()
        self.drift_ppm, self.handover, self.jitter, self.latency = drift_ppm, handover, jitter, latency
        self.true_rate = samplerate * (1 + drift_ppm * 1e-6)
        self._rng = np.random.default_rng(seed)
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self.t0 = float("nan")  # host time of sample 0 (set when the card starts)

    def true_host_times(self, device_times: np.ndarray) -> np.ndarray:
        """When the samples at ``device_times`` (``index / samplerate``, as `AudioSource`
        stamps them) were really captured, in host seconds; for tests and benchmarks."""
        return self.t0 + np.round(np.asarray(device_times, dtype=np.float64) * self.samplerate) / self.true_rate

    def _open_device(self) -> str:
        return f"emulated microphone @ {self.samplerate} Hz ({self.drift_ppm:+g} ppm)"

    def _start_device(self) -> None:
        self._halt.clear()
        self._thread = threading.Thread(target=self._card, daemon=True, name=f"emulated-mic-{self.name}")
        self._thread.start()

    def _stop_device(self) -> None:
        self._halt.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(2)
        if t is not None:
            self._thread = None
            self._finished()  # like PortAudio's finished_callback

    def _block(self, t0: float, first: int) -> np.ndarray:
        return self._pcm(self.world.audio(t0 + (first + np.arange(self.blocksize)) / self.true_rate, self.channels))

    def _card(self) -> None:
        """Emulated sound-card thread: capture on its own clock, hand over in bursts."""
        t0 = self.t0 = now()  # host time of sample 0
        sent = 0
        due = t0 + self.handover
        # Blocks are computed ahead (World.audio costs 0.1-0.5 ms a block on a busy machine):
        # computing them at the hand-over delivered the burst's last block that much after its
        # due time, a delay the host cannot tell from a transport floor (it biased stamps late).
        ahead: deque[np.ndarray] = deque()
        per_handover = int(np.ceil((self.handover + self.jitter) * self.true_rate / self.blocksize)) + 1
        while not self._halt.wait(max(0.0, due - now())):
            # Samples whose capture (plus the minimum latency) is complete by now.
            captured = int((now() - self.latency - t0) * self.true_rate)
            while captured - sent >= self.blocksize:
                block = ahead.popleft() if ahead else self._block(t0, sent)
                self._callback(block, self.blocksize, None, _NO_STATUS)
                sent += self.blocksize
            while len(ahead) < per_handover:
                ahead.append(self._block(t0, sent + len(ahead) * self.blocksize))
            due += self.handover + self._rng.uniform(0, self.jitter)
            due = max(due, now())  # a stalled thread (GIL, suspend) does not burst-catch-up forever

    def _pcm(self, x: np.ndarray) -> np.ndarray:
        """What a sound card hands over: float32, or int16 PCM rounded and clipped like PortAudio's."""
        if self.dtype == "float32":
            return x.astype(np.float32, copy=False)
        return np.clip(np.round(np.asarray(x, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)
