"""`ModelSettingsDialog`: a running model's name, smoothing and events (Model ▾ → Settings…).

Smoothing offers what the engine has (`sensorlab.inference.smoothing`): none, or a causal
moving average over N windows (it says the delay that adds); events: a class, the threshold
its probability must rise above for a ``start`` and the release it must fall below for a
``stop`` (hysteresis). Apply and OK hand the settings to a callback that changes the running
model (`sensorlab.app.models.model_controls`), and keep the dialog open with its one-line
problem when refused.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
)

from sensorlab.inference.live_settings import MAX_SMOOTH, ModelSettings

#: The smoothing kinds the engine has (`sensorlab.inference.smoothing`), as the dialog names them.
NO_SMOOTHING, MOVING_AVERAGE = "none", "moving average"
EVENTS_OFF = "off"


class ModelSettingsDialog(QDialog):
    """A running model's `ModelSettings`; ``apply(settings)`` changes the model and returns ""
    or the one-line problem, shown in the dialog (which then stays open)."""

    def __init__(self, settings: ModelSettings, labels: list[str], hop: float, apply, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Model settings: {settings.name}")
        self._apply, self._hop = apply, hop
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.name = QLineEdit(settings.name)
        self.name.setToolTip("The predictions stream's name: its panel's title, and its name in recordings (<name>_events for its events)")
        self.smoothing = QComboBox()
        self.smoothing.addItems([NO_SMOOTHING, MOVING_AVERAGE])
        self.smoothing.setCurrentText(MOVING_AVERAGE if settings.smooth > 1 else NO_SMOOTHING)
        self.windows = QSpinBox(minimum=2, maximum=MAX_SMOOTH, value=max(2, settings.smooth), suffix=" windows")
        self.windows.setToolTip("Average the probabilities of the last N windows (causal: adds (N − 1) / 2 hops of delay)")
        self.delay = QLabel("")
        self.delay.setStyleSheet("color: #9aa0a6")
        smooth_row = QHBoxLayout()
        for w in (self.smoothing, self.windows, self.delay):
            smooth_row.addWidget(w)
        self.event_class = QComboBox()
        self.event_class.addItems([EVENTS_OFF, *labels])
        self.event_class.setCurrentText(settings.event_label or EVENTS_OFF)
        self.event_class.setToolTip("Make an events stream <name>_events: start when this class's probability rises above the threshold")
        self.threshold = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, decimals=2, value=settings.threshold if settings.threshold is not None else 0.8)
        self.threshold.setToolTip("start: the (smoothed) probability rises above this")
        release = settings.release if settings.release is not None else (settings.threshold if settings.threshold is not None else 0.5)
        self.release = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, decimals=2, value=release)
        self.release.setToolTip("stop: it falls below this (lower than the threshold: hysteresis, no flicker around it)")
        form.addRow("Name", self.name)
        form.addRow("Smoothing", smooth_row)
        form.addRow("Events on class", self.event_class)
        form.addRow("Start above", self.threshold)
        form.addRow("Stop below", self.release)
        layout.addLayout(form)
        self.problem = QLabel("")
        self.problem.setObjectName("modelSettingsProblem")
        self.problem.setStyleSheet("color: #ef5350")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.clicked.connect(self.apply)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        for signal in (self.smoothing.currentTextChanged, self.windows.valueChanged, self.event_class.currentTextChanged):
            signal.connect(self._follow)
        self._follow()

    def _follow(self, *_args) -> None:
        """Only the fields that mean something now are enabled; the smoothing's delay is said."""
        smoothing = self.smoothing.currentText() == MOVING_AVERAGE
        self.windows.setEnabled(smoothing)
        n = self.windows.value() if smoothing else 1
        self.delay.setText(f"+{1000 * (n - 1) / 2 * self._hop:.0f} ms delay" if smoothing else "")
        events = self.event_class.currentText() != EVENTS_OFF
        self.threshold.setEnabled(events)
        self.release.setEnabled(events)

    def settings(self) -> ModelSettings:
        """The settings the fields say."""
        events = self.event_class.currentText() != EVENTS_OFF
        return ModelSettings(name=self.name.text().strip(), smooth=self.windows.value() if self.smoothing.currentText() == MOVING_AVERAGE else 0,
                             event_label=self.event_class.currentText() if events else "", threshold=self.threshold.value() if events else None,
                             release=self.release.value() if events else None)  # fmt: skip

    def apply(self) -> bool:
        """Change the running model to the fields' settings; False (the problem shown) if refused."""
        why = self._apply(self.settings())
        self.problem.setText(why)
        if not why:
            self.setWindowTitle(f"Model settings: {self.settings().name}")
        return not why

    def accept(self) -> None:
        if self.apply():
            super().accept()


__all__ = ["ModelSettingsDialog"]
