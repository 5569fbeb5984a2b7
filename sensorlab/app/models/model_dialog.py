""""Load model…": the mapping dialog for ONNX models without a sensorlab contract.

It shows the model's inputs and outputs (name, type, shape) and asks for what the model
cannot say itself: the stream and channels, the model's sample rate, window and hop, which
input takes the window and its layout, scaling, constant inputs, which output holds the
scores and their kind, the label names, and which outputs are recurrent state fed back into
which inputs (a stateful model whose names follow no convention). OK checks the mapping against the model
(`LoadedModel`) and the stream (channel names), keeps the dialog open with the one-line
problem if it does not fit, and saves it beside the model (``MODEL.mapping.json``) so the
next load needs no dialog. **Map again…** on a running model opens it with the mapping the model
runs with (``mapping``); for a sensorlab model (its contract wins when it is loaded again) the
new mapping is not saved (``save=False``) and lasts as long as the model runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from sensorlab.acquisition.source import StreamInfo, StreamKind
from sensorlab.inference import LoadedModel, ModelError, ModelMapping, describe_model, load_mapping
from sensorlab.inference.feed_guess import guess_feed, layout_for, scores_kind_for, window_input
from sensorlab.inference.mapping import MappingError


#: The dialog's field for each mapping key a message names: the model layer's messages say how
#: to fix a mapping file ("set 'input'", "fix 'state'"), and the dialog has no such words.
FIELDS = {"input": "Window goes to input", "layout": "Layout", "constants": "Constant inputs", "state": "Recurrent state",
          "scores": "Scores output", "labels": "Labels", "channels": "Channels", "window": "Window", "rate": "Model rate"}  # fmt: skip


#: Pixels a line edit needs around its text (frame and text margins, with a little room).
PLACEHOLDER_PAD = 16


def in_dialog_terms(message: str) -> str:
    """``message`` with the mapping keys it tells the user to set named as the dialog's fields:
    "set 'input' … as 'constants' or 'state'" → "set “Window goes to input” … as “Constant
    inputs” or “Recurrent state”", and '("state": {"h_out": "h"})' → '(Recurrent state: {"h_out": "h"})'."""
    keys = "|".join(FIELDS)
    message = re.sub(rf"\b(fix|set|as|or|in|to) '({keys})'", lambda m: f"{m.group(1)} “{FIELDS[m.group(2)]}”", message)
    message = re.sub(r'\("(constants|state)": (\{[^{}]*\})\)', lambda m: f"({FIELDS[m.group(1)]}: {m.group(2)})", message)
    return message.replace(" in the mapping", "")


def _spin(lo: float, hi: float, value: float, decimals: int = 3, suffix: str = "") -> QDoubleSpinBox:
    s = QDoubleSpinBox(decimals=decimals, minimum=lo, maximum=hi, value=value, suffix=suffix)
    s.setKeyboardTracking(False)
    return s


class MappingDialog(QDialog):
    """Map a foreign ONNX model onto a stream; `mapping` holds the result after OK.

    ``mapping``: the fields filled in from it (a running model's), not from the saved one;
    ``save``: OK writes the mapping beside the model."""

    def __init__(self, model_path: str | Path, streams: dict[str, StreamInfo], parent=None, mapping: ModelMapping | None = None, save: bool = True):
        super().__init__(parent)
        self.model_path = Path(model_path)
        self.save = save
        self.setWindowTitle(f"Map {self.model_path.name}")
        self.streams = {n: i for n, i in streams.items() if i.kind in (StreamKind.AUDIO, StreamKind.TIMESERIES) and i.regular}
        self.mapping: ModelMapping | None = None
        inputs, outputs, _contract = describe_model(self.model_path)
        layout = QVBoxLayout(self)
        intro = QLabel(f"<b>{self.model_path.name}</b> has no sensorlab contract: say how to feed it." if mapping is None else
                       f"<b>{self.model_path.name}</b> as it runs now. OK runs it fed this way, in its place"
                       + ("." if save else ", until it is unloaded (loaded again, it is fed as its own contract says)."))  # fmt: skip
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.io_table = QTableWidget(len(inputs) + len(outputs), 3)
        self.io_table.setHorizontalHeaderLabels(["", "name", "type [shape]"])
        for row, (kind, t) in enumerate([("input", t) for t in inputs] + [("output", t) for t in outputs]):
            for col, text in enumerate((kind, t.name, t.describe().split(" ", 1)[1])):
                self.io_table.setItem(row, col, QTableWidgetItem(text))
        self.io_table.resizeColumnsToContents()
        self.io_table.verticalHeader().hide()  # row numbers: the first column says input/output
        # Every row in view (up to 6, then it scrolls): with only a maximum height the form
        # squeezed the table, and a model's output row (what "Scores output" names) was cut off.
        rows = self.io_table.verticalHeader()
        shown = sum(rows.sectionSize(r) for r in range(min(6, self.io_table.rowCount())))
        self.io_table.setFixedHeight(shown + self.io_table.horizontalHeader().sizeHint().height() + 2 * self.io_table.frameWidth())
        layout.addWidget(self.io_table)

        form = QFormLayout()
        self.stream = QComboBox()
        self.stream.addItems(sorted(self.streams))
        self.channels = QLineEdit(placeholderText="all, in stream order (or e.g. ax, ay, az)")
        self.rate = _spin(0, 1_000_000, 0, 1, " Hz")
        self.rate.setSpecialValueText("the stream's rate")
        self.window = _spin(0.001, 600, 1.0, 3, " s")
        self.hop = _spin(0.001, 600, 0.5, 3, " s")
        self.input = QComboBox()
        self.input.addItems([""] + [t.name for t in inputs])
        self.input.setItemText(0, "(the one left unmapped)")
        self.layout_edit = QLineEdit("NTC")
        self.layout_edit.setToolTip("One letter per input axis: N batch, T samples, C channels, 1 singleton (e.g. NTC, NCT, N1T, NT)")
        self.scale = _spin(-1e9, 1e9, 1.0, 6)
        self.offset = _spin(-1e9, 1e9, 0.0, 6)
        self.constants = QLineEdit(placeholderText='e.g. {"sample_rate": 16000}')
        # Output → input pairs fed back each window. Pairs named by convention (h_out → h_in,
        # h_next → h) are found without it; any other stateful model could not be mapped here.
        self.state = QLineEdit(placeholderText='output → input, e.g. {"h_out": "h_in"}')
        self.state.setToolTip("Outputs fed back into inputs on the next window (recurrent state), as JSON {\"output\": \"input\"}; "
                              "pairs named like h_out → h_in or h_next → h are matched without it")  # fmt: skip
        self._stats: tuple[list[float], list[float]] = ([], [])  # a saved mapping's mean/std: no field, kept as they are
        self.scores = QComboBox()
        self.scores.addItems([t.name for t in outputs])
        self.scores_kind = QComboBox()
        self.scores_kind.addItems(["logits", "probabilities", "sigmoid"])
        self.labels = QLineEdit(placeholderText="class names, comma-separated (default class0, class1, …)")
        for text, w in (("Stream", self.stream), ("Channels", self.channels), ("Model rate", self.rate), ("Window", self.window),
                        ("Hop", self.hop), ("Window goes to input", self.input), ("Layout", self.layout_edit), ("Scale", self.scale),
                        ("Offset", self.offset), ("Constant inputs (JSON)", self.constants), ("Recurrent state (JSON)", self.state),
                        ("Scores output", self.scores),
                        ("Scores are", self.scores_kind), ("Labels", self.labels)):  # fmt: skip
            form.addRow(text, w)
        for edit in (self.channels, self.constants, self.state, self.labels):
            # Wide enough for its hint: at the dialog's own width the examples were cut
            # ("all, in stream order (or e.g. ax, ay…", '{"h_out": "h_…').
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(edit.placeholderText()) + PLACEHOLDER_PAD)
        layout.addLayout(form)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #ef5350")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        saved = mapping if mapping is not None else self._saved()
        if saved is not None:
            self.set_mapping(saved)
        else:  # a stream that fits the model's input (not a predictions stream), and its layout
            self._window_shape = window_input(inputs).shape if inputs else ()
            stream, layout = guess_feed(inputs, self.streams)
            if stream:
                self.stream.setCurrentText(stream)
            if layout:
                self.layout_edit.setText(layout)
            self.stream.currentTextChanged.connect(self._follow_feed)
            # Picking 3 of a 6-axis IMU's channels for a [1, 3, 400] conv: the layout stayed
            # NTC (guessed for none of the stream's 6) until OK refused it.
            self.channels.textChanged.connect(self._follow_feed)
            # A model ending in a softmax holds probabilities: "logits" here applied a second one.
            self._follow_scores()
            self.scores.currentTextChanged.connect(self._follow_scores)

    def _follow_scores(self, *_args) -> None:
        """The scores output picked: what it holds, read from the graph (Softmax, Sigmoid)."""
        if self.scores.currentText():
            self.scores_kind.setCurrentText(scores_kind_for(self.model_path, self.scores.currentText()))

    def _follow_feed(self, *_args) -> None:
        """Another stream or channels picked: the layout follows the channel count fed where the
        input's shape says it unambiguously, unless the user typed one."""
        name = self.stream.currentText()
        typed = [c for c in self.channels.text().split(",") if c.strip()]
        count = len(typed) or (self.streams[name].channel_count if name in self.streams else 0)
        layout = layout_for(self._window_shape, count) if count else None
        if layout and not self.layout_edit.isModified():
            self.layout_edit.setText(layout)

    def _saved(self) -> ModelMapping | None:
        try:
            return load_mapping(self.model_path)
        except MappingError as e:
            self.problem.setText(str(e))
            return None

    def set_mapping(self, m: ModelMapping) -> None:
        if m.stream in self.streams:
            self.stream.setCurrentText(m.stream)
        self.channels.setText(", ".join(str(c) for c in m.channels))
        self.rate.setValue(m.rate or 0)
        self.window.setValue(m.window)
        self.hop.setValue(m.hop)
        self.input.setCurrentIndex(max(0, self.input.findText(m.input)) if m.input else 0)
        self.layout_edit.setText(m.layout)
        self.scale.setValue(m.scale)
        self.offset.setValue(m.offset)
        self.constants.setText(json.dumps(m.constants) if m.constants else "")
        self.state.setText(json.dumps(m.state) if m.state else "")
        self._stats = (list(m.mean), list(m.std))
        if m.scores:
            self.scores.setCurrentText(m.scores)
        self.scores_kind.setCurrentText(m.scores_kind)
        self.labels.setText(", ".join(m.labels))

    def current(self) -> ModelMapping:
        """The mapping the fields describe (raises `MappingError` naming the field)."""
        chans: list[str | int] = [int(c) if c.strip().isdigit() else c.strip() for c in self.channels.text().split(",") if c.strip()]
        try:
            constants = json.loads(self.constants.text()) if self.constants.text().strip() else {}
        except json.JSONDecodeError as e:
            raise MappingError(f"constant inputs: not JSON ({e.msg}); write e.g. {{\"sample_rate\": 16000}}") from None
        try:
            state = json.loads(self.state.text()) if self.state.text().strip() else {}
        except json.JSONDecodeError as e:
            raise MappingError(f"recurrent state: not JSON ({e.msg}); write output → input pairs, e.g. {{\"h_out\": \"h_in\"}}") from None
        doc = {"stream": self.stream.currentText(), "channels": chans, "rate": self.rate.value() or None, "window": self.window.value(),
               "hop": self.hop.value(), "input": "" if self.input.currentIndex() == 0 else self.input.currentText(),
               "layout": self.layout_edit.text().strip(), "mean": self._stats[0], "std": self._stats[1], "scale": self.scale.value(),
               "offset": self.offset.value(), "constants": constants, "state": state,
               "scores": self.scores.currentText(), "scores_kind": self.scores_kind.currentText(),
               "labels": [x.strip() for x in self.labels.text().split(",") if x.strip()]}  # fmt: skip
        if not doc["stream"]:
            raise MappingError("no audio or timeseries stream is running to feed the model; open a rig first")
        return ModelMapping.parse(json.dumps(doc), source="mapping")

    def accept(self) -> None:
        try:
            m = self.current()
            info = self.streams[m.stream]
            missing = [c for c in m.channels if isinstance(c, str) and c not in info.channel_names]
            if missing:
                raise MappingError(f"stream {m.stream!r} has no channel {missing[0]!r} (channels: {', '.join(info.channel_names)}); fix Channels")
            model = LoadedModel(self.model_path, m)
            from sensorlab.datasets.windows import n_samples

            n_ch = len(m.channels) or info.channel_count
            model.check_window(n_samples(m.window, m.rate or info.nominal_rate), n_ch)
        except (MappingError, ModelError) as e:
            self.problem.setText(in_dialog_terms(str(e)))
            return
        if self.save:
            m.save(self.model_path)
        self.mapping = m
        super().accept()


__all__ = ["MappingDialog"]
