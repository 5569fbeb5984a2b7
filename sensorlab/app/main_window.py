"""`MainWindow`: the recording studio.

Layout: a toolbar (devices, record/stop, pause, follow, window length, pre-roll), the live view
in the centre, the session form and live-label buttons on the right, stream health and
messages at the bottom. The window presents a `Studio` (the Qt-free core that
``sensorlab record`` drives too) and turns user actions into its calls:

- the rig's devices run from the moment the window opens (`Studio.open` on a worker thread;
  devices that fail are listed, the others run); Devices… replaces the rig the same way;
- Record / Stop are `Studio.start_recording` / `stop_recording` on a worker thread (the
  studio includes the pre-roll and saves the live labels as the session's sidecar);
- live-label gestures (`LabelBar`) become `Studio.add_label` calls and markers on the plots.

Core signals reach the window only through `QtRelay`; blocking work only through `TaskRunner`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sensorlab.acquisition.hub import Acquisition
from sensorlab.app import workers
from sensorlab.app.health_view import HealthView
from sensorlab.app.label_bar import LabelBar
from sensorlab.app.live_view import LiveView
from sensorlab.app.qt_relay import QtRelay
from sensorlab.app.session_form import SessionForm
from sensorlab.app.sessions_view import SessionsView
from sensorlab.labeling.annotations import LabelSet
from sensorlab.studio import DEFAULT_PREROLL_S, Studio

log = logging.getLogger(__name__)

RECORD_STYLE = "QPushButton{background:#c62828;color:white;font-weight:bold;padding:5px 14px;border-radius:4px}"
STOP_STYLE = "QPushButton{background:#eceff1;color:#b71c1c;font-weight:bold;padding:5px 14px;border-radius:4px}"


class MainWindow(QMainWindow):
    """The studio window on one rig.

    Parameters
    ----------
    sources
        The rig's sources (created, not opened); they are opened on a worker thread.
    rig_text
        The rig as TOML, stored in each session's metadata.
    rig_name
        Shown in the title bar.
    settings
        Where settings are remembered (tests pass a temp file).

    Signals
    -------
    acquisition_ready, recording_started(path), recording_stopped(path), message(text)
    """

    acquisition_ready = Signal()
    recording_started = Signal(str)
    recording_stopped = Signal(str)
    message = Signal(str)

    def __init__(self, sources, rig_text: str = "", rig_name: str = "demo rig", settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings("sensorlab", "sensorlab")
        self.rig_text = rig_text
        self.rig_name = rig_name
        self.studio = Studio(preroll=int(self.settings.value("recording/preroll", DEFAULT_PREROLL_S)))
        self.live_view: LiveView | None = None
        self.health_view: HealthView | None = None
        self._unseen_errors = 0
        self._labeling_windows: list = []
        self.label_dialog: QFileDialog | None = None
        self.relay = QtRelay(self)
        self.tasks = workers.TaskRunner(self)
        self.tasks.progress.connect(self._on_progress)
        self.tasks.failed.connect(lambda title, msg: self.show_error(f"{title} failed: {msg}"))
        self.relay.stream_failed.connect(self._on_stream_failed)
        self.relay.recording_failed.connect(self._on_recording_failed)
        self.relay.consumer_failed.connect(lambda _stream, message: self.show_error(message))
        # A processor added while running: rebuild the live view so its streams get panels.
        self.relay.stream_added.connect(lambda _info: self._on_window_changed(self.window_combo.currentText()))
        self.relay.message.connect(self.post)
        self.relay.problem.connect(self.show_error)
        self.relay.watch_studio(self.studio)

        self.setWindowTitle(f"sensorlab — {rig_name}")
        self._build_toolbar()
        self._build_docks()
        self._build_central()
        self._build_statusbar()
        self._restore_settings()
        self._clock = QTimer(self, interval=250)
        self._clock.timeout.connect(self._update_elapsed)
        self._clock.start()
        QApplication.instance().installEventFilter(self.label_bar)
        self.open_sources(sources)

    # -- building -------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        bar = QToolBar("Main", objectName="main_toolbar", movable=False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(bar)
        self.devices_action = QAction("Devices…", self, triggered=self._open_device_dialog)
        self.devices_action.setToolTip("Pick cameras, audio inputs, serial ports or demo devices; save/load the rig")
        bar.addAction(self.devices_action)
        # triggered(bool) must not reach open_labeling as its path: ask for the session instead.
        self.label_action = QAction("Label…", self, triggered=lambda _checked=False: self.open_labeling())
        self.label_action.setToolTip("Open a recorded session on the labeling timeline (the last one by default)")
        bar.addAction(self.label_action)
        self.clap_sync_action = QAction("Clap to sync…", self, triggered=self._open_clap_sync)
        self.clap_sync_action.setToolTip("Before recording: clap a few times; measures each stream's time offset and stores it with the next session")
        bar.addAction(self.clap_sync_action)
        self.model_action = QAction("Load model…", self, triggered=lambda _checked=False: self.load_model())
        self.model_action.setToolTip("Run an ONNX model on a live stream: its class probabilities become a stream (recorded while recording)")
        self.parity_action = QAction("Compare builds…", self, triggered=lambda _checked=False: self.compare_builds())
        self.parity_action.setToolTip("Run a second build of a running model (e.g. its int8 ONNX) on the same windows: overlay, divergence count, divergent windows")
        self.device_parity_action = QAction("Compare with device…", self, triggered=lambda _checked=False: self.compare_device())
        self.device_parity_action.setToolTip("The running model against the class a board reports on its own events stream: overlay, agreements, divergent windows")
        # One "Model" button with a menu: three model buttons pushed the recording controls
        # (pre-roll) off a 1200 px wide toolbar, into its overflow menu.
        model_menu = QMenu("Model", self)
        model_menu.setToolTipsVisible(True)
        model_menu.addActions([self.model_action, self.parity_action, self.device_parity_action])
        self.model_button = QToolButton(text="Model", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.model_button.setMenu(model_menu)
        self.model_button.setToolTip("Load a model on the live streams, or compare two builds, or the model and a board")
        bar.addWidget(self.model_button)
        self.quit_action = QAction("Quit", self, shortcut=QKeySequence("Ctrl+Q"), triggered=self.close)
        self.quit_action.setToolTip("Finish the recording, close the devices and every window (Ctrl+Q)")
        self.addAction(self.quit_action)  # a window-wide shortcut, no toolbar button
        bar.addSeparator()
        self.record_button = QPushButton("●  Record")
        self.record_button.setStyleSheet(RECORD_STYLE)
        self.record_button.setEnabled(False)
        self.record_button.setShortcut(QKeySequence("Ctrl+R"))
        self.record_button.setToolTip("Start / stop recording (Ctrl+R)")
        self.record_button.clicked.connect(self.toggle_recording)
        bar.addWidget(self.record_button)
        self.elapsed = QLabel("  not recording  ")
        self.elapsed.setMinimumWidth(220)
        bar.addWidget(self.elapsed)
        bar.addSeparator()
        self.pause_action = QAction("Pause plots", self, checkable=True, shortcut=QKeySequence("Space"))
        self.pause_action.setToolTip("Freeze the plots (Space); devices and recording keep running")
        self.pause_action.toggled.connect(lambda on: self.live_view and self.live_view.set_paused(on))
        bar.addAction(self.pause_action)
        self.follow_action = QAction("Follow", self, checkable=True, checked=True, shortcut=QKeySequence("F"))
        self.follow_action.setToolTip("Keep the newest data in view (F); zooming or panning a plot turns this off")
        self.follow_action.toggled.connect(lambda on: self.live_view and self.live_view.set_follow(on))
        bar.addAction(self.follow_action)
        bar.addWidget(QLabel("  Window "))
        self.window_combo = QComboBox()
        self.window_combo.addItems(["5 s", "10 s", "30 s"])
        self.window_combo.setToolTip("Seconds shown on the time axis (rebuilds the plots)")
        self.window_combo.currentTextChanged.connect(self._on_window_changed)
        bar.addWidget(self.window_combo)
        bar.addWidget(QLabel("  Pre-roll "))
        self.preroll = QSpinBox(suffix=" s", minimum=0, maximum=30)
        self.preroll.setToolTip("Keep the last N seconds so that Record includes what just happened (0: off).\n"
                                "Type a number and press Enter: digits are label keys again afterwards.")  # fmt: skip
        # Applied on Enter / arrows, not per typed digit; then the focus goes back to the plots
        # so that the next digits are live labels, not more pre-roll.
        self.preroll.setKeyboardTracking(False)
        self.preroll.valueChanged.connect(self._on_preroll_changed)
        self.preroll.valueChanged.connect(lambda _v: self._return_focus(self.preroll))
        bar.addWidget(self.preroll)

    def _build_docks(self) -> None:
        self.session_form = SessionForm(self.settings)
        labels = LabelSet.from_dict(json.loads(self.settings.value("labels/set", "{}") or "{}"))
        self.label_bar = LabelBar(labels if len(labels) else None)
        self.label_bar.label_event.connect(self._on_label_event)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(_section("Session"))
        side_layout.addWidget(self.session_form)
        side_layout.addWidget(_section("Live labels"))
        side_layout.addWidget(self.label_bar, 1)
        dock = QDockWidget("Session", self, objectName="session_dock")
        dock.setWidget(side)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        dock.setTitleBarWidget(QWidget())
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

        self.bottom_tabs = QTabWidget()
        self.health_placeholder = QLabel("opening devices…")
        self.bottom_tabs.addTab(self.health_placeholder, "Stream health")
        self.messages = QListWidget()
        self.bottom_tabs.addTab(self.messages, "Messages")
        self.sessions_view = SessionsView(self.session_form.folder.text())
        self.sessions_view.open_requested.connect(self.open_labeling)
        self.bottom_tabs.addTab(self.sessions_view, "Sessions")
        bottom = QDockWidget("Health", self, objectName="health_dock")
        bottom.setWidget(self.bottom_tabs)
        bottom.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        bottom.setTitleBarWidget(QWidget())
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, bottom)
        self._docks = (dock, bottom)
        self.resizeDocks([dock], [300], Qt.Orientation.Horizontal)
        self.resizeDocks([bottom], [230], Qt.Orientation.Vertical)

    def _build_central(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.banner = QPushButton()
        self.banner.setStyleSheet("QPushButton{background:#8c1d18;color:white;text-align:left;padding:6px;border:none}")
        self.banner.setToolTip("Click to dismiss; all messages are in the Messages tab")
        self.banner.clicked.connect(self.banner.hide)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.stack = QStackedWidget()
        self.waiting = QLabel("Opening devices…", alignment=Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.waiting)
        self.main_tabs = QTabWidget(documentMode=True)
        self.main_tabs.addTab(self.stack, "Live")
        self._build_ml_tabs()
        layout.addWidget(self.main_tabs, 1)
        self.setCentralWidget(central)

    def _build_ml_tabs(self) -> None:
        """Datasets and Training tabs; their jobs run as subprocesses (see app/process_runner.py).

        Use in live view (``self.training_tab.model_ready(path)``, an exported ONNX model with
        its contract) shows the Live tab and runs the model there, as Load model… would.
        """
        from sensorlab.app.datasets_tab import DatasetsTab
        from sensorlab.app.training_tab import TrainingTab

        self.datasets_tab = DatasetsTab(self.session_form.sessions_folder(), lazy=True)
        self.training_tab = TrainingTab()
        self.main_tabs.addTab(self.datasets_tab, "Datasets")
        self.main_tabs.addTab(self.training_tab, "Training")
        self.session_form.folder.textChanged.connect(self.datasets_tab.set_sessions_folder)
        self.datasets_tab.train_requested.connect(self._train_on)
        self.training_tab.model_ready.connect(self._use_in_live_view)
        # The recording docks (session form, live labels, health) are for the Live tab; the
        # dataset and training pages need the room, and digits typed there are not live labels.
        self.main_tabs.currentChanged.connect(lambda i: [d.setVisible(i == 0) for d in self._docks])

    def _train_on(self, dataset: str) -> None:
        self.training_tab.set_dataset(dataset)
        self.main_tabs.setCurrentWidget(self.training_tab)

    def _use_in_live_view(self, path: str) -> None:
        self.main_tabs.setCurrentIndex(0)
        self.load_model(path)

    def _build_statusbar(self) -> None:
        self.busy = QProgressBar(maximumWidth=140, maximum=0)
        self.busy.hide()
        self.status_text = QLabel("")
        self.statusBar().addPermanentWidget(self.status_text)
        self.statusBar().addPermanentWidget(self.busy)

    # -- the studio's state, as the window and its tests read it -------------------------------
    @property
    def acquisition(self) -> Acquisition | None:
        return self.studio.acquisition

    @property
    def recorder(self):
        return self.studio.recorder

    @property
    def last_session(self) -> Path | None:
        return self.studio.last_session

    # -- devices ---------------------------------------------------------------------------
    def open_sources(self, sources, rig_text: str | None = None, rig_name: str | None = None) -> None:
        """Close the current devices (if any) and open ``sources`` on a worker thread."""
        if self.studio.recording:
            self.show_error("stop the recording before changing devices")
            return
        if rig_text is not None:
            self.rig_text = rig_text
        if rig_name is not None:
            self.rig_name = rig_name
            self.setWindowTitle(f"sensorlab — {rig_name}")
        self._teardown_views()
        self.record_button.setEnabled(False)
        self.stack.setCurrentWidget(self.waiting)
        self.tasks.run("Opening devices", workers.open_rig, self.studio, list(sources), on_done=self._on_acquisition_ready,
                       on_error=lambda msg: self.waiting.setText(f"Could not open the devices:\n{msg}"))

    def _on_acquisition_ready(self, result: tuple[Acquisition, dict[str, str]]) -> None:
        acq, errors = result
        if acq is None or acq is not self.acquisition:
            return  # superseded by another rig while opening
        for device, msg in errors.items():
            self.show_error(f"{device}: {msg}")
        if not acq.streams:
            self.waiting.setText("No device could be opened.\nUse Devices… to pick others (see Messages for why).")
            return
        self._build_views()
        self.record_button.setEnabled(True)
        self.post(f"{len(acq.streams)} stream(s) running: {', '.join(acq.streams)}")
        self.acquisition_ready.emit()

    def _build_views(self) -> None:
        acq = self.acquisition
        window = float(self.window_combo.currentText().split()[0])
        self.live_view = LiveView(acq, window=window)
        self.live_view.follow_changed.connect(self.follow_action.setChecked)
        self.live_view.set_paused(self.pause_action.isChecked())
        self.stack.addWidget(self.live_view)
        self.stack.setCurrentWidget(self.live_view)
        self.health_view = HealthView(acq, self.session_form.sessions_folder())
        self.session_form.folder.textChanged.connect(lambda text: self.health_view and self.health_view.set_sessions_folder(text))
        self.session_form.folder.textChanged.connect(self.sessions_view.set_folder)
        self.bottom_tabs.removeTab(0)
        self.bottom_tabs.insertTab(0, self.health_view, "Stream health")
        self.bottom_tabs.setCurrentIndex(0)

    def _teardown_views(self) -> None:
        if self.live_view is not None:
            self.live_view.shutdown()
            self.stack.removeWidget(self.live_view)
            self.live_view.deleteLater()
            self.live_view = None
        if self.health_view is not None:
            self.health_view.timer.stop()
            self.bottom_tabs.removeTab(0)
            self.bottom_tabs.insertTab(0, self.health_placeholder, "Stream health")
            self.health_view.deleteLater()
            self.health_view = None

    def _open_device_dialog(self) -> None:
        from sensorlab.app.device_dialog import DeviceDialog

        dialog = DeviceDialog(self.settings, rig_text=self.rig_text, parent=self)
        if dialog.exec():
            rig = dialog.rig()
            try:
                sources = rig.build_sources()
            except Exception as e:  # a builder rejecting a setting must not close the window
                self.show_error(f"rig {rig.name}: {e}")
                return
            self.open_sources(sources, rig_text=rig.to_toml(), rig_name=rig.name)

    def load_model(self, path: str | Path | None = None) -> tuple[str, ...]:
        """Ask for an ONNX file (unless ``path``), map it if it has no contract and no saved
        mapping, and run it live (even while recording). Returns the streams it added."""
        from sensorlab.acquisition.source import SourceError
        from sensorlab.inference import ModelError, describe_model, load_mapping

        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Load model", "", "Models (*.onnx *.tflite);;All files (*)")
            if not path:
                return ()
        if self.acquisition is None:
            self.show_error("no devices are open: open a rig (Devices…) before loading a model")
            return ()
        mapping = None
        try:
            _ins, _outs, contract = describe_model(path)
            if contract is None and load_mapping(path) is None:
                from sensorlab.app.model_dialog import MappingDialog

                dialog = MappingDialog(path, dict(self.acquisition.streams), parent=self)
                if not dialog.exec():
                    return ()
                mapping = dialog.mapping
            added = self.studio.load_model(path, mapping=mapping)
        except (ModelError, SourceError, ValueError) as e:
            self.show_error(str(e))
            return ()
        self.post(f"model {Path(path).name} running: {', '.join(added)}")
        return added

    def compare_builds(self, stream: str | None = None, path: str | Path | None = None):
        """Parity view of a running model and a second build of it (`app.parity_view.compare_builds`)."""
        from sensorlab.app.parity_view import compare_builds

        return compare_builds(self, stream, path)

    def compare_device(self, predictions: str | None = None, events: str | None = None, tolerance: float | None = None, delay: float = 0.0):
        """Parity view of a running model and a device's reported class (`app.device_parity`)."""
        from sensorlab.app.device_parity import compare_device

        return compare_device(self, predictions, events, tolerance, delay)

    # -- recording -------------------------------------------------------------------------
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
        self.tasks.run("Starting recording", workers.start_recording, self.studio, path, metadata,
                       on_done=self._on_recording_started, on_error=self._on_recording_start_failed)  # fmt: skip

    def _on_recording_started(self, path: str) -> None:
        if self.health_view is not None:
            self.health_view.set_recorder(self.studio.recorder)
        self.record_button.setEnabled(True)
        self.post(f"recording to {path}")
        self.recording_started.emit(path)

    def _on_recording_start_failed(self, message: str) -> None:
        self._set_record_button(recording=False)
        self.record_button.setEnabled(True)

    def stop_recording(self) -> None:
        """Close open label spans, then flush and close the file (worker thread)."""
        recorder = self.studio.recorder
        if recorder is None:
            return
        self.label_bar.close_open_spans()
        self.record_button.setEnabled(False)
        self.record_button.setText("saving…")
        self.tasks.run("Saving session", workers.stop_recording, self.studio,
                       on_done=self._on_recording_stopped, on_error=lambda msg: self._on_recording_stopped(str(recorder.path)))

    def _open_clap_sync(self, _checked: bool = False) -> None:
        from sensorlab.app.sync_wizard import open_clap_sync

        open_clap_sync(self)

    def open_labeling(self, path: str | Path | None = None) -> None:
        """Open ``path`` in a labeling window; without a path, ask for a session in a file
        dialog (the session recorded last is preselected, so Enter opens it)."""
        from sensorlab.app.labeling_main import LabelingWindow

        if path is None:
            self._ask_session_to_label()
            return
        try:
            window = LabelingWindow(path, self.label_bar.labels)
        except (OSError, ValueError, KeyError) as e:
            self.show_error(f"cannot open {path} for labeling: {e}")
            return
        self._labeling_windows = [w for w in self._labeling_windows if w.isVisible()] + [window]
        window.show()

    def _ask_session_to_label(self) -> None:
        # Non-blocking (open(), not exec()): recording and plotting go on behind the dialog.
        dialog = QFileDialog(self, "Open a session to label", str(self.session_form.sessions_folder()), "Sessions (*.h5)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        if self.last_session is not None and self.last_session.exists():
            dialog.setDirectory(str(self.last_session.parent))
            dialog.selectFile(str(self.last_session))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.open_labeling)
        self.label_dialog = dialog
        dialog.open()

    def _on_recording_stopped(self, path: str) -> None:
        if self.health_view is not None:
            self.health_view.set_recorder(None)
        self._set_record_button(recording=False)
        self.record_button.setEnabled(self.acquisition is not None and bool(self.acquisition.streams))
        self.post(f"saved {path}")
        self.sessions_view.refresh()
        self.recording_stopped.emit(path)

    def _on_label_event(self, t: float, text: str) -> None:
        msg = json.loads(text)
        color = self.label_bar.labels.color_of(msg["label"])
        if self.live_view is not None:
            tag = {"start": "▶", "stop": "■"}.get(msg["type"], "")
            self.live_view.add_marker(t, f"{tag}{msg['label']}", color)
        try:
            stored = self.studio.add_label(text, t)
        except ValueError as e:
            self.show_error(f"label not saved: {e}")
            return
        if not stored:
            self.statusBar().showMessage(f"label {msg['label']} ({msg['type']}) shown, not saved: not recording", 3000)

    # -- pre-roll ---------------------------------------------------------------------------
    def _on_preroll_changed(self, seconds: int) -> None:
        self.settings.setValue("recording/preroll", seconds)
        self.studio.set_preroll(seconds)

    # -- messages ----------------------------------------------------------------------------
    def post(self, text: str) -> None:
        """Log an informational message in the Messages tab and the status bar."""
        self.messages.addItem(f"{datetime.now():%H:%M:%S}  {text}")
        self.statusBar().showMessage(text, 5000)
        self.message.emit(text)

    def show_error(self, text: str) -> None:
        """Show an error in the red banner (and keep it in the Messages tab)."""
        log.warning(text)
        self.messages.addItem(f"{datetime.now():%H:%M:%S}  ⚠ {text}")
        self.messages.item(self.messages.count() - 1).setForeground(Qt.GlobalColor.red)
        self._unseen_errors = (self._unseen_errors + 1) if self.banner.isVisible() else 1
        more = f"   (+{self._unseen_errors - 1} more in Messages)" if self._unseen_errors > 1 else ""
        self.banner.setText(f"⚠  {text}{more}")
        self.banner.show()
        self.message.emit(text)

    def _on_stream_failed(self, stream: str, message: str) -> None:
        self.show_error(f"{stream or 'device'} stopped: {message}" + (" (recording continues for the other streams)" if self.recorder else ""))
        if self.health_view is not None:
            self.health_view.mark_failed(stream, message)

    def _on_recording_failed(self, stream: str, message: str) -> None:
        if stream:
            self.show_error(f"recording of {stream} stopped: {message} (the other streams keep recording)")
            return
        self.show_error(f"the recording stopped: {message}")
        if self.recorder is not None and self.record_button.isEnabled():
            self.stop_recording()  # closes what was written and resets the button

    def _on_progress(self, text: str) -> None:
        self.busy.setVisible(bool(text))
        self.status_text.setText(text)

    # -- small UI updates ---------------------------------------------------------------------
    def _set_record_button(self, recording: bool) -> None:
        self.record_button.setText("■  Stop" if recording else "●  Record")
        self.record_button.setStyleSheet(STOP_STYLE if recording else RECORD_STYLE)

    def _update_elapsed(self) -> None:
        rec = self.studio.recorder
        if rec is None:
            self.elapsed.setText("  not recording")
            self.elapsed.setStyleSheet("")
            self.setWindowTitle(f"sensorlab — {self.rig_name}")
            return
        secs = rec.elapsed
        mb = float(getattr(rec, "bytes_written", 0) or 0) / 1e6
        self.elapsed.setText(f"  ● REC {int(secs // 60):02d}:{secs % 60:04.1f}  {mb:,.1f} MB")
        self.elapsed.setStyleSheet("color:#ef5350;font-weight:bold")
        self.setWindowTitle(f"● REC — sensorlab — {self.rig_name}")

    def _on_window_changed(self, text: str) -> None:
        self.settings.setValue("view/window", text)
        if self.live_view is not None:
            origin = self.live_view.origin
            self.live_view.shutdown()
            self.stack.removeWidget(self.live_view)
            self.live_view.deleteLater()
            window = float(text.split()[0])
            # Same origin as before: the time axis keeps reading the same clock.
            self.live_view = LiveView(self.acquisition, window=window, origin=origin)
            self.live_view.follow_changed.connect(self.follow_action.setChecked)
            self.live_view.set_paused(self.pause_action.isChecked())
            self.stack.addWidget(self.live_view)
            self.stack.setCurrentWidget(self.live_view)

    def _return_focus(self, widget) -> None:
        """Hand the keyboard back to the plots after a toolbar edit, so digits label again."""
        if widget.hasFocus() and self.live_view is not None:
            self.live_view.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- settings and closing -------------------------------------------------------------------
    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        state = s.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.window_combo.blockSignals(True)
        self.window_combo.setCurrentText(str(s.value("view/window", "10 s")))
        self.window_combo.blockSignals(False)
        self.preroll.blockSignals(True)
        self.preroll.setValue(int(s.value("recording/preroll", DEFAULT_PREROLL_S)))
        self.preroll.blockSignals(False)

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("labels/set", json.dumps(self.label_bar.labels.to_dict()))
        self.session_form.remember()
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        """Finish the recording and close the devices, waiting for the workers; close the
        labeling windows too (their edits are saved as they are made), so the process ends."""
        self.main_tabs.setCurrentIndex(0)  # the docks' visibility is saved with the window state
        self.save_settings()
        self.datasets_tab.shutdown()
        self.training_tab.shutdown()
        for window in self._labeling_windows:
            window.close()
        QApplication.instance().removeEventFilter(self.label_bar)
        self.tasks.wait()  # a recording still starting must finish starting before it can stop
        if self.studio.recording:
            self.label_bar.close_open_spans()
            try:
                self.studio.stop_recording()  # the window is going away: blocking here is expected
            except Exception as e:
                QMessageBox.warning(self, "sensorlab", f"The recording may be incomplete: {e}")
        self.tasks.wait()
        self._teardown_views()
        self.relay.release()
        self.studio.close()
        super().closeEvent(event)


def _section(title: str) -> QLabel:
    label = QLabel(title.upper())
    label.setStyleSheet("color:#9aa0a6;font-weight:bold;font-size:11px;padding:8px 4px 2px 4px;letter-spacing:1px")
    return label
