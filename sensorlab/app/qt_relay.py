"""The one place where core (psygnal) signals cross into the Qt GUI thread.

Core objects (`Acquisition`, `SourceBase`, `Recorder`) emit plain psygnal signals on whatever
thread noticed the event: a device thread, the writer thread, a worker. Widgets must only be
touched on the GUI thread, so every core signal the GUI cares about is connected *here* to a
Qt signal of a `QtRelay` that lives on the GUI thread. Qt delivers a signal emitted from another
thread through a queued connection, so the views' ``_on_<event>`` slots always run on the GUI
thread. No other module in `sensorlab.app` connects to a core signal directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


class QtRelay(QObject):
    """Re-emits core signals as Qt signals on the GUI thread.

    Signals
    -------
    stream_failed(stream, message)
        A running stream (or a whole device, ``stream == ""``) broke.
    recording_started(path), recording_stopped(path)
        The recorder opened / closed its file.
    recording_failed(stream, message)
        The recorder could not write a stream (the others keep recording).
    consumer_failed(stream, message)
        A consumer of the acquisition raised and was detached (the devices go on).
    stream_added(info)
        A processor added to the running acquisition declared a stream.
    """

    stream_failed = Signal(str, str)
    consumer_failed = Signal(str, str)
    stream_added = Signal(object)
    recording_started = Signal(str)
    recording_stopped = Signal(str)
    recording_failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._disconnects: list[Callable[[], None]] = []

    def _bridge(self, core_signal: Any, qt_signal: Any) -> None:
        # Called on any thread: emitting a Qt signal is thread-safe, and the receivers (living
        # on the GUI thread) get it through Qt's queued connection.
        def forward(*args: Any) -> None:
            qt_signal.emit(*args)

        core_signal.connect(forward)
        self._disconnects.append(lambda: core_signal.disconnect(forward))

    def watch_acquisition(self, acquisition: Any) -> None:
        """Forward ``acquisition.stream_failed``, ``consumer_failed`` and ``stream_added``."""
        self._bridge(acquisition.stream_failed, self.stream_failed)
        self._bridge(acquisition.consumer_failed, self.consumer_failed)
        self._bridge(acquisition.stream_added, self.stream_added)

    def watch_recorder(self, recorder: Any) -> None:
        """Forward the recorder's ``started``, ``stopped`` and ``failed`` signals."""
        for core_name, qt_signal in (
            ("started", self.recording_started),
            ("stopped", self.recording_stopped),
            ("failed", self.recording_failed),
        ):
            sig = getattr(recorder, core_name, None)
            if sig is not None:
                self._bridge(sig, qt_signal)

    def release(self) -> None:
        """Disconnect from every core object watched so far."""
        for undo in self._disconnects:
            try:
                undo()
            except (ValueError, RuntimeError):  # already disconnected / object gone
                pass
        self._disconnects.clear()


