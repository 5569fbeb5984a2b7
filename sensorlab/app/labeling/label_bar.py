"""`LabelBar`: live labels while recording, from hotkeys 1–9 or start/stop buttons.

The label set is the labeling core's `LabelSet` (names, colours, hotkeys). Gestures:

- tap a hotkey → a **point** event at the moment of the key press;
- hold a hotkey longer than `HOLD_S` → a **span**: ``start`` at the press, ``stop`` at the
  release (the start is sent as soon as the hold is recognised, so events stay in time order);
- click a label's button → ``start``; click again → ``stop`` (for spans too long to hold).

Each gesture is emitted as `label_event(t, json_text)` in the live-label format that
`sensorlab.labeling.annotations.annotations_from_live_events` reads back
(``{"label": ..., "type": "point" | "start" | "stop"}``, `sensorlab.studio.live_event`); the
main window hands it to ``Studio.add_label`` and draws it on the live view.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from sensorlab.acquisition.clock import now
from sensorlab.labeling.annotations import LabelSet
from sensorlab.studio.live_labels import live_event

#: A key held longer than this (seconds) marks a span instead of a point.
HOLD_S = 0.35
DEFAULT_LABELS = ("clap", "speech", "walk", "gesture", "noise")
_DIGITS = {getattr(Qt.Key, f"Key_{d}"): d for d in range(1, 10)}
#: Every digit key: outside text fields none of them reaches a widget (a combo box or a list
#: would otherwise jump to the entry starting with that digit).
_ALL_DIGITS = {*_DIGITS, Qt.Key.Key_0}


def ink_on(color: str) -> str:
    """``"#111111"`` or ``"#ffffff"``, whichever contrasts more with ``color`` ("#rrggbb"), by
    WCAG relative luminance: the text of a button filled with a label's colour."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    dark = (0.2126 + 0.7152 + 0.0722) * (17 / 255 / 12.92)  # #111's luminance
    return "#111111" if (lum + 0.05) / (dark + 0.05) >= 1.05 / (lum + 0.05) else "#ffffff"


def is_text_entry(widget: QObject) -> bool:
    """True when digits typed into ``widget`` are text (a name, a number), not label hotkeys.

    Editable line, text and spin boxes and *editable* combo boxes take digits; everything
    else (buttons, plots, tables, lists, a plain drop-down such as the Window length) does not.
    """
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    if isinstance(widget, QLineEdit | QTextEdit | QPlainTextEdit | QAbstractSpinBox):
        return not widget.isReadOnly()
    return False


class LabelBar(QWidget):
    """Buttons for a `LabelSet` plus the hotkey logic.

    Parameters
    ----------
    labels
        The label set (the bar follows its ``label_added/changed/removed`` signals).

    Signals
    -------
    label_event(t, text)
        A live-label event at host time ``t``; ``text`` is `live_event` JSON.
    """

    label_event = Signal(float, str)

    def __init__(self, labels: LabelSet | None = None, parent=None):
        super().__init__(parent)
        self.labels = labels if labels is not None else LabelSet.from_names(DEFAULT_LABELS)
        self.buttons: dict[str, QPushButton] = {}
        self._held: dict[int, tuple[str, float, QTimer]] = {}  # hotkey -> (label, t_press, timer)
        self._spanning: set[str] = set()  # labels with an open span (button or held key)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.setSpacing(3)
        hint = QLabel("Tap 1–9 for a point, hold for a span,\nor click a label to start/stop a span.")
        hint.setStyleSheet("color:#9aa0a6")
        self._layout.addWidget(hint)
        self._button_box = QVBoxLayout()
        self._layout.addLayout(self._button_box)
        self._layout.addStretch(1)
        for sig in (self.labels.label_added, self.labels.label_changed, self.labels.label_removed):
            sig.connect(self._rebuild)
        self._rebuild()

    # -- gestures ------------------------------------------------------------------------
    def press_hotkey(self, key: int, t: float | None = None) -> bool:
        """A digit key went down (not auto-repeat). Returns True when it is a label hotkey."""
        lab = self.labels.by_hotkey(key)
        if lab is None:
            return False
        if key in self._held:
            return True
        timer = QTimer(self, singleShot=True, interval=int(HOLD_S * 1000))
        t_press = now() if t is None else t
        timer.timeout.connect(lambda: self._hold_recognised(key))
        self._held[key] = (lab.name, t_press, timer)
        timer.start()
        self._style(lab.name)
        return True

    def release_hotkey(self, key: int, t: float | None = None) -> bool:
        """A digit key went up. Emits a point, or the stop of a span."""
        if key not in self._held:
            return False
        name, t_press, timer = self._held.pop(key)
        timer.stop()
        t_release = now() if t is None else t
        if name in self._spanning and not self.buttons[name].isChecked():
            self._spanning.discard(name)
            self.label_event.emit(t_release, live_event(name, "stop"))
        elif t_release - t_press >= HOLD_S and name not in self._spanning:
            # Released late but the timer had not fired yet (busy GUI thread): still a span.
            self.label_event.emit(t_press, live_event(name, "start"))
            self.label_event.emit(t_release, live_event(name, "stop"))
        elif name not in self._spanning:
            self.label_event.emit(t_press, live_event(name, "point"))
        self._style(name)
        return True

    def toggle_span(self, name: str, t: float | None = None) -> None:
        """Start a span of ``name`` now, or stop the open one."""
        t = now() if t is None else t
        if name in self._spanning:
            self._spanning.discard(name)
            self.label_event.emit(t, live_event(name, "stop"))
        else:
            self._spanning.add(name)
            self.label_event.emit(t, live_event(name, "start"))
        button = self.buttons[name]
        button.blockSignals(True)
        button.setChecked(name in self._spanning)
        button.blockSignals(False)
        self._style(name)

    def close_open_spans(self) -> None:
        """Stop every open span (called when the recording stops)."""
        for name in list(self._spanning):
            self.toggle_span(name)

    # -- hotkeys from the whole window -----------------------------------------------------
    def watch(self, window: QWidget) -> None:
        """Take digit hotkeys from anywhere in ``window`` (the studio calls this once).

        Key events go to the focused widget, or to the window when nothing has focus, so the
        filter sits on the window and moves with the keyboard focus. Installed on the whole
        application it ran for every event of every widget: ~85 Python calls per live-view
        frame (paints, timers, layout), ~1 ms a frame for nothing (docs/PERFORMANCE.md §4).
        """
        self._watched = window
        self._focus: QWidget | None = None
        window.installEventFilter(self)
        app = QApplication.instance()
        app.focusChanged.connect(self._follow_focus)
        self._follow_focus(None, app.focusWidget())

    def unwatch(self) -> None:
        """Stop taking hotkeys (the window is closing)."""
        window = getattr(self, "_watched", None)
        if window is None:
            return
        QApplication.instance().focusChanged.disconnect(self._follow_focus)
        window.removeEventFilter(self)
        if self._focus is not None:
            self._focus.removeEventFilter(self)
        self._watched = self._focus = None

    def _follow_focus(self, _old, new) -> None:
        if self._focus is not None:
            try:
                self._focus.removeEventFilter(self)
            except RuntimeError:  # the widget is already deleted
                pass
        self._focus = None
        if new is not None and new is not self._watched and new.window() is self._watched:
            new.installEventFilter(self)
            self._focus = new

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """Installed on the window and its focused widget (`watch`): digits anywhere in this
        window but in a text field are hotkeys."""
        etype = event.type()
        if etype not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        assert isinstance(event, QKeyEvent)
        if event.key() not in _ALL_DIGITS or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier or not self.isVisible():
            return False
        if not isinstance(obj, QWidget) or obj.window() is not self.window() or is_text_entry(obj):
            return False
        # From here on the digit is ours whatever it does: a focused drop-down or list must
        # never see it (it would change the Window length or jump in a list instead).
        key = _DIGITS.get(event.key())
        if key is None or event.isAutoRepeat():
            return True
        if etype == QEvent.Type.KeyPress:
            self.press_hotkey(key)
        else:
            self.release_hotkey(key)
        return True

    # -- internals -----------------------------------------------------------------------
    def _hold_recognised(self, key: int) -> None:
        if key not in self._held:
            return
        name, t_press, _ = self._held[key]
        if name not in self._spanning:
            self._spanning.add(name)
            self.label_event.emit(t_press, live_event(name, "start"))
            self._style(name)

    def _rebuild(self, *_args) -> None:
        while self._button_box.count():
            w = self._button_box.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.buttons.clear()
        for lab in self.labels:
            key = f"{lab.hotkey}  " if lab.hotkey else "    "
            button = QPushButton(f"{key}{lab.name}", checkable=True)
            button.setToolTip(f"Key {lab.hotkey}: tap = point, hold = span. Click: start/stop a span." if lab.hotkey else "Click: start/stop a span")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.toggled.connect(lambda _on, n=lab.name: self.toggle_span(n))
            self.buttons[lab.name] = button
            self._button_box.addWidget(button)
            self._style(lab.name)

    def _style(self, name: str) -> None:
        button = self.buttons.get(name)
        if button is None:
            return
        color = self.labels.color_of(name)
        active = name in self._spanning or any(n == name for n, _, _ in self._held.values())
        bg = color if active else "transparent"
        # On the label's colour, the ink that contrasts more: black on the blue of "noise"
        # (#0072B2) read at 3.6:1, dim next to the white the idle buttons use.
        fg = ink_on(color) if active else "#e8eaed"
        button.setStyleSheet(
            f"QPushButton{{text-align:left;padding:4px 8px;border:1px solid {color};border-left:6px solid {color};"
            f"border-radius:3px;background:{bg};color:{fg};font-weight:{'bold' if active else 'normal'}}}"
        )
