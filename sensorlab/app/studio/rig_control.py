"""The studio window's rig: open it, close it, and the views that live as long as it does
(`RigControl`, a mixin of `MainWindow`).

The rig's devices open on a worker thread (`Studio.open` via `workers.open_rig`); devices that
fail are listed and the others run. Devices… replaces the rig the same way, and Close rig
(`Studio.close_rig`) frees its ports without quitting. Both are refused while recording. The
live view and the stream health table are built once the rig is open and torn down with it.
"""

from __future__ import annotations

from collections.abc import Callable

from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.source import close_sources
from sensorlab.app.common import workers
from sensorlab.app.live.health_view import HealthView
from sensorlab.app.live.view import LiveView
from sensorlab.app.studio.device_loss import failed_source
from sensorlab.studio import heap


class RigControl:
    """Mixin for `MainWindow`. Uses the window's ``studio``, ``acquisition``, ``tasks``, ``stack``,
    ``waiting``, ``bottom_tabs``, ``health_placeholder``, ``session_form``, ``sessions_view``,
    ``record_button``, ``close_rig_action``, ``window_combo``, ``pause_action``,
    ``follow_action``, ``rig_closed`` / ``acquisition_ready``, ``post`` and ``show_error``."""

    def open_sources(self, sources, rig_text: str | None = None, rig_name: str | None = None) -> None:
        """Close the current devices (if any) and open ``sources`` on a worker thread.

        Refused while recording; ``sources`` are then closed (an emulated board lives from its
        build on, in the board host)."""
        if self.studio.recording:
            close_sources(sources)
            self.show_error("stop the recording before changing devices")
            return
        if rig_text is not None:
            self.rig_text = rig_text
        self._rig_sources = list(sources)
        if rig_name is not None:
            self.rig_name = rig_name
            self.setWindowTitle(f"sensorlab — {rig_name}")
        self._teardown_views()
        self.record_button.setEnabled(False)
        self.close_rig_action.setEnabled(True)
        self.waiting.setText("Opening devices…")
        self.health_placeholder.setText("opening devices…")
        self.stack.setCurrentWidget(self.waiting)
        self.tasks.run("Opening devices", workers.open_rig, self.studio, list(sources), on_done=self._on_acquisition_ready,
                       on_error=lambda msg: self.waiting.setText(f"Could not open the devices:\n{msg}"))

    def close_rig(self, on_closed: Callable[[], None] | None = None) -> bool:
        """Close rig: free the devices on a worker thread, the window as before a rig opens until Devices…
        opens one; ``on_closed()`` then runs on the GUI thread. Refused while recording, saying so (False)."""
        if self.studio.recording:
            self.show_error("stop the recording before closing the rig (■ Stop, Ctrl+R): the recording is written from its devices")
            return False
        self._teardown_views()
        self.record_button.setEnabled(False)
        self.close_rig_action.setEnabled(False)
        self.waiting.setText("Closing the rig…")
        self.stack.setCurrentWidget(self.waiting)
        self._update_elapsed()  # the title: no rig

        def closed(_was_open: bool) -> None:
            if self.acquisition is not None:
                return  # a rig was opened meanwhile
            self.waiting.setText("No rig is open.\nUse Devices… to pick devices and open a rig.")
            self.health_placeholder.setText("no rig is open")
            self.post(f"rig {self.rig_name} closed: its devices are free for other programs")
            self.rig_closed.emit()
            if on_closed is not None:
                on_closed()

        def refused(message: str) -> None:  # a recording started meanwhile: the rig stays open
            self._on_acquisition_ready((self.acquisition, {}))
            self.close_rig_action.setEnabled(self.acquisition is not None)

        self.tasks.run("Closing the rig", workers.close_rig, self.studio, on_done=closed, on_error=refused)
        return True

    def open_devices(self) -> list:
        """The rig's devices the studio has open (or is opening): a probe cannot open them.

        The sources were built from ``rig_text`` in its device order (`build_sources`), so
        the n-th source is the n-th device; one that failed to open is not held."""
        from sensorlab.acquisition.rig import RigError, parse_rig

        acq = self.acquisition
        if acq is None or not self.rig_text:
            return []
        try:
            configs = parse_rig(self.rig_text).devices()
        except RigError:
            return []
        return [c for c, src in zip(configs, self._rig_sources) if any(src is s for s in acq.sources)]

    def _on_acquisition_ready(self, result: tuple[Acquisition, dict[str, str]]) -> None:
        acq, errors = result
        if acq is None or acq is not self.acquisition:
            return  # superseded by another rig while opening
        for device, msg in errors.items():
            self.show_error(f"{device}: {msg}", self.until_devices_reopened())
        if not acq.streams:
            self.waiting.setText("No device could be opened.\nUse Devices… to pick others (see Messages for why).")
            return
        self._build_views()
        heap.freeze(collect=False)  # the views live as long as the rig: out of full GC passes too
        self.record_button.setEnabled(True)
        self.post(f"{len(acq.streams)} stream(s) running: {', '.join(acq.streams)}")
        self.acquisition_ready.emit()

    def _build_views(self) -> None:
        acq = self.acquisition
        window = float(self.window_combo.currentText().split()[0])
        self.live_view = LiveView(acq, window=window)
        self.live_view.follow_changed.connect(self.follow_action.setChecked)
        self.live_view.model_action.connect(self._on_model_action)
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

    def until_devices_reopened(self) -> Callable[[], bool]:
        """A condition of the devices open now: resolved once they are closed or opened again
        (Devices…, a rig), which reports what still fails anew."""
        acq = self.acquisition
        return lambda: self.acquisition is not acq

    def _on_stream_failed(self, stream: str, message: str) -> None:
        names, resolved = failed_source(self, stream, message)  # its streams; gone when the source is
        self.show_error(f"{names} stopped: {message}" + (" (recording continues for the other streams)" if self.recorder else ""), resolved)
        if self.health_view is not None:
            self.health_view.mark_failed(stream, message)
