"""`EventsPanel`: an event stream as marker lines with their text on the shared time axis."""

from __future__ import annotations

import json
import math

from PySide6.QtCore import Signal

from sensorlab.app.live.panel import Panel

#: Events repeating the previous one's text within this many seconds continue its run (one marker).
REPEAT_S = 0.5


class EventsPanel(Panel):
    """An event stream as vertical lines with their text, on the shared time axis."""

    time_axis = True
    #: Emitted for every new event run: (host time, text). The live view does not copy events
    #: onto the other plots (they stay on this panel); a listener may.
    new_event = Signal(float, str)

    def __init__(self, info, ring, origin, window, parent=None):
        super().__init__(info, ring, origin, window, parent)
        self.graphics = self._time_graphics()
        self.plot = self._new_plot(self.graphics)
        self.plot.hideAxis("left")
        self.plot.setYRange(0, 1)
        self.plot.setMouseEnabled(x=True, y=False)
        self.graphics.setFixedHeight(self.HEIGHT)
        self._layout.addWidget(self.graphics)
        self.count = 0
        self._run: tuple[str, float] = ("", -math.inf)  # text and time of the last event of a run of repeats

    #: Height of the plot's view; under the time axis (ticks and its label, ~58 px) it grows,
    #: or the plot was 12 px high, less than one line of marker text.
    HEIGHT = 70
    AXIS_HEIGHT = 58

    def show_time_axis(self, show: bool) -> None:
        super().show_time_axis(show)
        self.graphics.setFixedHeight(self.HEIGHT + (self.AXIS_HEIGHT if show else 0))

    def _pull(self) -> bool:
        chunk = self.ring.since(self.newest)
        if chunk is None:
            return False
        for t, text in zip(chunk.timestamps, chunk.data):
            label = text.decode() if isinstance(text, bytes) else str(text)
            self.count += 1
            # A board printing its class every window sends the same line many times a second:
            # mark a run of repeats once, where it starts, or the plots drown in lines.
            repeat = label == self._run[0] and float(t) - self._run[1] < REPEAT_S
            self._run = (label, float(t))
            if repeat:
                continue
            self.add_marker(float(t), _short(label), "#ffd54f")
            self.new_event.emit(float(t), label)
        self.newest = float(chunk.timestamps[-1])
        return True


def _short(text: str) -> str:
    """The marker text of an event: ``label type`` for live-label style JSON, else the text."""
    if not text.startswith("{"):
        return text
    try:
        d = json.loads(text)
    except ValueError:
        return text
    if isinstance(d, dict) and "label" in d:
        return " ".join(str(d[k]) for k in ("label", "type") if k in d)
    return text
