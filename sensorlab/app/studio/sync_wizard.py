"""The studio's "Clap to sync" dialog: measure each stream's offset before recording.

Steps: the user claps a few times where every sensor sees it while the dialog listens to the
running rig for `LISTEN_SECONDS` (`sensorlab.session.calibration.ClapCapture`: the Qt-free
core does the work; the dialog only polls it on a timer and shows the result), reads the
offsets, and clicks "Use for next recording". The offsets are then stored for the next
session that stops: `PendingSync` writes them into its ``run1.sync.json`` sidecar
(`sensorlab.session.sync_offsets`) once the file is closed, so the recording itself is never
rewritten, and `sensorlab sync SESSION --undo` takes them back.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QProgressBar, QPushButton, QVBoxLayout

from sensorlab.acquisition.clock import now
from sensorlab.session import sync_offsets
from sensorlab.session.calibration import Calibration, ClapCapture
from sensorlab.studio import Studio

#: Seconds the dialog listens for claps.
LISTEN_SECONDS = 6.0
#: How often the live rings are drained (ms): keeps the rings, and memory, small.
POLL_MS = 200

#: In the order a user acts; the button is named as it reads ("Press Start" named no button).
INSTRUCTIONS = (
    "Press Start listening, then clap sharply 3–4 times, about 1.5 s apart, where the camera sees "
    "your hands, the microphone hears them and the IMU is on the table (or tap the IMU board; "
    "flash a light for the camera)."
)


class PendingSync:
    """Offsets measured before recording, stored into the next session when it is closed.

    Connected to `Studio.recording_stopped` (worker thread): writes the sidecar, reports it
    with `Studio.message`, and disconnects itself — it belongs to one recording only.
    """

    def __init__(self, studio: Studio, calibration: Calibration):
        self.studio = studio
        self.calibration = calibration
        self._lock = threading.Lock()
        self.applied_to: str | None = None
        studio.recording_stopped.connect(self._on_stopped)

    def cancel(self) -> None:
        self.studio.recording_stopped.disconnect(self._on_stopped, missing_ok=True)

    def _on_stopped(self, path: str) -> None:
        with self._lock:
            if self.applied_to is not None:
                return
            self.applied_to = path
        self.cancel()
        cal = self.calibration
        try:
            where = sync_offsets.apply(path, cal.as_dict(), cal.reference, "clap to sync before recording", cal.details())
        except (OSError, ValueError) as e:
            self.studio.problem.emit(f"clap-to-sync offsets could not be stored for {path} ({e}); run `sensorlab sync {path}`")
            return
        self.studio.message.emit(f"clap-to-sync offsets stored in {where} (`sensorlab sync {path} --undo` reverts)")


class ClapSyncDialog(QDialog):
    """Listen for claps on the running rig, show the offsets, keep them for the next recording."""

    def __init__(self, studio: Studio, parent=None, seconds: float = LISTEN_SECONDS):
        super().__init__(parent)
        self.setWindowTitle("Clap to sync")
        self.studio = studio
        self.seconds = seconds
        self.capture: ClapCapture | None = None
        self.calibration: Calibration | None = None
        self.pending: PendingSync | None = None
        self._t_end = 0.0
        self.intro = QLabel(INSTRUCTIONS, wordWrap=True)
        self.start_button = QPushButton("Start listening")
        self.start_button.clicked.connect(self.start)
        self.start_button.setDefault(True)  # Enter starts listening: hands free to clap
        self.progress = QProgressBar(maximum=1000, textVisible=False)
        self.result = QPlainTextEdit(readOnly=True)
        self.result.setPlaceholderText("offsets appear here")
        self.buttons = QDialogButtonBox()
        self.use_button = self.buttons.addButton("Use for next recording", QDialogButtonBox.ButtonRole.AcceptRole)
        self.use_button.setEnabled(False)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        for w in (self.intro, self.start_button, self.progress, self.result, self.buttons):
            lay.addWidget(w)
        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self._tick)
        self.resize(560, 360)
        self.start_button.setFocus()

    def start(self) -> None:
        """Listen to the running streams for `seconds` (GUI thread)."""
        acq = self.studio.acquisition
        if acq is None or not acq.streams:
            self.result.setPlainText("no device is running: open a rig (Devices…) first")
            return
        if self.studio.recording:
            self.result.setPlainText("a recording is running: clap to sync before the next one, or run `sensorlab sync` on the file")
            return
        self._stop_capture()
        self.capture = ClapCapture(acq, self.seconds)
        if not self.capture.infos:
            self._stop_capture()
            self.result.setPlainText("no running stream can show a clap (a microphone, an accelerometer with an ax channel, a camera or a radar)")
            return
        self.use_button.setEnabled(False)
        self.start_button.setEnabled(False)
        self.result.setPlainText("listening… clap now")
        self._t_end = now() + self.seconds
        self.timer.start()

    def _tick(self) -> None:
        if self.capture is None:
            return
        self.capture.poll()
        left = self._t_end - now()
        self.progress.setValue(int(1000 * min(1.0, 1.0 - left / self.seconds)))
        if left <= 0:
            self.timer.stop()
            cap, self.capture = self.capture, None
            self.show_result(cap.finish())

    def show_result(self, cal: Calibration) -> None:
        self.calibration = cal
        self.start_button.setEnabled(True)
        self.start_button.setText("Listen again")
        text = "\n".join(cal.lines())
        if cal.offsets:
            text += "\n\nA positive offset means that stream's timestamps read late; it is subtracted when reading."
        self.result.setPlainText(text)
        self.use_button.setEnabled(bool(cal.offsets))

    def accept(self) -> None:
        if self.calibration is not None and self.calibration.offsets:
            self.pending = PendingSync(self.studio, self.calibration)
            self.studio.message.emit("clap-to-sync offsets kept for the next recording: "
                                     + ", ".join(f"{k} {v * 1e3:+.1f} ms" for k, v in self.calibration.as_dict().items()))  # fmt: skip
        self._stop_capture()
        super().accept()

    def reject(self) -> None:
        self._stop_capture()
        super().reject()

    def _stop_capture(self) -> None:
        self.timer.stop()
        cap, self.capture = self.capture, None
        if cap is not None:
            cap.close()


def open_clap_sync(window) -> ClapSyncDialog:
    """Show the dialog for ``window``'s studio (non-modal); a new accepted one replaces the
    offsets an earlier one kept for the next recording."""
    dlg = ClapSyncDialog(window.studio, window)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
    old = getattr(window, "_clap_sync_pending", None)

    def _kept() -> None:
        if old is not None:
            old.cancel()
        window._clap_sync_pending = dlg.pending

    dlg.accepted.connect(_kept)
    window._clap_sync_dialog = dlg
    dlg.show()
    return dlg
