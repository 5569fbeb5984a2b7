"""`PollingSource`: turns one blocking ``read_once()`` into a device thread.

A camera (OpenCV's ``grab`` blocks until the next frame) or any device read in a loop only
has to implement `PollingSource.read_once`; starting, stopping, and turning an exception
into a reported stream failure live here.
"""

from __future__ import annotations

import threading

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.source import SourceBase, SourceError


class PollingSource(SourceBase):
    """A source whose device thread calls `read_once` until stopped.

    Subclasses implement `_open` (set ``self.streams``) and `read_once`, and may override
    `_close`. A `SourceError` raised by `read_once` stops the stream and is reported through
    ``failed`` and ``stats[...].error``; any other exception is reported the same way with
    its type name.
    """

    #: Seconds `stop` waits for a blocked `read_once` to return.
    join_timeout = 5.0

    def __init__(self, description: str = ""):
        super().__init__(description)
        self._thread: threading.Thread | None = None
        # NB: an Event, so `stop` (any thread) can wake a device thread sleeping in `_sleep_until`.
        self._wake = threading.Event()

    def read_once(self) -> bool | None:
        """Read one sample/frame and `_emit` it (device thread).

        Returns
        -------
        False at a normal end of stream (a video file that does not loop); anything else
        keeps the loop going.
        """
        raise NotImplementedError

    def _start(self) -> None:
        self._wake.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"source-{self.description}")
        self._thread.start()

    def _loop(self) -> None:
        """Device thread."""
        try:
            while self._running.is_set():
                if self.read_once() is False:
                    if self._running.is_set():
                        self._running.clear()
                        self.stopped.emit()
                    return
        except SourceError as e:
            self._fail(str(e))
        except Exception as e:  # a driver error we did not anticipate must still reach the user
            self._fail(f"{self.description}: {type(e).__name__}: {e}")

    def _stop(self) -> None:
        self._wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(self.join_timeout)
        self._thread = None

    def _sleep_until(self, t: float) -> bool:
        """Sleep until host time ``t`` (device thread); False if woken by `stop`."""
        delay = t - now()
        return not (delay > 0 and self._wake.wait(delay))
