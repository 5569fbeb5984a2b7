"""`LabelingView`: open a recorded session and annotate it on one synchronized timeline.

Layout: a top bar (label legend with hotkeys, active tier, snap, play, suggest), the
`Timeline` (audio envelope + spectrogram, every time series, event streams such as recorded
predictions, then one lane per annotation tier) and a side column (video and frame streams
at the cursor, undo history). Keys (all go through the `UndoStack`; autosaved after each):

====================  ==========================================================
1–9                   relabel the selection / accept a suggestion as that label;
                      else, while playing, start/stop a span; else a point at the cursor
Space                 play / pause (audio through sounddevice, or silent)
← / →  (Shift: ×10)   step the cursor by 1 % of the visible span
Ctrl+Z, Ctrl+Shift+Z  undo, redo (also Ctrl+Y)
Delete / Backspace    delete the selection
S                     split the selection (or the segment under the cursor) at the cursor
M                     merge the selection with the next segment of its tier
A / R                 accept / reject the selected (or next) suggestion, then go to the next
N / P                 next / previous label: cursor to its start, selected
+ / -, 0              zoom in / out around the cursor, whole session
Escape                clear the selection
====================  ==========================================================

The session file is only read. Annotations live in the sidecar (`labeling.store`; labels
another program adds to it show within a second, `sidecar_watch.py`), the min/max pyramid in
its own cache (`session.pyramid`), built in a worker on first open. Frame previews are
`frame_preview.py`; which track shows which stream `stream_tracks.py`; onset snapping and the
built-in suggestions `suggest_actions.py`.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QHBoxLayout, QLabel, QMenu, QProgressBar, QSizePolicy, QSplitter, QToolButton, QVBoxLayout,
    QWidget,
)

from sensorlab.acquisition.source import StreamKind
from sensorlab.app.labeling.annotation_view import AnnotationView
from sensorlab.app.labeling.frame_preview import FramePreview
from sensorlab.app.labeling.history_view import HistoryView
from sensorlab.app.labeling.keys import KeyHandler
from sensorlab.app.labeling.lanes import source_name
from sensorlab.app.labeling.model_suggest import ModelSuggest
from sensorlab.app.labeling.playback import Playback
from sensorlab.app.labeling.sidecar_watch import SidecarWatch
from sensorlab.app.labeling.suggest_actions import SuggestActions
from sensorlab.app.labeling.suggest_settings import SuggestSettings
from sensorlab.app.labeling.timeline import Timeline
from sensorlab.app.labeling.stream_tracks import build_timeline
from sensorlab.app.common.window_size import replace_first
from sensorlab.app.common.workers import TaskRunner
from sensorlab.labeling.annotations import DEFAULT_TIER, LIVE_TIER
from sensorlab.labeling.session_labels import read_annotations as open_session_annotations
from sensorlab.labeling.commands import UndoStack
from sensorlab.labeling.labelset import LabelSet
from sensorlab.labeling.session_labelset import remember_labelset, session_labelset
from sensorlab.labeling.store import autosaver, sidecar_path
from sensorlab.labeling.suggest import SUGGESTION_TIER
from sensorlab.labeling.timebase import format_offset
from sensorlab.session.pyramid import Pyramid
from sensorlab.session.reader import Session

log = logging.getLogger(__name__)

#: Key hints shown once, on the position line, while a segment (or a suggestion) is selected.
SELECTION_HINT = "1–9 relabel · S split · M merge · Del delete"
SUGGESTION_HINT = "suggestion: A accept · R reject · 1–9 accept as label"
#: Timeline and side column (frames, History) widths, in proportion: 390 px of a 1400 px window.
SPLIT_SIZES = [1000, 390]


def _remember(annotations, labels: LabelSet, *_changed) -> None:
    remember_labelset(annotations, labels)


def find_labelset(session_path: Path) -> tuple[LabelSet | None, Path | None]:
    """The project's label set: ``labels.toml`` next to the session or one folder up."""
    for folder in (session_path.parent, session_path.parent.parent):
        p = folder / LabelSet.FILENAME
        if p.exists():
            return LabelSet.load(p), p
    return None, None


class LabelingView(SuggestActions, QWidget):
    """Label one session file.

    Parameters
    ----------
    path
        The ``.h5`` session.
    labels
        The project's label set (default: `find_labelset`, else built from the labels in use).
    play_audio
        False plays silently even when an output device exists (tests).
    settings
        Where the last model of Suggest ▾ → From a model… is remembered (default: the user's).

    Signals
    -------
    session_ready()
        Tracks are built and drawn (after the pyramid was built in a worker if needed).
    message(text)
        One line for the status bar.
    """

    session_ready = Signal()
    message = Signal(str)

    def __init__(self, path: str | Path, labels: LabelSet | None = None, *, play_audio: bool = True, settings=None, parent=None):
        super().__init__(parent)
        self.path = Path(path)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.session = Session.open(self.path)
        self.annotations = open_session_annotations(self.path)
        self.labels_path: Path | None = None
        if labels is None:
            labels, self.labels_path = find_labelset(self.path)
        if labels is None:
            # The keys the session was labeled (or recorded) with, kept in its sidecar; else
            # built from its labels (`session_labelset`).
            labels = session_labelset(self.annotations)
        self.labels = labels
        # Saved with the annotations (at the next edit), so reopening gives the same keys.
        remember_labelset(self.annotations, labels)
        keep = functools.partial(_remember, self.annotations, labels)  # not the view: the studio's set outlives it
        for sig in (labels.label_added, labels.label_changed, labels.label_removed):
            sig.connect(keep)
        autosave = autosaver(sidecar_path(self.path), session=self.path.name)
        self.stack = UndoStack(self.annotations, autosave=autosave)
        self.stack.autosave_failed.connect(lambda m: self.message.emit(f"AUTOSAVE FAILED: {m}"))
        self.tier = next((t for t in self.annotations.tier_names if t not in (LIVE_TIER, SUGGESTION_TIER)), DEFAULT_TIER)
        self.pyramid: Pyramid | None = None
        self.timeline: Timeline | None = None
        self.annotation_view: AnnotationView | None = None
        self.previews: list[FramePreview] = []
        self.runner = TaskRunner(self)
        self.runner.failed.connect(lambda title, m: self.message.emit(f"{title} failed: {m}"))
        self.runner.progress.connect(self._on_progress)
        self.open_spans: dict[int, float] = {}  # hotkey → start time of a span being recorded
        self.keys = KeyHandler(self)
        self.model_suggest = ModelSuggest(self, settings)  # Suggest ▾ → From a model… (model_suggest.py)
        self.suggest_settings = SuggestSettings(self.model_suggest.settings)  # Suggest ▾ → Settings… (suggest_settings.py)
        self._build_frame()
        self.message.connect(self.status.setText)
        self.sidecar_watch = SidecarWatch(self.annotations, autosave, self, message=self.message.emit, stack=self.stack)
        audio = next((s for s in self.session.streams.values() if s.info.kind is StreamKind.AUDIO and s.count), None)
        self.playback = Playback(audio, self._extent()[1], use_device=play_audio, parent=self)
        self.playback.position.connect(self._on_play_position)
        self.playback.state_changed.connect(self._on_play_state)
        pyr = Pyramid(self.session)
        if pyr.is_valid():
            self._on_pyramid(Pyramid.open(self.session))
        else:
            self.runner.run("building the overview cache", Pyramid.iter_open_text, self.session, on_done=self._on_pyramid)

    # -- building -------------------------------------------------------------------------------
    def _session_start(self) -> float:
        """Host time shown as 0: the session start (its earliest sample if the file lacks it)."""
        s = self.session
        firsts = [st.first_time for st in s.streams.values() if st.count]
        return float(s.metadata.start_host_time if s.metadata.start_host_time is not None else min(firsts, default=0.0))

    def _extent(self) -> tuple[float, float]:
        """First and last sample times: the first is before the start in a recording with a
        pre-roll, which a timeline starting at the start could neither show nor label."""
        s = self.session
        start = min([self._session_start(), *(st.first_time for st in s.streams.values() if st.count)])
        end = max((st.last_time for st in s.streams.values() if st.count), default=start + 1.0)
        if s.metadata.end_host_time is not None:
            end = max(end, s.metadata.end_host_time)
        return float(start), float(end)

    def _build_frame(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.legend = QLabel()
        bar.addWidget(self.legend)
        bar.addStretch(1)
        bar.addWidget(QLabel("tier:"))
        self.tier_box = QComboBox(editable=True)
        self.tier_box.setToolTip("Tier of segments made with keys (dragging in a lane uses that lane's tier)")
        self.tier_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        # Tier names arrive after the first show (the session opens in a worker): size the
        # box to them every time, or "suggestions" shows as its clipped tail.
        self.tier_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.tier_box.currentTextChanged.connect(self._set_tier)
        # A tier name typed in the box gets its lane once typed (not one lane per keystroke).
        self.tier_box.lineEdit().editingFinished.connect(self._ensure_tier_lane)
        bar.addWidget(self.tier_box)
        self.snap_box = QCheckBox("snap to onsets")
        self.snap_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.snap_box.toggled.connect(lambda _on: self._update_snap())
        bar.addWidget(self.snap_box)
        self.suggest_button = QToolButton(text="Suggest ▾")
        self.suggest_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.suggest_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.suggest_button.setMenu(QMenu(self.suggest_button))
        bar.addWidget(self.suggest_button)
        self.play_button = QToolButton(text="▶ Play")
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.play_button.clicked.connect(lambda: self.toggle_play())
        bar.addWidget(self.play_button)
        lay.addLayout(bar)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.placeholder = QLabel("opening…", alignment=Qt.AlignmentFlag.AlignCenter)
        self.splitter.addWidget(self.placeholder)
        self.side = QWidget()
        side = QVBoxLayout(self.side)
        side.setContentsMargins(0, 0, 0, 0)
        self.previews_box = QVBoxLayout()
        side.addLayout(self.previews_box, 3)
        side.addWidget(QLabel("<b>History</b>"))
        self.history = HistoryView(self.stack)
        side.addWidget(self.history, 2)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes(SPLIT_SIZES)  # from the first paint (placeholder and History took halves)
        lay.addWidget(self.splitter, 1)
        bottom = QHBoxLayout()
        self.position_label = QLabel()
        self.position_label.setMinimumWidth(260)
        bottom.addWidget(self.position_label)
        self.status = QLabel()  # transient messages only; the key hints are on the position line
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.status.setStyleSheet("color: #ffd54f")
        # A long message (e.g. the hint after an empty suggestion run) wraps instead of
        # widening the window past the screen and pushing the top bar's buttons off it.
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bottom.addWidget(self.status, 1)
        self.progress = QProgressBar(maximumWidth=200, maximum=0, visible=False)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.model_suggest.cancel_button)
        lay.addLayout(bottom)
        self._update_legend()
        self._update_tiers()  # the active tier shows while the session opens, not an empty box

    def _on_progress(self, text: str) -> None:
        """A worker's progress goes to the status line; "" (nothing runs any more) only hides
        the busy bar: the task's own result message, emitted just before, must stay visible."""
        if text:
            self.progress.show()
            self.message.emit(text)
        else:
            self.progress.hide()

    def _on_pyramid(self, pyramid: Pyramid) -> None:
        if self.session is None:  # closed while the cache was being built
            pyramid.close()
            return
        self.pyramid = pyramid
        self.progress.hide()
        self.message.emit("")  # the cache build's progress line is done with
        begin, end = self._extent()
        start = self._session_start()
        tl, previews = build_timeline(self.session, pyramid, begin, end, start, lambda label: self.labels.color_of(label))
        self.timeline = tl
        for p in previews:
            self.previews.append(p)
            self.previews_box.addWidget(p, 1)
        av = AnnotationView(self.annotations, self.stack, self.labels, tl, parent=self)
        self.annotation_view = av
        av.message.connect(self.message.emit)
        av.ensure_lane(self.tier)  # the tier keys label in, ready for a drag
        # Clicking a suggestion does not make "suggestions" the labeling tier: keys 1–9 would
        # then put new labels (and accepted suggestions) among the unreviewed ones.
        av.tier_activated.connect(lambda t: None if t == SUGGESTION_TIER else self._set_tier(t))
        av.selection_changed.connect(lambda _sid: self._update_position())
        av.menu_requested.connect(self.suggestion_menu)
        self.annotations.tier_added.connect(lambda _t: self._update_tiers())
        # The position line shows the selection's label and times: redraw it when an edit
        # (relabel, move, undo) changes the model, not only when the selection changes.
        for sig in (self.annotations.segment_changed, self.annotations.segment_removed, self.annotations.reset):
            sig.connect(self._on_model_changed)
        self._update_tiers()
        self._fill_suggest_menu()
        replace_first(self.splitter, tl, SPLIT_SIZES)  # in the placeholder's place, at its width
        tl.cursor_moved.connect(self._on_cursor)
        tl.settled.connect(lambda *_: self._update_snap())
        tl.show_all()
        tl.refresh(settle=False)  # spectrogram and annotation items right after the first paint
        # The video frame at the cursor, too: it reads every frame's time and decodes a JPEG
        # (0.2–0.3 s of opening a 10-hour session with a camera).
        tl.set_cursor(start, emit=False)
        tl.first_painted.connect(lambda: self._on_cursor(tl.cursor))
        self.setFocus()
        self.session_ready.emit()

    def _update_legend(self) -> None:
        parts = [f"<span style='background:{lab.color};color:#000'>&nbsp;{lab.hotkey or '·'}&nbsp;</span>&nbsp;{lab.name}"
                 for lab in self.labels]
        self.legend.setText("&nbsp;&nbsp;".join(parts))

    def _update_tiers(self) -> None:
        names = self.annotations.tier_names
        if self.tier not in names:
            names = [*names, self.tier]
        self.tier_box.blockSignals(True)
        self.tier_box.clear()
        self.tier_box.addItems(names)
        self.tier_box.setCurrentText(self.tier)
        self.tier_box.blockSignals(False)
        self.tier_box.setMinimumWidth(self.tier_box.sizeHint().width())  # never squeezed by the legend

    def _ensure_tier_lane(self) -> None:
        if self.annotation_view is not None and self.tier and self.tier != SUGGESTION_TIER:
            self.annotation_view.ensure_lane(self.tier)

    def _set_tier(self, tier: str) -> None:
        if tier and tier != self.tier:
            self.tier = tier
            self.tier_box.blockSignals(True)
            self.tier_box.setCurrentText(tier)
            self.tier_box.blockSignals(False)

    # -- cursor, playback -------------------------------------------------------------------------
    @property
    def cursor(self) -> float:
        return self.timeline.cursor if self.timeline else self._session_start()

    def _on_cursor(self, t: float) -> None:
        if self.session is None:  # closed: a queued first paint or cursor move reads nothing
            return
        for p in self.previews:
            p.show_at(t)
        self._update_position()

    def _on_model_changed(self, *_) -> None:
        if self.session is not None:
            self._update_position()

    def _update_position(self) -> None:
        if self.timeline is None:
            return
        o = self.timeline.origin
        text = f"cursor {format_offset(self.cursor - o)}"
        av = self.annotation_view
        if av and av.selected and av.selected in self.annotations:
            s = self.annotations[av.selected]
            span = format_offset(s.start - o) + ("" if s.is_point else f"–{format_offset(s.end - o)}")
            what = f"? {s.label} from {source_name(s.source)}" if s.suggested else s.label  # which model's, as its lane says
            text += f"  ·  selected: {what} [{s.tier}] {span}  ·  "
            text += SUGGESTION_HINT if s.suggested else SELECTION_HINT
        self.position_label.setText(text)

    def toggle_play(self) -> None:
        self.playback.toggle(self.cursor)

    def _on_play_position(self, t: float) -> None:
        self.timeline.set_cursor(t)
        t0, t1 = self.timeline.view_range
        if t > t1 or t < t0:  # page-flip rather than scroll every frame: cheaper and easier to read
            self.timeline.set_view(t - 0.02 * (t1 - t0), t + 0.98 * (t1 - t0))

    def _on_play_state(self, playing: bool) -> None:
        self.play_button.setText("❚❚ Pause" if playing else "▶ Play")
        if self.playback.note:
            self.message.emit(self.playback.note)
        if not playing:
            self.keys.end_open_spans()  # after the note: its message is the one to read

    # -- keys ---------------------------------------------------------------------------------
    def keyPressEvent(self, ev):  # noqa: N802 - Qt override
        if self.timeline is None or not self.keys.handle(ev):
            super().keyPressEvent(ev)

    def close_session(self) -> None:
        """Stop playback and release the files (the sidecar is already saved). Idempotent."""
        if self.session is None:
            return
        self.playback.stop()
        self.sidecar_watch.stop()
        if self.timeline is not None:
            self.timeline.stop()
        if self.annotation_view is not None:
            self.annotation_view.disconnect_model()
            for sig in (self.annotations.segment_changed, self.annotations.segment_removed, self.annotations.reset):
                sig.disconnect(self._on_model_changed)
        self.model_suggest.close()
        self.runner.wait(10_000)
        if self.pyramid is not None:
            self.pyramid.close()
        self.session.close()
        self.session = None

    def closeEvent(self, ev):  # noqa: N802
        self.close_session()
        super().closeEvent(ev)


__all__ = ["FramePreview", "LabelingView", "find_labelset"]  # FramePreview: frame_preview.py
