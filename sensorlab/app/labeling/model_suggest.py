"""Model-assisted labeling in the labeling window: Suggest ▾ → From a model… / the demo model.

The model runs through `sensorlab.inference.offline.iter_predict` — the function behind
``sensorlab predict MODEL SESSION --suggest`` — on a worker of the view's `TaskRunner`, so
the segments are exactly the command's: same windows, same threshold (0.5), same labels,
source ``model:<file>``. Only the last step differs: the command writes the labels sidecar,
the window adds the segments as one undoable step of its `UndoStack` (which autosaves), since
it holds the sidecar open and would otherwise overwrite the command's write on its next save.
Like the command, a run replaces that model's unreviewed suggestions and writes the
predictions beside the session (``run1.predictions.h5``); the recording is only read.

A model mapped to a stream the session lacks (``imu`` for a session that calls it ``accel``)
asks which stream to run on instead, offering only the streams the model can read (kind,
rate and channels as the live view checks them): the command's ``--stream NAME``.

Cancel stops at the next block (30 s of the stream), adds nothing and removes the partial
predictions file. The last model chosen in the file dialog is remembered in the settings.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QToolButton

import sensorlab

if TYPE_CHECKING:
    from sensorlab.app.labeling.view import LabelingView

#: Settings key of the last model picked in the file dialog.
LAST_MODEL_KEY = "labeling/last_model"
#: Settings key of the stream last chosen for a model whose own stream a session lacks.
LAST_STREAM_KEY = "labeling/last_model_stream"


@dataclass
class StreamChoice:
    """The session lacks the model's stream ``wanted``; ``fits`` are the streams it can run on."""

    wanted: str
    fits: list[str]
    streams: list[str]


def _stream_choice(model: Path, session: Path) -> StreamChoice | None:
    """None when the session has the model's stream; else the streams the model could read.

    A stream fits when the processor the run would use opens on it (the live view's checks:
    a regular audio or timeseries stream with the mapping's channels)."""
    from sensorlab.inference.engine import InferenceProcessor
    from sensorlab.inference.model import LoadedModel
    from sensorlab.session.reader import Session

    lm = LoadedModel(model)  # a model that cannot load fails here with its own message
    wanted = InferenceProcessor(lm).input
    with Session.open(session) as s:
        infos = {n: r.info for n, r in s.streams.items()}
    if wanted in infos:
        return None
    fits = []
    for name in sorted(infos):
        try:
            InferenceProcessor(lm, input=name).open(infos)
        except Exception:  # SourceError and the like: the model cannot read this stream
            continue
        fits.append(name)
    return StreamChoice(wanted, fits, sorted(infos))


def _predict(model: Path, session: Path, cancel: threading.Event, stream: str = "", params: dict | None = None) -> Generator[str, None, Any]:
    """Worker thread: `iter_predict` with suggestions returned, not saved; None when cancelled,
    a `StreamChoice` when no ``stream`` is given and the session lacks the model's."""
    from sensorlab.inference.offline import PredictProgress, iter_predict, predictions_path

    if not stream:
        choice = _stream_choice(model, session)
        if choice is not None:
            return choice
    gen = iter_predict(model, session, stream=stream, suggest=True, save_suggestions=False, **(params or {}))
    result = None
    try:
        for item in gen:
            if cancel.is_set():
                break
            if isinstance(item, PredictProgress):
                yield f"{item.fraction:.0%} · {item.windows} windows"
            else:
                result = item
    finally:
        gen.close()  # runs its `finally`: the predictions file is closed before it is removed
    if cancel.is_set():
        predictions_path(session).unlink(missing_ok=True)  # partial: not left looking complete
        return None
    return result


class ModelSuggest(QObject):
    """The model entries of a `LabelingView`'s Suggest menu and the runs they start.

    ``cancel_button`` sits beside the view's busy bar and shows while a model runs.
    """

    def __init__(self, view: LabelingView, settings: QSettings | None = None):
        super().__init__(view)
        self.view = view
        self.settings = settings if settings is not None else QSettings("sensorlab", "sensorlab")
        self.cancel_button = QToolButton(text="Cancel")
        self.cancel_button.setToolTip("Stop the model; nothing is added")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self._cancel: threading.Event | None = None
        self.last_action: QAction | None = None

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def add_actions(self, menu: QMenu) -> None:
        # The demo model's path without importing sensorlab.inference: that package pulls in
        # SciPy (~5 s on a slow machine), which opening a session must not wait for. It is
        # imported when a model actually runs.
        demo_model = Path(sensorlab.__file__).resolve().parent / "resources" / "models" / "demo_clap.onnx"

        menu.addSeparator()
        menu.addAction("From a model…", self.ask_model)
        self.last_action = menu.addAction("", lambda: self.run(Path(str(self.settings.value(LAST_MODEL_KEY, "")))))
        self._update_last_action()
        if demo_model.exists():
            menu.addAction("Demo model (clap detector on imu)", lambda: self.run(demo_model, remember=False))

    def _update_last_action(self) -> None:
        last = str(self.settings.value(LAST_MODEL_KEY, "") or "")
        if self.last_action is not None:
            self.last_action.setText(f"Model {Path(last).name} again" if last else "")
            self.last_action.setToolTip(last)
            self.last_action.setVisible(bool(last) and Path(last).is_file())

    def ask_model(self) -> QFileDialog:
        """Open the file dialog (non-blocking); choosing a file runs it. Returns the dialog."""
        last = str(self.settings.value(LAST_MODEL_KEY, "") or "")
        folder = str(Path(last).parent) if last else str(self.view.path.parent)
        dialog = QFileDialog(self.view, "Suggest segments from a model", folder, "Models (*.onnx *.tflite)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        if last:
            dialog.selectFile(last)
        dialog.fileSelected.connect(lambda p: p and self.run(Path(p)))
        dialog.open()
        return dialog

    def run(self, model: Path, *, remember: bool = True, stream: str = "") -> None:
        """Run ``model`` over the session on a worker (on ``stream``, default the model's own);
        its suggestions are added when it ends."""
        v = self.view
        if self.running:
            v.message.emit("a model is already running: wait for it or press Cancel")
            return
        if remember:  # remembered even if it fails: the fix (a mapping beside it) is retried in one click
            self.settings.setValue(LAST_MODEL_KEY, str(model))
            self._update_last_action()
        cancel = self._cancel = threading.Event()
        self.cancel_button.show()
        v.progress.setMaximum(100)
        v.progress.setValue(0)
        params = v.suggest_settings.params("model")  # Suggest ▾ → Settings…: threshold, min_duration
        worker = v.runner.run(f"model {model.name}", _predict, model, v.path, cancel, stream, params,
                              on_done=lambda r: self._done(model, r, cancel), on_error=lambda _m: self._ended())  # fmt: skip
        worker.yielded.connect(lambda text: v.progress.setValue(int(text.split("%")[0])) if "%" in text else None)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.view.message.emit("cancelling…")

    def _ended(self) -> None:
        self._cancel = None
        self.cancel_button.hide()
        self.view.progress.setMaximum(0)  # back to the busy bar of the other tasks

    def _done(self, model: Path, result, cancel: threading.Event) -> None:
        from sensorlab.inference.offline import model_source, predictions_path

        self._ended()
        v = self.view
        if v.session is None or v.annotation_view is None:
            return
        if isinstance(result, StreamChoice):
            self.ask_stream(model, result)
            return
        if result is None or cancel.is_set():  # cancelled, perhaps after the worker had finished
            predictions_path(v.path).unlink(missing_ok=True)
            v.message.emit(f"model {model.name} cancelled: no suggestions added")
            return
        segs = result.segments
        replaced = v.replace_suggestions(model_source(model), segs, f"Suggest {len(segs)} ({model.name})")
        if segs:
            per = {}
            for s in segs:
                per[s.label] = per.get(s.label, 0) + 1
            labels = ", ".join(f"{k} {n}" for k, n in per.items())
            v.message.emit(f"{len(segs)} suggestion(s) from {model.name} ({labels}; {result.windows} windows){replaced}"
                           f" · A accept · R reject")  # fmt: skip
        else:
            p = v.suggest_settings.value("model", "threshold")
            # How far to lower it: the most probable window of a label (a foreign model's top class
            # may never pass 0.5), or that the model saw only background. Short: beside a
            # selection's position line a longer one wrapped past the status bar's height.
            if result.strongest is None:
                why = "every window's top class is background"
            elif result.strongest[1] < p:
                why = (f"no window of a label reached P {p:g} (the most probable: {result.strongest[0]} at {result.strongest[1]:.2f}); "
                       "lower Minimum probability in Suggest ▾ → Settings…")  # fmt: skip
            else:
                why = f"every run of windows above P {p:g} is shorter than the minimum length; lower it in Suggest ▾ → Settings…"
            v.message.emit(f"0 suggestions from {model.name} ({result.windows} windows){replaced}: {why}")

    def ask_stream(self, model: Path, choice: StreamChoice) -> QInputDialog | None:
        """The session lacks the model's stream: ask for one it can read (non-blocking); choosing
        runs the model on it. Returns the dialog, or None (and a message) when no stream fits."""
        v = self.view
        lead = f"{v.path.name} has no stream {choice.wanted!r}, which {model.name} is mapped to"
        if not choice.fits:
            v.message.emit(f"{lead}, and none of its streams ({', '.join(choice.streams)}) suits the model; "
                           f"map it to one with the mapping file beside it ({model.stem}.mapping.json, 'stream')")  # fmt: skip
            return None
        v.message.emit(f"{lead}: choose a stream to run it on")
        dialog = QInputDialog(v)
        dialog.setWindowTitle(f"Run {model.name} on…")
        dialog.setLabelText(f"{lead}.\nRun it on (streams the model can read):")
        dialog.setComboBoxItems(choice.fits)
        dialog.setComboBoxEditable(False)
        last = str(self.settings.value(LAST_STREAM_KEY, "") or "")
        dialog.setTextValue(last if last in choice.fits else choice.fits[0])
        dialog.setOkButtonText("Run")
        dialog.textValueSelected.connect(lambda name: self._run_on(model, name))
        dialog.open()
        return dialog

    def _run_on(self, model: Path, stream: str) -> None:
        self.settings.setValue(LAST_STREAM_KEY, stream)
        self.run(model, remember=False, stream=stream)

    def close(self) -> None:
        """The view closes: stop a running model (the runner waits for its worker)."""
        if self._cancel is not None:
            self._cancel.set()


__all__ = ["LAST_MODEL_KEY", "LAST_STREAM_KEY", "ModelSuggest", "StreamChoice"]
