"""Parity: two builds of a model on the same windows (fp32 vs int8 ONNX), or a model vs a device.

`ParityTap` is attached to one `InferenceProcessor` (``proc.taps``) and runs a second model on
exactly the windows the first one saw (the same features: same cut, same normalization), so
any difference is the build's, not the input's. Each window is compared: the top classes
differ, or a probability differs by more than ``tolerance``. Divergences are counted and
the divergent windows kept (start, end, both probability rows, and the model input) for
inspection, up to ``keep`` of them. The last ``trace`` windows' probabilities of both builds
are kept too (`ParityTap.trace_arrays`), so a view can overlay the two traces.

The host model against the class a device reports on its own serial events stream is
`sensorlab.inference.device_parity` (`DeviceParity` live, `compare_device` on recordings,
`compare_events` its short form).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sensorlab.inference.model import LoadedModel


class TraceRing:
    """The last ``size`` rows of a few parallel columns (a trace a view overlays), in arrays.

    A view asks for the whole trace several times a second; kept as a deque of per-window
    tuples, each request stacked up to 3,000 rows in Python (2–6 ms holding the GIL, device
    threads waiting). Rows are written into preallocated arrays instead, and `arrays` is one
    or two slice copies per column. Not locked: its owner's lock guards it.
    """

    def __init__(self, size: int):
        self.size = max(1, int(size))
        self.count = 0  # rows ever written
        self._cols: list[np.ndarray] | None = None

    def extend(self, *cols: np.ndarray) -> None:
        m = len(cols[0])
        if not m:
            return
        if self._cols is None or any(b.shape[1:] != np.shape(c)[1:] for b, c in zip(self._cols, cols)):
            self._cols = [np.empty((self.size, *np.shape(c)[1:]), np.asarray(c).dtype) for c in cols]
            self.count = 0
        if m > self.size:  # only the newest fit
            cols = tuple(c[-self.size :] for c in cols)
            self.count += m - self.size
            m = self.size
        i = self.count % self.size
        first = min(m, self.size - i)
        for buf, c in zip(self._cols, cols):
            buf[i : i + first] = c[:first]
            buf[: m - first] = c[first:]
        self.count += m

    def arrays(self) -> list[np.ndarray] | None:
        """Each column's rows, oldest first (copies); None before the first row."""
        if self._cols is None or not self.count:
            return None
        if self.count <= self.size:
            return [b[: self.count].copy() for b in self._cols]
        i = self.count % self.size
        return [np.concatenate((b[i:], b[:i])) for b in self._cols]


@dataclass
class Divergence:
    start: float
    end: float
    a: np.ndarray  # probabilities of build A
    b: np.ndarray  # of build B (or one-hot of the device's class)
    features: np.ndarray | None = None
    note: str = ""  # what each side said, in words (host vs device)


def top_class(labels: list[str], p: np.ndarray) -> str:
    """A build's top class, or "tie X/Y" when its two best scores are equal to 6 decimals."""
    if not np.any(p):
        return "none of the classes"
    name = lambda i: labels[i] if i < len(labels) else str(i)  # noqa: E731
    first, second = (np.argsort(-p, kind="stable")[:2].tolist() + [None])[:2]  # a tie in class order
    if second is not None and round(float(p[first]) - float(p[second]), 6) == 0:
        return f"tie {name(first)}/{name(second)}"
    return name(first)


def divergence_text(labels: list[str], k: int, a: np.ndarray, b: np.ndarray) -> tuple[str, str]:
    """One divergent window for a list: class ``k``'s scores with enough decimals to tell them
    apart (2 when they differ there, up to 6; "equal" when they do not), and each build's top
    class when those differ ("" when not): ``("clap: 0.4996 vs 0.5003", "background vs clap")``.
    Rounded to 2 decimals, a window where the top class flipped near 0.5 read "clap: 0.50 vs
    0.50", as if nothing differed."""
    name = labels[k] if k < len(labels) else str(k)
    va, vb = float(a[k]), float(b[k])
    scores = f"{va:.2f} both (equal)"
    for digits in range(2, 7):
        fa, fb = f"{va:.{digits}f}", f"{vb:.{digits}f}"
        if fa != fb:
            scores = f"{fa} vs {fb}"
            break
    top_a, top_b = top_class(labels, a), top_class(labels, b)
    tops = f"{top_a} vs {top_b}" if top_a != top_b else ""
    return f"{name}: {scores}", tops


@dataclass
class ParityReport:
    windows: int = 0
    divergent: int = 0
    top_mismatch: int = 0
    max_abs: float = 0.0
    kept: list[Divergence] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        return 1.0 - self.divergent / self.windows if self.windows else float("nan")


class ParityTap:
    """Run ``other`` on every window the tapped processor runs; count and keep divergences."""

    def __init__(self, other: str | Path | LoadedModel, mapping=None, tolerance: float = 0.1, keep: int = 200, trace: int = 3000):
        self.other = other if isinstance(other, LoadedModel) else LoadedModel(other, mapping)
        self.tolerance = float(tolerance)
        self.report = ParityReport()
        self._kept: deque[Divergence] = deque(maxlen=keep)
        self._trace = TraceRing(trace)  # window ends, probabilities of A, of B
        self._lock = threading.Lock()
        self._bound = None  # the second build's bound call (False: it cannot be bound), made on the first window
        #: Why the comparison stopped ("" while it runs); the tapped model's predictions go on.
        self.error = ""

    def update(self) -> ParityReport:
        """The report (compared as the windows run; here for the view's common interface)."""
        return self.report

    def summary(self) -> str:
        r = self.report
        if not r.windows:  # "0 divergent of 0 windows · … max |Δp| 0.000" read as a result
            return "no window compared yet"
        return f"{r.divergent} divergent of {r.windows} windows · top class differs in {r.top_mismatch} · max |Δp| {r.max_abs:.3f}"

    def trace_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The last windows compared: ``(ends (n,), probabilities of A (n, k), of B (n, k))``;
        safe to call from any thread while the tap runs."""
        with self._lock:
            cols = self._trace.arrays()
        if cols is None:
            return np.empty(0), np.empty((0, 0)), np.empty((0, 0))
        return cols[0], cols[1], cols[2]

    def __call__(self, starts: np.ndarray, ends: np.ndarray, features: np.ndarray, probs: np.ndarray) -> None:
        if self.error:
            return
        try:
            pb = self._run_other(features)  # the same model input: same cut, same normalization
            self.compare(starts, ends, probs, pb, features)
        except ValueError as e:  # ModelError included: the second build fails, the first one runs on
            self.error = f"parity stopped: {e}"

    def _run_other(self, features: np.ndarray) -> np.ndarray:
        """The second build on the first one's model input: one window (the live case) through
        its bound inputs and outputs (`BoundRun.run_input`: no feed dict, nothing allocated but
        the result), several, or a build that cannot be bound, through `LoadedModel.run`."""
        m = self.other
        if len(features) == 1 and self._bound is not False:
            if self._bound is None:
                shape = features.shape if m.batched else features.shape[1:]
                sizes = dict(zip(m.layout, shape)) if len(shape) == len(m.layout) else {}
                b = m.bound(sizes.get("T", 1), sizes.get("C", 1)) if sizes else None
                self._bound = b if b is not None and b.features.shape == features.shape else False
            if self._bound is not False:
                return self._bound.run_input(features)
        return m.run(features)

    def compare(self, starts, ends, pa: np.ndarray, pb: np.ndarray, features: np.ndarray | None = None) -> None:
        if pa.shape != pb.shape:
            raise ValueError(f"the two builds give {pa.shape[1:]} and {pb.shape[1:]} scores per window; compare builds of one model")
        diff = np.abs(pa.astype(np.float64) - pb)
        top = pa.argmax(axis=1) != pb.argmax(axis=1)
        bad = top | (diff.max(axis=1) > self.tolerance)
        with self._lock:
            r = self.report
            r.divergent += int(bad.sum())
            r.top_mismatch += int(top.sum())
            r.max_abs = max(r.max_abs, float(diff.max()) if diff.size else 0.0)
            self._trace.extend(np.asarray(ends, np.float64), np.asarray(pa, np.float64), np.asarray(pb, np.float64))
            for i in np.flatnonzero(bad):
                self._kept.append(Divergence(float(starts[i]), float(ends[i]), pa[i].copy(), pb[i].copy(),
                                             None if features is None else np.array(features[i])))  # fmt: skip
            r.kept = list(self._kept)
            # Counted last: a reader without the lock (the view, a test waiting for N windows) that
            # sees these windows sees their divergences and kept windows too.
            r.windows += len(pa)


__all__ = ["Divergence", "ParityReport", "ParityTap", "TraceRing"]
