"""**Compare with device…**: the host model against the class a device reports on its own stream.

The dialog asks which running model (its predictions stream) and which device events stream
to compare — a board that runs its build of the model and prints the class of each window
on a serial port with ``protocol = "events"`` (on the demo rig: ``clap_mcu``) — and two
timing settings: how close two windows' ends must be to count as the same window (default:
one hop) and how long after its window the device's line arrives. OK attaches the core's
`sensorlab.inference.device_parity.DeviceParity` (`Studio.compare_device`) and opens a
**Parity** tab (`ParityView`): the host's probability and the device's class overlaid on the
time axis, agreements and divergences counted, divergent windows listed (click one to zoom
onto it). Problems go to the window's banner in one line; nothing else changes.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QVBoxLayout

from sensorlab.acquisition.names import LIVE_LABELS_STREAM
from sensorlab.acquisition.source import StreamKind
from sensorlab.app.models.parity_view import ParityView, why_idle
from sensorlab.inference.engine import is_predictions


def candidates(window) -> tuple[list[str], list[str]]:
    """``(predictions streams, device events streams)`` running in ``window``'s rig; events
    made by processors (a model's own threshold events) and live labels are not a device's."""
    acq = window.acquisition
    if acq is None:
        return [], []
    streams = acq.streams
    made = {s.name for p in acq.processors for s in p.streams}
    preds = [n for n, i in streams.items() if is_predictions(i)]
    events = [n for n, i in streams.items() if i.kind is StreamKind.EVENTS and n != LIVE_LABELS_STREAM and n not in made]
    return preds, events


class DeviceParityDialog(QDialog):
    """Pick the host model's predictions, the device's events stream, tolerance and delay."""

    def __init__(self, preds: list[str], events: list[str], hops: dict[str, float], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Compare with device")
        self.hops = hops
        self.predictions = QComboBox()
        self.predictions.addItems(preds)
        self.events = QComboBox()
        self.events.addItems(events)
        self.tolerance = QDoubleSpinBox(decimals=3, minimum=0.001, maximum=10.0, singleStep=0.01, suffix=" s")
        self.delay = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=10.0, singleStep=0.01, value=0.0, suffix=" s")
        self.predictions.currentTextChanged.connect(self._default_tolerance)
        self._default_tolerance(self.predictions.currentText())
        form = QFormLayout()
        form.addRow("Host model (predictions)", self.predictions)
        form.addRow("Device's class (events)", self.events)
        form.addRow("Same window within", self.tolerance)
        form.addRow("Device line arrives after its window by", self.delay)
        note = QLabel("The device prints the class of each window it classified, one line each (protocol \"events\" in the rig). "
                      "Windows whose ends are within the tolerance are compared; a class change within it is not a divergence.")  # fmt: skip
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _default_tolerance(self, stream: str) -> None:
        self.tolerance.setValue(self.hops.get(stream, 0.1))  # one hop: a neighbouring window's report still matches


def compare_device(window, predictions: str | None = None, events: str | None = None, tolerance: float | None = None,
                   delay: float = 0.0) -> ParityView | None:  # fmt: skip
    """Open a host-vs-device Parity tab in the studio ``window``; asks what it is not told."""
    preds, evs = candidates(window)
    if not preds:
        window.show_error("no model is running: load one (Load model…) before comparing it with a device")
        return None
    if not evs and events is None:
        window.show_error('no device events stream in the rig: add the board (Devices…, a serial port with protocol "events") that prints its class')
        return None
    if predictions is None or events is None:
        hops = {n: 1.0 / window.acquisition.streams[n].nominal_rate for n in preds}
        dialog = DeviceParityDialog(preds, evs, hops, window)
        if predictions in preds:
            dialog.predictions.setCurrentText(predictions)
        if events in evs:
            dialog.events.setCurrentText(events)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        predictions, events = dialog.predictions.currentText(), dialog.events.currentText()
        tolerance, delay = dialog.tolerance.value(), dialog.delay.value()
    try:
        dp = window.studio.compare_device(predictions, events, tolerance=tolerance, delay=delay)
    except ValueError as e:
        window.show_error(str(e))
        return None
    origin = window.live_view.origin if window.live_view is not None else 0.0
    proc = next((p for p in window.acquisition.processors if predictions in p.stats), None)
    feeds = [(proc.input, f"the model's input {proc.input}")] if proc is not None and getattr(proc, "input", "") else []
    idle = why_idle(window, [*feeds, (predictions, f"the host's {predictions}"), (events, f"the device's {events}")])
    view = ParityView(dp, f"host: {predictions}", f"device: {events}", dp.labels, origin, why_idle=idle)
    window.bottom_tabs.addTab(view, f"Parity: {predictions} vs {events}")
    window.bottom_tabs.setCurrentWidget(view)
    window.post(f"comparing the host model's {predictions} with the device's {events} (same window within {dp.tolerance:g} s)")
    return view


__all__ = ["DeviceParityDialog", "candidates", "compare_device"]
