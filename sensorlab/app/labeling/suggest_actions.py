"""`SuggestActions`: the labeling view's onset snapping and its Suggest ▾ menu's built-in methods.

A mixin of `LabelingView` (it uses the view's session, timeline, annotation view, playback,
runner and message signal): snapping finds onsets in the visible audio when the view
settles; a suggestion method runs on a worker and its result is one undoable step. Models
(Suggest ▾ → From a model…) are `model_suggest.ModelSuggest`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QMenu

from sensorlab.acquisition.source import StreamKind
from sensorlab.labeling.suggest import SUGGESTION_TIER
from sensorlab.session.reader import StreamReader


class SuggestActions:
    """Snapping and built-in suggestions; mixed into `LabelingView`."""

    #: The last suggestion menu opened by a right click (`suggestion_menu`).
    last_menu: QMenu | None = None

    def _update_snap(self) -> None:
        av = self.annotation_view
        if av is None:
            return
        if not self.snap_box.isChecked() or self.playback.audio is None:
            av.snap_times = None
            return
        from sensorlab.labeling.onsets import detect_onsets

        t0, t1 = self.timeline.view_range
        if t1 - t0 > 120:
            av.snap_times = None
            self.message.emit("zoom in below 2 minutes to snap to onsets")
            return
        c = self.playback.audio.read(t0, t1)
        av.snap_times = detect_onsets(np.asarray(c.data), c.timestamps) if len(c.timestamps) > 64 else None

    def _fill_suggest_menu(self) -> None:
        menu = self.suggest_button.menu()
        methods = {StreamKind.AUDIO: "energy", StreamKind.TIMESERIES: "changepoint", StreamKind.VIDEO: "motion"}
        for s in self.session.streams.values():
            method = methods.get(s.info.kind)
            if method and s.count:
                menu.addAction(f"{method} on {s.name}", lambda s=s, m=method: self.suggest(s.name, m))
        self.model_suggest.add_actions(menu)
        menu.addSeparator()
        menu.addAction("Settings (threshold, minimum length)…", self.open_suggest_settings)
        menu.addAction("Review in bulk (accept / reject many)…", self.open_bulk_review)

    def suggestion_menu(self, seg_id: str, pos) -> QMenu | None:
        """A right click on a suggestion (which selected it): Accept / Reject it, as A and R do
        on the selection (non-blocking); returns the menu."""
        seg = self.annotations.get(seg_id)
        if seg is None or not seg.suggested:
            return None
        from sensorlab.app.labeling.lanes import source_name

        menu = QMenu(self)
        menu.addAction(f"Accept {seg.label} from {source_name(seg.source)}  (A)", lambda: self.keys.review(accept=True))
        menu.addAction("Reject  (R)", lambda: self.keys.review(accept=False))
        menu.popup(pos)
        self.last_menu = menu  # tests
        return menu

    def open_bulk_review(self):
        """Suggest ▾ → Review in bulk…: `labels accept|reject` with their filters, in the window (non-blocking); returns the dialog."""
        from sensorlab.app.labeling.review_dialog import BulkReviewDialog

        dialog = BulkReviewDialog(self)
        dialog.open()
        return dialog

    def open_suggest_settings(self):
        """Suggest ▾ → Settings…: the energy detector's and models' parameters (non-blocking); returns the dialog."""
        from sensorlab.app.labeling.suggest_settings import SuggestSettingsDialog

        dialog = SuggestSettingsDialog(self.suggest_settings, self)
        dialog.accepted.connect(lambda: self.message.emit("suggestion settings saved: the next run uses them"))
        dialog.open()
        return dialog

    def suggest(self, stream: str, method: str) -> None:
        """Run a suggestion method on a worker; the result is one undoable step.

        Like ``sensorlab labels suggest``, the step replaces the unreviewed suggestions of the
        previous run of the same method on the same stream (also when nothing is found). The
        parameters are those of Suggest ▾ → Settings… (`suggest_settings.py`).
        """
        from sensorlab.labeling.cli_commands import describe_segments
        from sensorlab.labeling.suggest_stream import suggestion_source

        params = self.suggest_settings.params(method)
        custom = self.suggest_settings.summary(method)
        custom = f" ({custom})" if custom else ""

        def done(segs) -> None:
            replaced = self.replace_suggestions(suggestion_source(method, stream), segs, f"Suggest {len(segs)} ({method})")
            if segs:
                self.message.emit(f"{len(segs)} suggestion(s) from {method} on {stream}{custom}{replaced}")
            elif tips := self.suggest_settings.empty_hint(method):
                self.message.emit(f"0 suggestions from {method} on {stream}{custom}{replaced}; in Suggest ▾ → Settings… try {tips}")
            else:
                hint = describe_segments([], method=method).removeprefix("0 suggestions")
                self.message.emit(f"0 suggestions from {method} on {stream}{replaced}; from the command line "
                                  f"`sensorlab labels suggest`{hint}")

        self.runner.run(f"suggest {method} on {stream}", _suggest, self.session.streams[stream], method, params, on_done=done)

    def replace_suggestions(self, source: str, segs, title: str) -> str:
        """``segs`` replace the unreviewed suggestions of ``source`` as one undoable step titled ``title``
        (none when there is nothing to remove or add); returns ``", replacing N from the previous run"`` or ``""``.

        The same `ReplaceSuggestions` that ``sensorlab labels suggest`` and ``predict --suggest`` apply to the sidecar.
        """
        from sensorlab.labeling.suggestions import ReplaceSuggestions

        step = ReplaceSuggestions(source, segs, title, SUGGESTION_TIER)
        if step.changes(self.annotations) and self.annotation_view.push(step):
            return step.replaced_note
        return ""


def _suggest(stream: StreamReader, method: str, params: dict):
    """Worker thread: run a suggestion method over a stream with ``params``, yielding percentages."""
    from sensorlab.labeling.suggest_stream import iter_suggest_for_stream

    gen = iter_suggest_for_stream(stream, method, **params)
    while True:
        try:
            p = next(gen)
        except StopIteration as stop:
            return stop.value or []
        yield f"{p:.0%}"


__all__ = ["SuggestActions"]
