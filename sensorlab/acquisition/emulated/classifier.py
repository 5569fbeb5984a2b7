"""An emulated microcontroller that runs its own classifier and prints the class it found.

What a board with the model on it does: every ``hop`` seconds of its own clock it classifies
the last ``window`` seconds and prints the class, one line (``clap``) on the events protocol
(`sensorlab.acquisition.serial.events`). The "model" here is the simulated world's truth (a
window holds a clap or it does not), so the only disagreements with a good host model are
the ones injected on purpose: with probability ``misreport`` a window's class is replaced
by another one, and the host time of every injected misreport is kept in ``misreports`` so
tests and the demo can check the parity view finds them.

It is the demo rig's ``clap_mcu`` (`sensorlab.studio.demo`), the device-side counterpart
of the demo clap model (window 0.4 s, hop 0.1 s, classes clap / background).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from sensorlab.acquisition.emulated.mcu_board import EmulatedMCU, _Schedule

#: The demo clap model's window and hop (its contract), and its classes.
WINDOW, HOP = 0.4, 0.1
LABELS = ("clap", "background")


class ClassifierMCU(EmulatedMCU):
    """Prints the class of each ``window``-second window every ``hop`` seconds (device clock).

    Parameters
    ----------
    window, hop
        The device model's window and hop, seconds.
    labels
        ``(event class, background class)``: a window with a clap of the world inside is the first.
    misreport
        Probability that a window's printed class is the other one (an injected divergence).
    **kwargs
        See `EmulatedMCU` (``seed`` also seeds the misreports).

    Attributes
    ----------
    reports
        ``(host time the window ended, class printed, injected)`` of the last 100 000 lines sent.
    misreports
        Host times (window ends) of the windows whose class was misreported on purpose.
    unsent
        Host times (window ends, as in ``reports``) of the reports whose line never went on the
        wire: an injected loss or a full TX buffer. Bytes a full pty refused later (nobody
        reading) are counted in ``link.dropped_bytes`` only.
    """

    def __init__(self, window: float = WINDOW, hop: float = HOP, labels: Sequence[str] = LABELS, misreport: float = 0.0, **kwargs):
        if not 0 < hop <= window:
            raise ValueError(f"an emulated classifier needs 0 < hop <= window, got hop {hop:g} s and window {window:g} s")
        kwargs.setdefault("baudrate", 115200)
        super().__init__(**kwargs)
        self.window, self.hop = float(window), float(hop)
        self.labels = tuple(labels)
        self.misreport = float(misreport)
        self._errors = np.random.default_rng(kwargs.get("seed", 0) + 1)
        self.reports: deque[tuple[float, str, bool]] = deque(maxlen=100_000)
        self.unsent: deque[float] = deque(maxlen=100_000)
        self._schedule: _Schedule | None = None

    @property
    def misreports(self) -> list[float]:
        return [t for t, _label, injected in list(self.reports) if injected]

    def _begin(self, t: float) -> None:
        # The first window ends one window after boot: a model needs a full window of samples.
        self._schedule = _Schedule(1.0 / self.hop, float(self.device_time(t)) + self.window)

    def _produce(self, t: float) -> list[tuple[float, bytes]]:
        sched = self._schedule
        k = sched.due(float(self.device_time(t)))
        lines = []
        for end in self.host_time(sched.device_times(k)).tolist():
            clap = len(self.world.clap_times(end - self.window, end)) > 0
            label = self.labels[0] if clap else self.labels[1]
            injected = bool(self.misreport) and self._errors.random() < self.misreport
            if injected:
                label = self.labels[1] if clap else self.labels[0]
            self.reports.append((end, label, injected))
            lines.append((end, (label + "\r\n").encode()))
        return lines

    def _send(self, packet: bytes, ready: float) -> bool:
        if super()._send(packet, ready):
            return True
        self.unsent.append(ready)  # the board's own log says which report went missing, and why
        return False


__all__ = ["HOP", "LABELS", "WINDOW", "ClassifierMCU"]
