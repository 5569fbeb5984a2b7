"""`StudioActions`: the studio window's toolbar and what its buttons and menus do.

A mixin of `MainWindow` (it works on the window's own attributes: ``studio``, ``settings``,
``live_view``, ``session_form``…), kept apart so the window's module holds its layout, the
recording and the messages, and this one the actions a user starts from the toolbar:

- Devices… (the device dialog, then `MainWindow.open_sources`), Close rig (`MainWindow.close_rig`), Label… (a labeling window on a
  recorded session), Clap to sync…;
- the Model menu: Load model… (run an ONNX model live), Compare builds…, Compare with device…,
  and the Training tab's "use in live view";
- Record / Stop's look and the elapsed time, Pause, Follow, the time window, the pre-roll.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMenu,
    QSpinBox,
    QToolBar,
    QToolButton,
)

from sensorlab.app.common.scroll_into_view import scroll_into_view
from sensorlab.app.common.session_dialog import session_file_dialog
from sensorlab.app.common.take_keyboard import take_keyboard
from sensorlab.app.live.view import LiveView
from sensorlab.app.studio.record_button import RecordButton

# Disabled (no rig open, or still opening) it must not look pressable: it looked the same, and did nothing.
RECORD_STYLE = ("QPushButton{background:#c62828;color:white;font-weight:bold;padding:5px 14px;border-radius:4px}"
                "QPushButton:disabled{background:#4a3a3a;color:#9e8e8e}")
STOP_STYLE = "QPushButton{background:#eceff1;color:#b71c1c;font-weight:bold;padding:5px 14px;border-radius:4px}"


class StudioActions:
    """Toolbar and model actions of `MainWindow` (a mixin: use only as its base class)."""

    # -- toolbar ---------------------------------------------------------------
    def _build_toolbar(self) -> None:
        bar = QToolBar("Main", objectName="main_toolbar", movable=False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(bar)
        self.devices_action = QAction("Devices…", self, triggered=self._open_device_dialog)
        self.devices_action.setToolTip("Pick cameras, audio inputs, serial ports or demo devices; save/load the rig")
        bar.addAction(self.devices_action)
        self.close_rig_action = QAction("Close rig", self, triggered=lambda _checked=False: self.close_rig())
        self.close_rig_action.setToolTip("Stop the rig's devices and free their ports (serial, camera, audio) without quitting; Devices… opens a rig again")
        bar.addAction(self.close_rig_action)
        # triggered(bool) must not reach open_labeling as its path: ask for the session instead.
        self.label_action = QAction("Label…", self, triggered=lambda _checked=False: self.open_labeling())
        self.label_action.setToolTip("Open a recorded session on the labeling timeline (the one selected in Sessions, else the last one)")
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
        # A tool button shows an action's iconText, which Qt derives from its text without the
        # ellipsis; say it as the menus and the docs do: the button opens a dialog.
        for action in (self.devices_action, self.label_action, self.clap_sync_action):
            action.setIconText(action.text())
        bar.addSeparator()
        self.record_button = RecordButton("●  Record")
        self.record_button.setStyleSheet(RECORD_STYLE)
        self.record_button.setEnabled(False)
        self.record_button.setToolTip("Start / stop recording (Ctrl+R)")
        self.record_button.clicked.connect(self.toggle_recording)
        self.record_button.refuse_in(self)  # Ctrl+R while it is disabled: say why (`RecordingControl`)
        self.record_button.refused.connect(self._on_record_refused)
        bar.addWidget(self.record_button)
        self.elapsed = QLabel("  not recording  ")
        self.elapsed.setMinimumWidth(220)
        bar.addWidget(self.elapsed)
        bar.addSeparator()
        self.pause_action = QAction("Pause plots", self, checkable=True, shortcut=QKeySequence("Space"))
        self.pause_action.setToolTip("Freeze the plots (Space); devices and recording keep running")
        self.pause_action.toggled.connect(lambda on: self.live_view and self.live_view.set_paused(on))
        # Say so on the button: a checked "Pause plots" looked the same as an unchecked one, so a
        # stray Space left the plots frozen while the predictions and parity views ran on.
        self.pause_action.toggled.connect(lambda on: self.pause_action.setText("Resume plots" if on else "Pause plots"))
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

    def _set_record_button(self, recording: bool) -> None:
        self.record_button.setText("■  Stop" if recording else "●  Record")
        self.record_button.setStyleSheet(STOP_STYLE if recording else RECORD_STYLE)

    def _update_elapsed(self) -> None:
        rec = self.studio.recorder
        if rec is None:
            self.elapsed.setText("  not recording")
            self._style_elapsed("")
            # Close rig is enabled while a rig is open (or opening).
            self.setWindowTitle(f"sensorlab — {self.rig_name if self.close_rig_action.isEnabled() else 'no rig'}")
            return
        secs = rec.elapsed
        mb = float(getattr(rec, "bytes_written", 0) or 0) / 1e6
        self.elapsed.setText(f"  ● REC {int(secs // 60):02d}:{secs % 60:04.1f}  {mb:,.1f} MB")
        self._style_elapsed("color:#ef5350;font-weight:bold")
        self.setWindowTitle(f"● REC — sensorlab — {self.rig_name}")

    def _style_elapsed(self, style: str) -> None:
        # Only on a change: setting a style sheet, even the same one, re-polishes the label on
        # the GUI thread (3–4 times a second while recording).
        if self.elapsed.styleSheet() != style:
            self.elapsed.setStyleSheet(style)

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
            self.live_view.model_action.connect(self._on_model_action)
            self.live_view.set_paused(self.pause_action.isChecked())
            self.stack.addWidget(self.live_view)
            self.stack.setCurrentWidget(self.live_view)
            self._reveal_loaded_model()

    def _on_stream_added(self, info) -> None:
        if self.live_view is not None:
            self.live_view.add_stream(info)
            self._reveal_loaded_model()

    def _reveal_loaded_model(self) -> None:
        """Scroll the live view to the panel of the model just loaded, once it has one.

        A model's predictions panel is added below every device's, out of sight on a rig of a
        few streams: after "Use in live view" nothing seemed to happen."""
        names = getattr(self, "_reveal_streams", ())
        view = self.live_view
        if not names or view is None or not all(n in view.panels for n in names):
            return  # a panel is added per added stream: wait for the last one
        self._reveal_streams = ()
        scroll_into_view(view.panels[names[0]])

    def _return_focus(self, widget) -> None:
        """Hand the keyboard back to the plots after a toolbar edit, so digits label again."""
        if widget.hasFocus() and self.live_view is not None:
            self.live_view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_preroll_changed(self, seconds: int) -> None:
        self.settings.setValue("recording/preroll", seconds)
        self.studio.set_preroll(seconds)

    # -- devices, labeling, clap sync ------------------------------------------
    def device_dialog(self):
        """The Devices dialog on this window's rig, told which devices the studio has open."""
        from sensorlab.app.studio.device_dialog import DeviceDialog

        return DeviceDialog(self.settings, rig_text=self.rig_text, parent=self, held=self.open_devices(), close_rig=self.close_rig)

    def _open_device_dialog(self) -> None:
        dialog = self.device_dialog()
        if dialog.exec():
            rig = dialog.rig()
            try:
                sources = rig.build_sources()
            except Exception as e:  # a builder rejecting a setting must not close the window
                self.show_error(f"rig {rig.name}: {e}")
                return
            self.open_sources(sources, rig_text=rig.to_toml(defaults=True), rig_name=rig.name)

    def open_labeling(self, path: str | Path | None = None) -> None:
        """Open ``path`` in a labeling window; without a path, ask for a session in a file
        dialog (the session recorded last is preselected, so Enter opens it)."""
        from sensorlab.app.labeling.main import LabelingWindow

        if path is None:
            self._ask_session_to_label()
            return
        try:
            window = LabelingWindow(path, self._labels_for(Path(path)))
        except (OSError, ValueError, KeyError) as e:
            from sensorlab.labeling.timebase import one_line

            # The reader's messages name the file already: saying it twice pushed the reason
            # past the banner's edge for a session in a deep folder.
            msg = one_line(e)
            self.show_error(f"cannot open for labeling: {msg}" if Path(path).name in msg else f"cannot open {path} for labeling: {msg}")
            return
        self._labeling_windows = [w for w in self._labeling_windows if w.isVisible()] + [window]
        # Closed, it hands the keyboard back: with no window manager nothing else did, and
        # Ctrl+R and the label digits reached no window until a click.
        window.closed.connect(self._take_keyboard_back)  # a bound method: no reference cycle between the windows
        window.show()

    def _take_keyboard_back(self) -> None:
        if self.isVisible():
            take_keyboard(self, self.live_view)

    def _labels_for(self, path: Path):
        """The label set to open ``path`` with: the studio's live labels when they cover the
        labels the session holds and the session keeps no set of its own, else None (the
        labeling view's own choice: the project's ``labels.toml``, else the set kept in the
        session's sidecar, else one built from its labels). An imported session labeled 0–9 opened with
        clap, speech, walk… in its bar, and digit keys gave those."""
        from sensorlab.app.labeling.view import find_labelset
        from sensorlab.labeling.session_labels import read_annotations

        if find_labelset(path)[0] is not None:
            return None
        try:
            annotations = read_annotations(path)
        except Exception:  # unreadable: the labeling window says why when it opens the file
            return self.label_bar.labels
        if annotations.label_defs:  # the keys it was recorded or last labeled with win
            return None
        # Reviewed labels only: a model's suggestions (class2, _unknown_) must not take the
        # session away from the studio's hotkeys and colours.
        used = {s.label for s in annotations if s.label and not s.suggested}
        return self.label_bar.labels if used <= set(self.label_bar.labels.names) else None

    def _ask_session_to_label(self) -> None:
        # Non-blocking (open(), not exec()): recording and plotting go on behind the dialog.
        dialog = session_file_dialog(self, "Open a session to label", self.session_form.sessions_folder())
        # The session selected in the Sessions list, else the one recorded last, else (after a
        # restart, nothing recorded yet) the folder's newest: Enter opens it.
        chosen = self.sessions_view.selected_path() or self.last_session or self.sessions_view.newest_path()
        if chosen is not None and chosen.exists():
            dialog.setDirectory(str(chosen.parent))
            dialog.selectFile(str(chosen))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.open_labeling)
        self.label_dialog = dialog
        dialog.open()

    def _open_clap_sync(self, _checked: bool = False) -> None:
        from sensorlab.app.studio.sync_wizard import open_clap_sync

        open_clap_sync(self)

    # -- models ----------------------------------------------------------------
    def _build_ml_tabs(self) -> None:
        """Datasets and Training tabs; their jobs run as subprocesses (see app/common/process_runner.py).

        Use in live view (``self.training_tab.model_ready(path)``, an exported ONNX model with
        its contract) shows the Live tab and runs the model there, as Load model… would.
        """
        from sensorlab.app.datasets.tab import DatasetsTab
        from sensorlab.app.training.tab import TrainingTab

        self.datasets_tab = DatasetsTab(self.session_form.sessions_folder(), lazy=True, settings=self.settings)
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

    def load_model(self, path: str | Path | None = None) -> tuple[str, ...]:
        """Ask for an ONNX file (unless ``path``), map it if it has no contract and no saved
        mapping, and run it live (even while recording). Returns the streams it added."""
        from sensorlab.acquisition.source import SourceError
        from sensorlab.inference import ModelError, describe_model, load_mapping

        if path is None:
            from sensorlab.app.models import MODEL_FILES

            path, _ = QFileDialog.getOpenFileName(self, "Load model", "", MODEL_FILES)
            if not path:
                return ()
        if self.acquisition is None:
            self.show_error("no devices are open: open a rig (Devices…) before loading a model")
            return ()
        mapping = None
        options: dict = {}
        try:
            _ins, _outs, contract = describe_model(path)
            if contract is not None and (why := _missing_stream(Path(path), contract.input, self.acquisition.streams)):
                # Streams it could read instead (the live checks: kind, rate, channels): a model
                # trained on 'audio' runs on this rig's 'mic' without a rig file to edit.
                fits = _fitting_streams(Path(path), self.acquisition.streams)
                if not fits:
                    self.show_error(why)
                    return ()
                stream, ok = QInputDialog.getItem(self, f"Run {Path(path).name} on…", f"{why.split(';')[0]}.\nRun it on (streams it can read):",
                                                  fits, 0, False)  # fmt: skip
                if not ok:
                    return ()
                options["input"] = stream
            if contract is None and load_mapping(path) is None:
                from sensorlab.app.models.model_dialog import MappingDialog

                dialog = MappingDialog(path, dict(self.acquisition.streams), parent=self)
                if not dialog.exec():
                    return ()
                mapping = dialog.mapping
            added = self.studio.load_model(path, mapping=mapping, **options)
        except (ModelError, SourceError, ValueError) as e:
            self.show_error(str(e))
            return ()
        self._sync_rig()  # Devices… → Save rig… saves it, a recording stores it
        self.post(f"model {Path(path).name} running: {', '.join(added)} (its panel's Model ▾: settings, map again, unload)")
        self._reveal_streams = tuple(added)
        self._reveal_loaded_model()  # in case the live view already has its panels
        return added

    def compare_builds(self, stream: str | None = None, path: str | Path | None = None):
        """Parity view of a running model and a second build of it (`app.parity_view.compare_builds`)."""
        from sensorlab.app.models.parity_view import compare_builds

        return compare_builds(self, stream, path)

    def compare_device(self, predictions: str | None = None, events: str | None = None, tolerance: float | None = None, delay: float = 0.0):
        """Parity view of a running model and a device's reported class (`app.device_parity`)."""
        from sensorlab.app.models.device_parity import compare_device

        return compare_device(self, predictions, events, tolerance, delay)


def _fitting_streams(path: Path, streams: dict) -> list[str]:
    """The running streams a model could read (its processor opens on them), sorted."""
    from sensorlab.inference import InferenceProcessor, LoadedModel

    model = LoadedModel(path)  # once, not once per stream
    fits = []
    for name in sorted(streams):
        proc = InferenceProcessor(model, input=name)
        try:
            proc.open(dict(streams))
        except Exception:  # SourceError and the like: not this stream
            continue
        fits.append(name)
    return fits


def _missing_stream(path: Path, model_input: dict, streams: dict) -> str:
    """One line when the stream a model's contract names is not running here, else "".

    The core's message ("input stream(s) ['audio'] do not exist …; fix 'input' in the rig")
    sent a user who had pressed Use in live view to a rig file they never wrote."""
    from sensorlab.acquisition.source import StreamKind

    want, rate = model_input.get("stream"), model_input.get("rate")
    if not want or want in streams:
        return ""
    signals = ", ".join(n for n, i in streams.items() if i.kind in (StreamKind.AUDIO, StreamKind.TIMESERIES))
    return (f"{path.name} needs a stream named {want!r}" + (f" ({rate:g} Hz)" if rate else "") + f"; this rig has "
            f"{signals or 'no signal streams'}: open a rig with it (Devices…), or run it on a recording (Label…, Suggest ▾ → From a model…)")
