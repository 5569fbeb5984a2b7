"""`MainWindow`: the recording studio.

Layout: a toolbar (devices, record/stop, pause, follow, window length, pre-roll), the live view
in the centre, the session form and live-label buttons on the right, stream health and
messages at the bottom. The window presents a `Studio` (the Qt-free core that
``sensorlab record`` drives too) and turns user actions into its calls:

- the rig's devices run from the moment the window opens (`Studio.open` on a worker thread;
  devices that fail are listed, the others run); Devices… replaces the rig the same way, and
  Close rig (`Studio.close_rig`) closes it, freeing its ports, without quitting. These are
  `RigControl` (`rig_control.py`), a base class of the window;
- Record / Stop are `Studio.start_recording` / `stop_recording` on a worker thread (the
  studio includes the pre-roll and saves the live labels as the session's sidecar);
- live-label gestures (`LabelBar`) become `Studio.add_label` calls and markers on the plots.
  These two are `RecordingControl` (`recording_control.py`), a base class of the window.

Core signals reach the window only through `QtRelay`; blocking work only through `TaskRunner`.
The toolbar and what its buttons and menus start (devices, labeling, clap sync, models) are
`StudioActions` (`actions.py`), a base class of the window.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sensorlab.acquisition.hub import Acquisition
from sensorlab.app.common import workers
from sensorlab.app.live.health_view import HealthView
from sensorlab.app.labeling.label_bar import LabelBar
from sensorlab.app.live.view import LiveView
from sensorlab.app.models.model_controls import ModelControls
from sensorlab.app.common.qt_relay import QtRelay
from sensorlab.app.common.take_keyboard import take_keyboard
from sensorlab.app.common.window_size import fit_to_screen
from sensorlab.app.studio.session_form import SessionForm
from sensorlab.app.studio.sessions_view import SessionsView
from sensorlab.app.studio.actions import StudioActions
from sensorlab.app.studio.banner import Banner
from sensorlab.app.studio.device_loss import DeviceLossWatch
from sensorlab.app.studio.recording_control import RecordingControl
from sensorlab.app.studio.rig_control import RigControl
from sensorlab.labeling.annotations import LabelSet
from sensorlab.studio import DEFAULT_PREROLL_S, Studio

log = logging.getLogger(__name__)

class MainWindow(RigControl, RecordingControl, StudioActions, ModelControls, QMainWindow):
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
    acquisition_ready, rig_closed, recording_started(path), recording_stopped(path), message(text)
    """

    acquisition_ready = Signal()
    rig_closed = Signal()
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
        self._labeling_windows: list = []
        self.label_dialog: QFileDialog | None = None
        self.relay = QtRelay(self)
        self.tasks = workers.TaskRunner(self)
        self.tasks.progress.connect(self._on_progress)
        self.tasks.failed.connect(lambda title, msg: self.show_error(f"{title} failed: {msg}"))
        self.relay.stream_failed.connect(self._on_stream_failed)
        self.relay.recording_failed.connect(self._on_recording_failed)
        self.relay.consumer_failed.connect(lambda _stream, message: self.show_error(message))
        # A processor added while running (a model's predictions): a panel for its stream,
        # added to the live view (rebuilding the view restarted every trace from empty).
        self.relay.stream_added.connect(self._on_stream_added)
        # A model unloaded or renamed (its panel's Model ▾, `ModelControls`): the panel goes or follows.
        self.relay.stream_removed.connect(self._on_stream_removed)
        self.relay.stream_renamed.connect(self._on_stream_renamed)
        self.relay.message.connect(self.post)
        self.relay.problem.connect(self.show_error)
        self.relay.watch_studio(self.studio)

        self.setWindowTitle(f"sensorlab — {rig_name}")
        self._build_toolbar()
        self._build_docks()
        self._build_central()
        self._build_statusbar()
        self._restore_settings()
        self._clock = QTimer(self, interval=250, timeout=self._update_elapsed)
        self._clock.start()
        self.label_bar.watch(self)
        self.device_loss = DeviceLossWatch(self)  # a banner while a serial board is lost
        self.open_sources(sources)

    # -- building -------------------------------------------------------------------------
    def _build_docks(self) -> None:
        self.session_form = SessionForm(self.settings)
        labels = LabelSet.from_dict(json.loads(self.settings.value("labels/set", "{}") or "{}"))
        self.label_bar = LabelBar(labels if len(labels) else None)
        self.label_bar.label_event.connect(self._on_label_event)
        self.studio.labels.label_defs = lambda: self.label_bar.labels.to_dict()["labels"]
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
        self.banner = Banner()  # notices leave after a while, conditions once resolved (banner.py)
        layout.addWidget(self.banner)
        self.stack = QStackedWidget()
        self.waiting = QLabel("Opening devices…", alignment=Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.waiting)
        self.main_tabs = QTabWidget(documentMode=True)
        self.main_tabs.addTab(self.stack, "Live")
        self._build_ml_tabs()
        layout.addWidget(self.main_tabs, 1)
        self.setCentralWidget(central)

    def _build_statusbar(self) -> None:
        self.busy = QProgressBar(maximumWidth=140, maximum=0, visible=False)
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

    # -- messages ----------------------------------------------------------------------------
    def post(self, text: str) -> None:
        """Log an informational message in the Messages tab and the status bar."""
        self.messages.addItem(f"{datetime.now():%H:%M:%S}  {text}")
        self.statusBar().showMessage(text, 5000)
        self.message.emit(text)

    def show_error(self, text: str, resolved: Callable[[], bool] | None = None, key: str = "") -> None:
        """Show an error in the red banner (and keep it in the Messages tab): a notice, which leaves
        after a while, or with ``resolved`` a condition, kept until it returns True (``key``: Banner)."""
        log.warning(text)
        self.messages.addItem(f"{datetime.now():%H:%M:%S}  ⚠ {text}")
        self.messages.item(self.messages.count() - 1).setForeground(Qt.GlobalColor.red)
        self.banner.show_message(text, resolved, key)
        self.message.emit(text)

    def _on_progress(self, text: str) -> None:
        self.busy.setVisible(bool(text))
        self.status_text.setText(text)

    # -- settings and closing -------------------------------------------------------------------
    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:  # first start: 1400×900, or less on a smaller screen (a 1280×800 laptop)
            self.resize(fit_to_screen(self, QSize(1400, 900)))
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
        self.datasets_tab.remember()
        s.sync()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        """Shown by the program (not restored by the window system): take the keyboard, so label
        digits, Space and Ctrl+R work before the first click (no window manager activates it)."""
        super().showEvent(event)
        if not event.spontaneous():
            take_keyboard(self, self.live_view)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Finish the recording and close the devices, waiting for the workers; close the
        labeling windows too (their edits are saved as they are made), so the process ends."""
        self.main_tabs.setCurrentIndex(0)  # the docks' visibility is saved with the window state
        self.save_settings()
        self.datasets_tab.shutdown()
        self.training_tab.shutdown()
        for window in self._labeling_windows:
            window.close()
        self.label_bar.unwatch()
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
