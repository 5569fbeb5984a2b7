"""Recording from the studio window: Record / Stop and live labels (`RecordingControl`, a mixin
of `MainWindow`).

Starting and stopping are `Studio.start_recording` / `stop_recording` on a worker thread (the
studio includes the pre-roll and saves the live labels as the session's sidecar), so the
window stays responsive while a file is created or flushed; the Record button is disabled in
between so a second press cannot race the first. A live-label gesture (`LabelBar`) becomes a
marker on the plots and a `Studio.add_label` call; pressed while not recording, it is shown
and not saved, and the status bar says so. One pressed after Record while the file is being
created (seconds on a busy machine; the button already says Stop) is kept and stored as soon
as the recording runs. A recording that stops by itself (the disk is full,
the writer failed) is closed as if Stop had been pressed.
"""

from __future__ import annotations

import json

from sensorlab.app.common import workers


class RecordingControl:
    """Mixin for `MainWindow`. Uses the window's ``studio``, ``session_form``, ``label_bar``,
    ``live_view``, ``health_view``, ``sessions_view``, ``record_button``, ``rig_text``, ``tasks``,
    ``recording_started`` / ``recording_stopped``, ``post``, ``show_error`` and (from
    `StudioActions`) ``_set_record_button``."""

    @property
    def recording(self) -> bool:
        return self.studio.recording

    def toggle_recording(self) -> None:
        if not self.studio.recording:
            self.start_recording()
        else:
            self.stop_recording()

    def start_recording(self) -> None:
        """Start a recording of the running rig into the form's next path (worker thread)."""
        if self.studio.recording or not self.studio.streams or not self.record_button.isEnabled():
            return
        path = self.session_form.next_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            self.show_error(f"cannot create the sessions folder {path.parent}: {e.strerror}")
            return
        metadata = self.session_form.metadata(self.rig_text)
        self._set_record_button(recording=True)
        self.record_button.setEnabled(False)
        self._labels_while_starting = []
        self.tasks.run("Starting recording", workers.start_recording, self.studio, path, metadata,
                       on_done=self._on_recording_started, on_error=self._on_recording_start_failed)  # fmt: skip

    #: (time, label event) pressed after Record, before the file was ready; None when not starting.
    _labels_while_starting: list[tuple[float, str]] | None = None

    def _on_recording_started(self, path: str) -> None:
        pending, self._labels_while_starting = self._labels_while_starting or [], None
        for t, text in pending:
            self.studio.add_label(text, t)
        if self.health_view is not None:
            self.health_view.set_recorder(self.studio.recorder)
        self.record_button.setEnabled(True)
        self.post(f"recording to {path}")
        self.recording_started.emit(path)

    def _on_recording_start_failed(self, message: str) -> None:
        self._labels_while_starting = None
        self._set_record_button(recording=False)
        self.record_button.setEnabled(True)

    #: True from Stop until the file is saved (the Record button is disabled meanwhile).
    _saving = False

    def stop_recording(self) -> None:
        """Close open label spans, then flush and close the file (worker thread)."""
        recorder = self.studio.recorder
        if recorder is None:
            return
        self._saving = True
        self.label_bar.close_open_spans()
        self.record_button.setEnabled(False)
        self.record_button.setText("saving…")
        self.tasks.run("Saving session", workers.stop_recording, self.studio,
                       on_done=self._on_recording_stopped, on_error=lambda msg: self._on_recording_stopped(str(recorder.path)))

    def _on_recording_stopped(self, path: str) -> None:
        self._saving = False
        if self.health_view is not None:
            self.health_view.set_recorder(None)
        self._set_record_button(recording=False)
        self.record_button.setEnabled(self.acquisition is not None and bool(self.acquisition.streams))
        self.post(f"saved {path}")
        self.sessions_view.refresh()
        self.recording_stopped.emit(path)

    def _on_record_refused(self) -> None:
        """Ctrl+R while Record / Stop is disabled (`RecordButton`): say why, and when it works."""
        if self._labels_while_starting is not None:
            text = "Ctrl+R not taken: the recording is still starting (creating its file); press Ctrl+R to stop once the button says Stop"
        elif self._saving:
            text = "Ctrl+R not taken: the last recording is still being saved; press Ctrl+R again once the button says Record"
        else:
            text = "Ctrl+R not taken: no device is open to record from; open them with Devices…"
        self.post(text)

    def _on_label_event(self, t: float, text: str) -> None:
        msg = json.loads(text)
        color = self.label_bar.labels.color_of(msg["label"])
        if self.live_view is not None:
            tag = {"start": "▶", "stop": "■"}.get(msg["type"], "")
            self.live_view.add_marker(t, f"{tag}{msg['label']}", color)
        if self._labels_while_starting is not None:  # Record pressed, the file is not ready yet
            self._labels_while_starting.append((t, text))
            return
        try:
            stored = self.studio.add_label(text, t)
        except ValueError as e:
            self.show_error(f"label not saved: {e}")
            return
        if not stored:
            self.statusBar().showMessage(f"label {msg['label']} ({msg['type']}) shown, not saved: not recording", 3000)

    def _on_recording_failed(self, stream: str, message: str) -> None:
        if stream:
            # True while this recording runs; one that is over already (a device lost and not
            # back when it stopped) is a notice: the device may come back meanwhile.
            rec = self.recorder if self.studio.recording else None
            self.show_error(f"recording of {stream} stopped: {message} (the other streams keep recording)",
                            None if rec is None else (lambda: self.recorder is not rec or not self.studio.recording))  # fmt: skip
            return
        self.show_error(f"the recording stopped: {message}", lambda: self.studio.recording)  # until a recording runs again
        if self.recorder is not None and self.record_button.isEnabled():
            self.stop_recording()  # closes what was written and resets the button


__all__ = ["RecordingControl"]
