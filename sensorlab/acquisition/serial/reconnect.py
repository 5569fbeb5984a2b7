"""Reopening a serial port that stopped working mid-stream (a board unplugged, reset, or its
USB bridge re-enumerated): the reader-thread half of `SerialSource`.

Why the port is retried rather than the stream failed: a board that is replugged or resets
comes back at the same path within a second or so, and a recording that silently loses the
rest of a session because of a loose cable is the worse outcome. Why backoff: a quick first
retry catches a USB re-enumeration (~0.5 s); doubling to `RECONNECT_MAX` keeps a board that
stays unplugged for an hour from costing anything.
"""

from __future__ import annotations

import logging

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.source import SourceError

log = logging.getLogger(__name__)

#: First wait before reopening a lost port, doubled after each failed attempt up to the maximum.
RECONNECT_FIRST = 0.2
RECONNECT_MAX = 2.0


class Reconnecting:
    """Mixin for `SerialSource` (reader thread only).

    Uses the source's ``stats``, ``port``, ``_running``, ``_wake`` (set by stop), ``_backoff``,
    ``_outage``, ``_release_held``, ``_open_port``, ``_close_port`` and ``_restart_parsing``.
    """

    def _lose(self, e: BaseException) -> None:
        """The port stopped working: keep what arrived, mark the streams lost, release the port."""
        t = now()
        self._release_held()
        reason = f"{self.port}: {e}"
        for name, st in self.stats.items():
            st.lost_reason = reason
            st.lost_at = t
            st.lost = True
            if st.samples:
                self._outage.add(name)
        log.warning("serial port %s stopped working (%s); reopening it when it is back", self.port, e)
        self._close_port()

    def _reopen(self) -> bool:
        """Reopen the port with backoff until it works (True) or the source stops (False)."""
        while self._running.is_set():
            if self._wake.wait(self._backoff):
                return False
            self._backoff = min(2 * self._backoff, RECONNECT_MAX)
            try:
                ser = self._open_port()
            except SourceError:
                continue  # not back yet (missing, busy, or permissions not set up yet)
            if not self._running.is_set():
                ser.close()
                return False
            self._serial = ser
            self._restart_parsing()
            for st in self.stats.values():
                st.reconnects += 1
                st.lost = False
            log.warning("serial port %s is back; recording on (reconnect %d)", self.port, max(st.reconnects for st in self.stats.values()))
            return True
        return False

