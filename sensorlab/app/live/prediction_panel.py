"""The live prediction panel: class probabilities as a scrolling trace on the shared time axis,
and the top class as a banner above it.

A predictions stream (`sensorlab.inference.is_predictions`) is an ordinary timeseries, so it
scrolls with every other panel; this panel fixes its y axis to 0…1 (probabilities never
need autoscaling, and a fixed axis makes a flicker visible) and shows the newest window's top
class and probability in large type, so a demo reads from across the room.

Its probabilities are drawn window by window, never merged into min/max pairs (a model makes
at most some tens of windows a second), and the line breaks where windows are missing: ones
the engine skipped to keep up, or a gap in its input (a straight line across drew predictions
no window made; a window between two missing ones is a dot). Its **Model ▾** button asks for the model's settings, a new mapping, or its
removal (`model_action`: what the studio window does with them, `sensorlab.app.models.model_controls`).
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QFontMetrics
from PySide6.QtWidgets import QLabel, QMenu, QSizePolicy, QToolButton

from sensorlab.app.live.buffers import PeakEnvelope
from sensorlab.app.live.panel import PALETTE
from sensorlab.app.live.timeseries import TimeseriesPanel

#: Banner colours: a confident top class, and an unsure one (below `UNSURE`).
SURE, UNSURE_COLOUR, UNSURE = "#2e7d32", "#5f6368", 0.6
#: Pixels for the probability plot's row (its time axis included when it shows one).
PLOT_MIN_HEIGHT = 112
#: Consecutive windows further apart than this many hops are not joined: windows are missing
#: between them (skipped, or a gap in the input). One hop apart is the usual step; a grid
#: restarted after a short gap may be a little more.
BREAK_HOPS = 1.5
#: What the Model ▾ menu asks for (`PredictionPanel.model_action`): its text and action.
MODEL_ACTIONS = (("Settings…", "settings"), ("Map again…", "remap"), ("Unload", "unload"))


class ClassKey(QLabel):
    """``━ still  ━ walk  ━ run`` in the lines' colours, as many whole classes as fit its width,
    then ``+N`` for the rest (all of them in the tooltip). Clipped by the header's free room, a
    fourth class's name was cut mid-letter ("clap" read "clar") beside the Channels button."""

    def __init__(self, classes: list[tuple[str, str]]):
        super().__init__()
        self.classes = classes
        self.shown = len(classes)
        self.setToolTip(", ".join(name for _, name in classes))
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._fit()

    @staticmethod
    def _plain(names: list[str], rest: int) -> str:
        text = "\u00a0 ".join(f"━\u00a0{n}" for n in names)
        return text + (f"\u00a0 +{rest}" if rest else "")

    def _fit(self) -> None:
        names = [n for _, n in self.classes]
        room = self.contentsRect().width()
        metrics = QFontMetrics(self.font())
        shown = len(names)
        while shown > 0 and metrics.horizontalAdvance(self._plain(names[:shown], len(names) - shown)) > room:
            shown -= 1
        if room <= 0:
            shown = len(names)  # not laid out yet: everything, fitted on the first resize
        self.shown = shown
        parts = [f"<span style='color:{c}'>━</span>&nbsp;{html.escape(n)}" for c, n in self.classes[:shown]]
        if shown < len(names):
            parts.append(f"+{len(names) - shown}")
        text = "&nbsp; ".join(parts)
        if text != self.text():
            self.setText(text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()


class PredictionPanel(TimeseriesPanel):
    """Probabilities of each class over time, y fixed to 0…1, the top class in a banner.

    Signals
    -------
    model_action(action, stream)
        The user asked for ``"settings"``, ``"remap"`` or ``"unload"`` of the model behind
        predictions ``stream`` (Model ▾).
    """

    model_action = Signal(str, str)

    def __init__(self, info, ring, origin, window, parent=None):
        super().__init__(info, ring, origin, window, parent)
        # Every window as it came (see the module docstring): block 1, whatever the rate.
        self.envelope = PeakEnvelope(1, int(self._rate * window * 1.05) + 16, max(1, info.channel_count))
        self._hop = 1.0 / self._rate
        self.autoscale.setChecked(False)
        self.autoscale.setEnabled(False)
        self.autoscale.hide()  # always 0…1: its room goes to the class key and Model ▾
        self.plot.setYRange(0.0, 1.0, padding=0.02)
        self.banner = QLabel("waiting for the first window…")
        self.banner.setObjectName("predictionBanner")
        self._colour = ""
        self._set_colour(UNSURE_COLOUR)
        self._layout.insertWidget(1, self.banner)
        # Which line is which class, in the header beside the title: the plot's legend needs
        # three times its height and the probability row is shorter, so it never showed, and
        # nothing said which trace was "walk". Never wider than the header's free room.
        self.key = ClassKey([(PALETTE[i % len(PALETTE)], c.name()) for i, c in enumerate(self.curves)])
        self.key.setObjectName("predictionKey")
        self.key.setContentsMargins(12, 0, 0, 0)  # apart from the title
        self._header.insertWidget(1, self.key, 4)
        self.model_button = QToolButton(text="Model")
        self.model_button.setObjectName("modelButton")
        self.model_button.setToolTip("This model's name, smoothing and events; map it again; or unload it")
        self.model_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.model_button)
        self.model_actions: dict[str, QAction] = {}
        for text, action in MODEL_ACTIONS:
            act = menu.addAction(text)
            act.triggered.connect(lambda _checked=False, action=action: self.model_action.emit(action, self.info.name))
            self.model_actions[action] = act
        self.model_button.setMenu(menu)
        self._header.insertWidget(2, self.model_button)
        # The banner takes ~40 px: in a crowded studio (which gives each panel its minimum
        # height) the probabilities were left a strip of ~20 px, too thin to read 0…1. Keep the
        # plot row tall enough for its four tick labels, plus the time axis when it is the last.
        self.graphics.ci.layout.setRowMinimumHeight(0, PLOT_MIN_HEIGHT)
        self.graphics.setMinimumHeight(PLOT_MIN_HEIGHT + 8)
        self.top: tuple[str, float] | None = None

    def _set_colour(self, colour: str) -> None:
        """Only when the colour changes: a style sheet re-polishes the label and lays the
        panel out again, and predictions arrive several times a second (it was set with each)."""
        if colour != self._colour:
            self._colour = colour
            self.banner.setStyleSheet(f"font-size: 20pt; font-weight: bold; padding: 2px 8px; color: white; background: {colour};")

    # -- drawn window by window, broken where windows are missing ---------------------------------
    def _fit_envelope(self, envelope, rate, base) -> None:
        """Never merged into min/max pairs (see the module docstring)."""

    def _envelope_view(self, buffer):
        return buffer.view()

    def breaks(self, t: np.ndarray) -> np.ndarray:
        """Indices of windows not joined to the one before: more than `BREAK_HOPS` hops after it."""
        return np.flatnonzero(np.diff(t) > BREAK_HOPS * self._hop) + 1 if len(t) > 1 else np.empty(0, np.intp)

    def _draw(self) -> None:
        t, v = self.buffer.view()
        x, breaks = t - self.origin, self.breaks(t)
        for i, curve in enumerate(self.curves):
            if curve.isVisible():
                curve.setData(x, v[i], breaks=breaks)
        self.traces.changed()

    def _show_channel(self, index: int, visible: bool) -> None:
        self.curves[index].setVisible(visible)
        self._draw()
        for sample, _label in self.legend.items:
            if sample.item is self.curves[index]:
                sample.update()

    def _pull(self) -> bool:
        chunk = self.ring.since(self.newest)
        if chunk is None:
            return False
        self.envelope.add(chunk.timestamps, np.asarray(chunk.data, dtype=np.float32).reshape(len(chunk), -1))
        self.newest = float(chunk.timestamps[-1])
        self._draw()
        changed = True
        if len(chunk):
            p = np.asarray(chunk.data, dtype=np.float64).reshape(len(chunk), -1)[-1]
            i = int(np.argmax(p))
            names = self.info.channel_names
            self.top = (names[i] if i < len(names) else f"class{i}", float(p[i]))
            text = f"{self.top[0]}  {100 * self.top[1]:.0f} %"
            if text != self.banner.text():
                self.banner.setText(text)
            self._set_colour(SURE if self.top[1] >= UNSURE else UNSURE_COLOUR)
        return changed
