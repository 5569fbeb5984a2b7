"""Smoothing class probabilities over windows, and turning one class into events with hysteresis.

A model's per-window probabilities flicker; a demo wants "clap detected" once per clap.
`Smoother` averages the last ``n`` windows (a causal moving average: no look-ahead, so it
adds ``(n - 1) / 2`` hops of delay); `EventDetector` emits a ``start`` event when one class
rises above ``threshold`` and a ``stop`` when it falls below ``release`` (lower for
hysteresis), in the live-label JSON form the threshold processor and live labels use, so the
spans read like labels on the timeline.
"""

from __future__ import annotations

import json

import numpy as np


class Smoother:
    """Causal moving average over the last ``n`` rows (``n <= 1``: unchanged)."""

    def __init__(self, n: int = 0):
        if n < 0:
            raise ValueError(f"smoothing over {n} windows: give 0 (none) or more")
        self.n = int(n)
        self.reset()

    def reset(self) -> None:
        self._tail: np.ndarray | None = None

    def resized(self, n: int) -> Smoother:
        """A moving average over ``n`` windows that goes on from this one: seeded with the
        newest of the windows this one holds, so a longer average does not restart from one."""
        out = Smoother(n)
        if out.n > 1 and self._tail is not None and len(self._tail):
            out._tail = self._tail[-(out.n - 1) :]
        return out

    def apply(self, p: np.ndarray) -> np.ndarray:
        if self.n <= 1 or len(p) == 0:
            return p
        p = np.asarray(p, np.float64)
        tail = self._tail if self._tail is not None and self._tail.shape[1:] == p.shape[1:] else p[:0]
        full = np.concatenate((tail, p))
        c = np.concatenate((np.zeros((1, p.shape[1])), np.cumsum(full, axis=0)))
        hi = np.arange(len(tail) + 1, len(full) + 1)
        lo = np.maximum(hi - self.n, 0)
        out = (c[hi] - c[lo]) / (hi - lo)[:, None]
        self._tail = full[-(self.n - 1) :]
        return out.astype(np.float32)


class EventDetector:
    """Events on one class's probability: ``start`` above ``threshold``, ``stop`` below ``release``."""

    def __init__(self, label: str, column: int, threshold: float, release: float | None = None):
        self.label, self.column, self.threshold = label, int(column), float(threshold)
        self.release = self.threshold if release is None else float(release)
        if self.release > self.threshold:
            raise ValueError(f"events {label}: release ({self.release}) must not exceed threshold ({self.threshold})")
        self.high = False

    def reset(self) -> None:
        self.high = False

    def update(self, p: np.ndarray, times: np.ndarray) -> tuple[list[str], list[float]]:
        texts, out_t = [], []
        for v, t in zip(np.asarray(p)[:, self.column].tolist(), np.asarray(times).tolist()):
            if not self.high and v > self.threshold:
                self.high = True
            elif self.high and v < self.release:
                self.high = False
            else:
                continue
            texts.append(json.dumps({"label": self.label, "type": "start" if self.high else "stop", "value": round(v, 6)}))
            out_t.append(t)
        return texts, out_t


def stop_event(label: str, value: float) -> str:
    """The ``stop`` of ``label``'s span, as `EventDetector.update` writes it."""
    return json.dumps({"label": label, "type": "stop", "value": round(value, 6)})


__all__ = ["EventDetector", "Smoother", "stop_event"]
