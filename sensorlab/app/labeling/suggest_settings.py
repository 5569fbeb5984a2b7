"""Suggest ▾ → Settings…: the parameters of the energy detector and of model suggestions.

The command line sets them with ``sensorlab labels suggest --param KEY=VALUE`` and
``sensorlab predict --suggest --threshold P --min-duration S``; the window keeps the same values
in its settings (``labeling/suggest/<method>/<key>``) and passes them to the same functions
(`iter_suggest_for_stream`, `iter_predict`), so a run from the menu equals the command with
those options. Defaults are the functions' own defaults (the energy detector's find claps and
spoken words alike); a value equal to its default is not stored, so it follows the program.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGroupBox, QVBoxLayout, QWidget

from sensorlab.labeling.suggest.energy import MIN_DURATION_S


@dataclass(frozen=True)
class Field:
    """One parameter: its function keyword, form text, default (None: automatic) and spin box range."""

    key: str
    text: str
    default: float | None
    lo: float
    hi: float
    step: float
    decimals: int
    suffix: str = ""
    auto: str = ""  # shown at the spin box minimum, which then means "automatic" (None)
    tip: str = ""


#: Per method, the fields a user sets (the keywords of `energy_segments_from_frames` / `iter_predict`).
FIELDS: dict[str, list[Field]] = {
    "energy": [
        Field("margin_db", "Above the noise floor", 12.0, 1.0, 60.0, 1.0, 1, " dB",
              tip="A sound starts this far above the session's noise floor (lower finds quieter sounds)"),
        Field("high_db", "Fixed threshold", None, -121.0, 0.0, 1.0, 1, " dBFS", auto="automatic (noise floor + margin)",
              tip="A fixed level instead of the noise floor + margin; it ends half the margin lower"),
        Field("min_duration", "Minimum length", MIN_DURATION_S, 0.0, 60.0, 0.01, 3, " s",
              tip=f"Shorter sounds are not suggested (the default {MIN_DURATION_S:g} s finds claps and taps; 0.1 s ignores them, for speech)"),
        Field("min_gap", "Join gaps shorter than", 0.2, 0.0, 60.0, 0.05, 3, " s",
              tip="Two sounds closer than this become one suggestion"),
    ],
    "changepoint": [
        Field("window_s", "Window", 1.0, 0.05, 600.0, 0.25, 2, " s",
              tip="Length compared before and after each instant (shorter finds shorter segments)"),
        Field("threshold", "Threshold", None, 0.0, 100.0, 0.1, 2, auto="automatic",
              tip="How large a shift of the mean counts as a change (lower finds smaller shifts)"),
    ],
    "motion": [
        Field("threshold", "Threshold", None, 0.0, 255.0, 0.5, 1, auto="automatic (median + 6 σ)",
              tip="Frame difference above which the picture moves (lower finds small motion)"),
        Field("min_duration", "Minimum length", 0.2, 0.0, 60.0, 0.05, 2, " s", tip="Shorter movements are not suggested"),
        Field("min_gap", "Join gaps shorter than", 0.5, 0.0, 60.0, 0.1, 2, " s", tip="Two movements closer than this become one suggestion"),
    ],
    "model": [
        Field("threshold", "Minimum probability", 0.5, 0.01, 1.0, 0.05, 2,
              tip="A run of windows whose top class reaches this probability becomes a suggestion"),
        Field("min_duration", "Minimum length", 0.0, 0.0, 60.0, 0.05, 2, " s", tip="Shorter runs are not suggested"),
    ],
}
TITLES = {"energy": "Energy detector (audio)", "changepoint": "Change points (timeseries)", "motion": "Motion (video)",
          "model": "Models (From a model…, demo model)"}


class SuggestSettings:
    """The values of `FIELDS`, kept in ``settings``."""

    def __init__(self, settings: QSettings):
        self.settings = settings

    @staticmethod
    def _key(method: str, f: Field) -> str:
        return f"labeling/suggest/{method}/{f.key}"

    def value(self, method: str, key: str) -> float | None:
        f = next(f for f in FIELDS[method] if f.key == key)
        v = self.settings.value(self._key(method, f), None)
        if v in (None, "", "auto"):
            return f.default
        try:
            return float(v)
        except (TypeError, ValueError):  # a hand-edited settings file: the default, not a crash
            return f.default

    def set_value(self, method: str, key: str, value: float | None) -> None:
        f = next(f for f in FIELDS[method] if f.key == key)
        if value == f.default:  # not stored: a later version's better default reaches the user
            self.settings.remove(self._key(method, f))
        else:
            self.settings.setValue(self._key(method, f), "auto" if value is None else float(value))

    def params(self, method: str) -> dict[str, Any]:
        """The keywords to pass (automatic ones left out, so the function decides)."""
        out = {f.key: self.value(method, f.key) for f in FIELDS.get(method, [])}
        return {k: v for k, v in out.items() if v is not None}

    def empty_hint(self, method: str) -> str:
        """What to change after a run found nothing, in the form's words (``Minimum length 0.005 s for
        very short clicks (default 0.02 s)``); the command's hints (`EMPTY_HINTS`), or ``""``."""
        from sensorlab.labeling.cli_commands import EMPTY_HINTS

        fields = {f.key: f for f in FIELDS.get(method, [])}
        tips = [f"a lower {fields[k].text.lower()} for {why}" if v.startswith("<") else f"{fields[k].text} {v}{fields[k].suffix} for {why}"
                for k, v, why in EMPTY_HINTS.get(method, []) if k in fields]  # fmt: skip
        return " or ".join(tips)

    def summary(self, method: str) -> str:
        """``min length 0.01 s, 6 dB over the noise floor`` style text of the non-default values."""
        parts = [f"{f.text.lower()} {self.value(method, f.key):g}{f.suffix}" for f in FIELDS.get(method, [])
                 if self.value(method, f.key) != f.default]  # fmt: skip
        return ", ".join(parts)


class SuggestSettingsDialog(QDialog):
    """The form of `FIELDS`; OK stores the values (the next run uses them), Restore Defaults resets the form."""

    def __init__(self, store: SuggestSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Suggestion settings")
        self.store = store
        self.boxes: dict[tuple[str, str], QDoubleSpinBox] = {}
        lay = QVBoxLayout(self)
        for method, fields in FIELDS.items():
            group = QGroupBox(TITLES[method])
            form = QFormLayout(group)
            for f in fields:
                box = QDoubleSpinBox(decimals=f.decimals, minimum=f.lo, maximum=f.hi, singleStep=f.step, suffix=f.suffix)
                box.setToolTip(f.tip)
                if f.auto:
                    box.setSpecialValueText(f.auto)
                box.setMinimumWidth(box.sizeHint().width())
                self.boxes[(method, f.key)] = box
                form.addRow(f.text, box)
            lay.addWidget(group)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)  # fmt: skip
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        lay.addWidget(buttons)
        for (method, key), box in self.boxes.items():
            self._show(box, self._field(method, key), store.value(method, key))

    @staticmethod
    def _field(method: str, key: str) -> Field:
        return next(f for f in FIELDS[method] if f.key == key)

    @staticmethod
    def _show(box: QDoubleSpinBox, f: Field, value: float | None) -> None:
        box.setValue(f.lo if value is None else value)

    def restore_defaults(self) -> None:
        for (method, key), box in self.boxes.items():
            f = self._field(method, key)
            self._show(box, f, f.default)

    def accept(self) -> None:
        for (method, key), box in self.boxes.items():
            f = self._field(method, key)
            self.store.set_value(method, key, None if f.auto and box.value() == f.lo else box.value())
        super().accept()


__all__ = ["FIELDS", "SuggestSettings", "SuggestSettingsDialog"]
