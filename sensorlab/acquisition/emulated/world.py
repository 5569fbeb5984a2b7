"""One simulated world that every emulated device observes.

Common events ("claps") happen at known host-clock times and show up in every modality at
once: an impulse in the audio, a spike in the IMU's accelerometer, a bright video frame, a
strong target in the radar map. Detecting them in each recorded stream and comparing their
times is how sync error is measured (bench/bench_sync.py, `sensorlab info`).

All functions take host-clock seconds (``sensorlab.acquisition.clock.now``) and are pure, so
several devices can sample the same world from different threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sensorlab.acquisition.clock import EPOCH, now


@dataclass
class World:
    """A seeded scene with claps every ``clap_interval`` seconds after ``t0``.

    Parameters
    ----------
    t0
        Host time the world starts (defaults to creation time).
    clap_interval
        Seconds between claps; the first is at ``t0 + clap_interval / 2``.
    seed
        Seeds the background noise so runs are repeatable.
    """

    t0: float = field(default_factory=now)
    clap_interval: float = 2.0
    seed: int = 0
    #: Duration of the IMU spike and the audio impulse's decay, seconds.
    clap_width: float = 0.004

    def clap_times(self, t_start: float, t_end: float) -> np.ndarray:
        """Host times of claps in ``[t_start, t_end)``."""
        k0 = max(0, int(np.ceil((t_start - self.t0) / self.clap_interval - 0.5)))
        k1 = int(np.ceil((t_end - self.t0) / self.clap_interval - 0.5))
        return self.t0 + (np.arange(k0, max(k0, k1)) + 0.5) * self.clap_interval

    def _since_clap(self, t: np.ndarray) -> np.ndarray:
        """Seconds since the most recent clap (inf before the first)."""
        phase = (t - self.t0) / self.clap_interval - 0.5
        since = (phase - np.floor(phase)) * self.clap_interval
        return np.where(phase < 0, np.inf, since)

    def _noise(self, t: np.ndarray, salt: int) -> np.ndarray:
        # Deterministic per-time noise: hash the time in microseconds.
        us = np.round(np.asarray(t) * 1e6).astype(np.int64)
        x = (us * 2654435761 + salt * 40503) & 0xFFFFFFFF
        x = (x ^ (x >> 13)) * 1274126177 & 0xFFFFFFFF
        return (x / 2**32 - 0.5).astype(np.float64)

    def imu(self, t: np.ndarray) -> np.ndarray:
        """``(n, 6)`` accelerometer (g) and gyroscope (deg/s) samples at host times ``t``."""
        t = np.asarray(t, dtype=np.float64)
        rel = t - self.t0
        since = self._since_clap(t)
        spike = np.where(since < self.clap_width, 4.0, 0.0)
        out = np.empty((len(t), 6), dtype=np.float64)
        out[:, 0] = 0.1 * np.sin(2 * np.pi * 0.5 * rel) + spike
        out[:, 1] = 0.1 * np.cos(2 * np.pi * 0.3 * rel)
        out[:, 2] = 1.0 + 0.01 * self._noise(t, 3)
        out[:, 3] = 20 * np.sin(2 * np.pi * 1.1 * rel)
        out[:, 4] = 15 * np.sin(2 * np.pi * 0.7 * rel + 1)
        out[:, 5] = 5 * self._noise(t, 6)
        return out

    def audio(self, t: np.ndarray, channels: int = 1) -> np.ndarray:
        """``(n, channels)`` float32 microphone samples in [-1, 1]: a 440 Hz hum plus claps."""
        t = np.asarray(t, dtype=np.float64)
        since = np.minimum(self._since_clap(t), 1.0)  # inf before the first clap
        clap = np.where(since < 0.05, 0.8 * np.exp(-since / self.clap_width) * np.cos(2 * np.pi * 2000 * since), 0.0)
        base = 0.02 * np.sin(2 * np.pi * 440 * (t - self.t0)) + 0.005 * self._noise(t, 1)
        x = (base + clap).astype(np.float32)
        return np.repeat(x[:, None], channels, axis=1)

    def biosignal(self, t: np.ndarray, channels: int = 16) -> np.ndarray:
        """``(n, channels)`` EEG-like microvolts: 10 Hz alpha with per-channel phase, noise, and
        a movement artifact at each clap."""
        t = np.asarray(t, dtype=np.float64)
        rel = (t - self.t0)[:, None]
        ch = np.arange(channels)[None, :]
        alpha = 20.0 * np.sin(2 * np.pi * (10.0 + 0.1 * ch) * rel + ch)
        artifact = np.where(self._since_clap(t) < 0.02, 300.0, 0.0)[:, None]
        return alpha + 5.0 * self._noise(t, 11)[:, None] * (1 + ch % 3) + artifact

    def brightness(self, t: float) -> float:
        """Mean video brightness 0..255 of a frame exposed at host time ``t``."""
        since = float(self._since_clap(np.array([t]))[0])
        return 235.0 if since < 1 / 30 else 60.0 + 20.0 * np.sin(2 * np.pi * 0.2 * (t - self.t0))

    def video_frame(self, t: float, width: int = 640, height: int = 480) -> np.ndarray:
        """An ``(h, w, 3)`` BGR frame: a lit scene with a moving ball and the world time.

        Mean brightness follows `brightness`, so a clap shows as a bright frame.
        """
        import cv2

        level = self.brightness(t)
        ramp = np.linspace(0.75, 1.25, height, dtype=np.float32)[:, None, None]
        tint = np.array([1.1, 0.95, 0.8], dtype=np.float32)[None, None, :]
        column = np.clip(level * ramp * tint, 0, 255).astype(np.uint8)
        # Spread across the width by OpenCV: the same pixels as NumPy's copy of a broadcast
        # view, ~5x faster (0.7 against 3.4 ms a 640x480 frame: the emulated camera renders
        # 30 a second, in its device process at real-time priority).
        frame = cv2.resize(column, (width, height), interpolation=cv2.INTER_NEAREST)
        frame[:: max(1, height // 12), :] //= 2  # a floor grid, so motion reads at a glance
        frame[:, :: max(1, width // 16)] //= 2
        rel = t - self.t0
        cx = int((0.5 + 0.35 * np.sin(2 * np.pi * 0.25 * rel)) * width)
        cy = int((0.5 + 0.3 * np.cos(2 * np.pi * 0.17 * rel)) * height)
        cv2.circle(frame, (cx, cy), max(4, height // 12), (40, 160, 240), -1)
        scale = height / 480
        cv2.putText(frame, f"sensorlab demo  t = {rel:7.2f} s", (int(12 * scale), int(30 * scale)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.7 * scale, (255, 255, 255), max(1, int(2 * scale)), cv2.LINE_AA)  # fmt: skip
        return frame

    def radar(self, t: float, ranges: int = 64, dopplers: int = 32) -> np.ndarray:
        """A ``(ranges, dopplers)`` float32 range-Doppler magnitude map with one moving target."""
        rel = t - self.t0
        r = (0.5 + 0.4 * np.sin(2 * np.pi * 0.1 * rel)) * (ranges - 1)
        v = (0.5 + 0.4 * np.cos(2 * np.pi * 0.1 * rel)) * (dopplers - 1)
        rr, vv = np.mgrid[0:ranges, 0:dopplers]
        amp = 1.0 + (9.0 if float(self._since_clap(np.array([t]))[0]) < 0.05 else 0.0)
        m = amp * np.exp(-((rr - r) ** 2 / 8.0 + (vv - v) ** 2 / 4.0))
        return (m + 0.05 * np.abs(self._noise(t + rr * 1e-3 + vv * 1e-5, 9))).astype(np.float32)


_shared: World | None = None


def shared_world() -> World:
    """The process-wide world the demo rig's devices share. Its time starts at the clock's
    `EPOCH`, so the clock drawn into the demo video reads the studio's time axis."""
    global _shared
    if _shared is None:
        _shared = World(t0=EPOCH)
    return _shared
