"""Session-log lines about a recorded stream's device: lost, back again, or silent.

The recorder's writer thread polls each stream's `StreamStats` at every flush (the times
come from the source, so a poll every half second still logs when it happened) and writes
a warning into the session log (SWMR-appended at once: a crashed file still says it):

- a serial board unplugged or reset: "device lost (reason)", then "device reconnected"
  (`RECONNECTED`: the reader counts these lines for a file that crashed before its
  ``reconnects`` footer was written); the stretch between is a gap;
- a regular stream with no data for `STALL_WARN_SECONDS`: "no data for N s", once per silence;
- input thrown away, and why (`StreamStats.problem`, e.g. a text board's lines with other
  columns than the rig's `channels`): "nothing stored: …" (`NOTHING_STORED`), once per reason.
"""

from __future__ import annotations

import numpy as np

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.source import StreamInfo, StreamStats
from sensorlab.session.recording_counters import RecordingCounters
from sensorlab.session.writer import SessionWriter

#: A regular stream with no data for this long gets a warning in the session log.
STALL_WARN_SECONDS = 2.0
#: Words of the session-log line written when a lost device is back (the reader counts them
#: for a file that crashed before its ``reconnects`` footer was written).
RECONNECTED = "device reconnected"
#: Words before a `StreamStats.problem` in the session log (`summary` shows them per stream).
NOTHING_STORED = "nothing stored"


class StreamWatch:
    """Logs device losses, returns and silences of one recording's streams (writer thread)."""

    def __init__(self, writer: SessionWriter, counters: RecordingCounters, t_start: float):
        self._writer = writer
        self._counters = counters
        self._t_start = t_start
        self._stall_warned: set[str] = set()
        self._lost_logged: dict[str, float] = {}  # stream → lost_at already logged
        self._reconnects_logged: dict[str, int] = {}
        self._problems_logged: dict[str, str] = {}

    def note_connection(self, name: str, st: StreamStats) -> None:
        """Log a device lost / back (polled at each flush; the times come from the source)."""
        # Logged even if it is back already (an outage shorter than a flush), but not one that
        # happened before this recording started.
        if st.lost_at >= self._t_start and self._lost_logged.get(name) != st.lost_at:
            self._lost_logged[name] = st.lost_at
            self._writer.log(st.lost_at, name, f"{name}: device lost ({st.lost_reason}); reopening it when it is back", "warning")
        back = self._counters.reconnects(name, st)
        if back > self._reconnects_logged.get(name, 0):
            self._reconnects_logged[name] = back
            self._writer.log(now(), name, f"{name}: {RECONNECTED} (reconnect {back}); the time it was gone is a gap", "warning")

    def note_problem(self, name: str, st: StreamStats) -> None:
        """Log why a stream's input is thrown away (once per reason)."""
        problem = st.problem
        if problem and self._problems_logged.get(name) != problem:
            self._problems_logged[name] = problem
            self._writer.log(now(), name, f"{name}: {NOTHING_STORED}: {problem}", "warning")

    def check_stall(self, name: str, info: StreamInfo, st: StreamStats, t: float, stopped: bool) -> None:
        """Warn once when a regular stream that has not stopped has been silent too long."""
        quiet = t - st.last_arrival if np.isfinite(st.last_arrival) else 0.0
        if info.regular and not stopped and quiet > STALL_WARN_SECONDS:
            if name not in self._stall_warned:
                self._stall_warned.add(name)
                self._writer.log(t, name, f"{name}: no data for {quiet:.1f} s", "warning")
        else:
            self._stall_warned.discard(name)
