"""The one place where core (psygnal) signals cross into the Qt GUI thread.

The core (`Studio`, which forwards what its `Acquisition` and `Recorder` report) emits plain
psygnal signals on whatever thread noticed the event: a device thread, the writer thread, a
worker. Widgets must only be
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
    recording_failed(stream, message)
        The recorder could not write a stream (the others keep recording); ``stream == ""``:
        the whole recording stopped.
    consumer_failed(stream, message)
        A consumer of the acquisition raised and was detached (the devices go on).
    stream_added(info)
        A processor added to the running rig declared a stream.
    stream_removed(name), stream_renamed(old, info)
        A model was unloaded (its stream ended) / a running stream was renamed.
    message(text), problem(text)
        The studio has something to tell the user (information / an error).
    """

    stream_failed = Signal(str, str)
    consumer_failed = Signal(str, str)
    stream_added = Signal(object)
    stream_removed = Signal(str)
    stream_renamed = Signal(str, object)
    recording_failed = Signal(str, str)
    message = Signal(str)
    problem = Signal(str)

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

    def watch_studio(self, studio: Any) -> None:
        """Forward every studio signal the window shows (see the class docstring)."""
        for core_name, qt_signal in (
            ("stream_failed", self.stream_failed),
            ("consumer_failed", self.consumer_failed),
            ("stream_added", self.stream_added),
            ("stream_removed", self.stream_removed),
            ("stream_renamed", self.stream_renamed),
            ("recording_failed", self.recording_failed),
            ("message", self.message),
            ("problem", self.problem),
        ):
            self._bridge(getattr(studio, core_name), qt_signal)

    def release(self) -> None:
        """Disconnect from every core object watched so far."""
        for undo in self._disconnects:
            try:
                undo()
            except (ValueError, RuntimeError):  # already disconnected / object gone
                pass
        self._disconnects.clear()


