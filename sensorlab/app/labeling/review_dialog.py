"""Suggest ▾ → Review in bulk…: accept or reject many suggestions at once, as one undo step.

The window's form of ``sensorlab labels accept|reject SESSION --source S --min-score X --label L``:
the same filters (`matching_suggestions`), the same `AcceptSuggestion` / `RejectSuggestion`
commands, and accepted ones go to the tier the window labels on, as with the A key. Sixteen
suggestions of the demo model need not be sixteen key presses, and "everything the model is
sure of" (score ≥ 0.8) needs no command line.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QPushButton, QVBoxLayout

from sensorlab.labeling.commands import AcceptSuggestion, CompoundCommand, RejectSuggestion
from sensorlab.labeling.suggestions import matching_suggestions

if TYPE_CHECKING:
    from sensorlab.app.labeling.view import LabelingView

ALL = "all sources"
ANY_LABEL = "all labels"


class BulkReviewDialog(QDialog):
    """Filters (source, label, minimum score) and Accept / Reject buttons; the count updates as they change."""

    def __init__(self, view: LabelingView):
        super().__init__(view)
        self.view = view
        self.setWindowTitle("Review suggestions in bulk")
        ann = view.annotations
        pending = list(ann.segments(suggested=True))
        self.source = QComboBox()
        self.source.addItems([ALL, *(f"{s}" for s, _n in Counter(s.source for s in pending).most_common())])
        self.label = QComboBox()
        self.label.addItems([ANY_LABEL, *sorted({s.label for s in pending})])
        self.min_score = QDoubleSpinBox(minimum=-1000.0, maximum=1000.0, decimals=2, singleStep=0.05)
        self.min_score.setSpecialValueText("any")
        self.min_score.setValue(self.min_score.minimum())
        self.min_score.setToolTip("A model's suggestion scores its mean probability (0–1), an energy one its peak level (dB); "
                                  "one without a score passes only 'any'")  # fmt: skip
        self.count = QLabel()
        form = QFormLayout()
        form.addRow("From", self.source)
        form.addRow("Label", self.label)
        form.addRow("Minimum score", self.min_score)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.count)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.accept_button = QPushButton("Accept")
        self.reject_button = QPushButton("Reject")
        buttons.addButton(self.accept_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.reject_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.accept_button.clicked.connect(lambda: self.review(True))
        self.reject_button.clicked.connect(lambda: self.review(False))
        lay.addWidget(buttons)
        for w in (self.source, self.label):
            w.currentTextChanged.connect(self._update)
        self.min_score.valueChanged.connect(self._update)
        self._update()

    def matching(self) -> list:
        src = self.source.currentText()
        lab = self.label.currentText()
        score = None if self.min_score.value() == self.min_score.minimum() else self.min_score.value()
        segs = matching_suggestions(self.view.annotations, source=None if src == ALL else src,
                                    labels=() if lab == ANY_LABEL else (lab,), min_score=score)  # fmt: skip
        return segs

    def _update(self, *_args) -> None:
        segs = self.matching()
        scores = [s.score for s in segs if not math.isnan(s.score)]
        rng = f", scores {min(scores):.2f}–{max(scores):.2f}" if scores else ""
        self.count.setText(f"{len(segs)} suggestion(s) match{rng}; accepted ones become labels of tier {self.view.tier!r}")
        self.accept_button.setEnabled(bool(segs))
        self.reject_button.setEnabled(bool(segs))

    def review(self, accept: bool) -> None:
        """Accept or reject the matching suggestions as one undo step; the dialog stays for the rest."""
        v = self.view
        segs = self.matching()
        if not segs:
            return
        verb = "Accept" if accept else "Reject"
        cmds = [AcceptSuggestion(s.id, tier=v.tier) if accept else RejectSuggestion(s.id) for s in segs]
        if v.annotation_view.push(CompoundCommand(cmds, f"{verb} {len(segs)} suggestions")):
            left = len(list(v.annotations.segments(suggested=True)))
            done = f"accepted {len(segs)} suggestion(s) into tier {v.tier}" if accept else f"rejected {len(segs)} suggestion(s)"
            v.message.emit(f"{done} (Ctrl+Z undoes) · {left} left to review")
        self._update()


__all__ = ["BulkReviewDialog"]
