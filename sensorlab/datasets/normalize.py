"""Per-channel standardization: statistics computed at build time, applied in training and live inference.

The dataset stores raw windows plus the train split's per-channel mean and standard
deviation (`ChannelStats`); every consumer standardizes with `ChannelStats.apply`, so a model
trained on a dataset and served live sees identically scaled input. One scale per channel
matters for int8 models: a single input scale over raw IMU channels would clip the gyro.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Standard deviations below this are treated as this (a constant channel stays finite).
MIN_STD = 1e-8
#: Samples converted to float64 at a time while accumulating.
_BLOCK = 1 << 18


@dataclass(frozen=True)
class ChannelStats:
    """Mean and standard deviation per channel (last axis of a window)."""

    mean: np.ndarray
    std: np.ndarray

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``(x - mean) / std`` over the last axis, as float32.

        Examples
        --------
        >>> ChannelStats(np.array([1.0]), np.array([2.0])).apply(np.array([[3.0]])).tolist()
        [[1.0]]
        """
        return ((np.asarray(x, np.float64) - self.mean) / np.maximum(self.std, MIN_STD)).astype(np.float32)


class StatsAccumulator:
    """Running float64 sums over windows ``(W, n, C)``; deterministic for the same order of updates."""

    def __init__(self, channels: int):
        self.n = 0
        self.s = np.zeros(channels)
        self.ss = np.zeros(channels)

    def update(self, x: np.ndarray) -> None:
        if len(x) == 0:
            return
        flat = np.asarray(x).reshape(-1, x.shape[-1])
        self.n += len(flat)
        # float64 in blocks: exact enough for hours of audio, without a float64 copy of it all.
        for i in range(0, len(flat), _BLOCK):
            b = flat[i : i + _BLOCK].astype(np.float64)
            self.s += b.sum(axis=0)
            self.ss += np.einsum("ij,ij->j", b, b)

    def result(self) -> ChannelStats:
        if self.n == 0:
            return ChannelStats(np.zeros_like(self.s), np.ones_like(self.s))
        mean = self.s / self.n
        var = np.maximum(self.ss / self.n - mean**2, 0.0)
        return ChannelStats(mean, np.sqrt(var))


__all__ = ["MIN_STD", "ChannelStats", "StatsAccumulator"]
