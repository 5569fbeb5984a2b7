"""A device that describes itself differently mid-stream: compare, and stop what changed.

A binary board that restarts with the port open (its reset button, a watchdog, an OTA
firmware update) or is replugged may come back with another self-description: other
channels, dtype, scale, offset, units or rate. Its samples stored under the old description
would read back wrong (a scale off by 2 is not visible in a file), so the parser holds the
data packets after a restart until the new description has been compared with the old one
(`BinaryParser.expect_description`). Streams whose meaning is unchanged record on; each
changed stream fails with a message naming the board, what changed and the fix, keeping
its samples recorded so far and leaving the other streams recording. A text board that
prints a header naming other columns is the same case (`TextLineParser.changed`).

`stream_changes` is the comparison; `Redescribing` is the `SerialSource` half that asks the
board (DESCRIBE, repeated), gives up after ``open_timeout`` and fails the streams.
"""

from __future__ import annotations

import logging

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.serial.description import DeviceDescription

log = logging.getLogger(__name__)

#: Seconds between DESCRIBE requests while a restarted board's description is awaited.
DESCRIBE_RETRY = 0.4

#: The fields that give stored values their meaning (`StreamDescription`).
MEANING = ("id", "kind", "rate", "dtype", "shape", "channels", "units", "scale", "offset")


def stream_changes(old: DeviceDescription, new: DeviceDescription) -> dict[str, str]:
    """Old stream name → what ``new`` changed about it, old → new.

    Streams are matched by name. The device and firmware strings are not compared (a new
    firmware version that sends the same streams records on); streams ``new`` adds are not
    reported (they are not recorded until the devices are started again).
    """
    old, new = (DeviceDescription.from_json(d.to_json()) for d in (old, new))  # defaults filled in alike
    by_name = {s.name: s for s in new.streams}
    changes: dict[str, str] = {}
    for s in old.streams:
        n = by_name.get(s.name)
        if n is None:
            changes[s.name] = "the stream is no longer described"
            continue
        diffs = [f"{f} {_show(getattr(s, f))} → {_show(getattr(n, f))}" for f in MEANING if getattr(s, f) != getattr(n, f)]
        if diffs:
            changes[s.name] = ", ".join(diffs)
    return changes


def _show(value) -> str:
    if value is None or value == ():
        return "none"
    if isinstance(value, tuple):
        return "[" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


class Redescribing:
    """Mixin for `SerialSource` (reader thread only).

    Uses the source's ``parser``, ``port``, ``stats``, ``open_timeout``, ``_rename``,
    ``_running``, ``_release_held``, ``_send_request`` and ``failed``.
    """

    _awaited_since: float | None = None  # the parser started holding data for a description
    _next_describe: float = 0.0

    def _check_description(self) -> None:
        """After every read (and every quiet one): ask, give up, or fail what changed."""
        parser = self.parser
        changed = getattr(parser, "changed", None)
        if changed:
            changes = dict(changed)
            changed.clear()
            self._fail_changed(changes)
        if not getattr(parser, "awaiting_description", False):
            self._awaited_since = None
            return
        t = now()
        if self._awaited_since is None:
            self._awaited_since, self._next_describe = t, t
        if t - self._awaited_since > self.open_timeout:
            self._awaited_since = None
            self._release_held()
            self._fail(
                f"the device on {self.port} restarted and did not describe itself again within {self.open_timeout:g} s, "
                "so its samples since then are not recorded (they might not have the recorded scale); the samples "
                "before are kept. Check the board, then stop the devices and record again."
            )
        elif t >= self._next_describe:
            self._next_describe = t + DESCRIBE_RETRY
            self._send_request()

    def _fail_changed(self, changes: dict[str, str]) -> None:
        """Fail each changed stream without stopping the others (all changed: stop reading)."""
        self._release_held()  # what arrived before the change is recorded
        board = getattr(getattr(self.parser, "description_received", None), "device", "") or "device"
        failed = []
        for raw, what in changes.items():
            name = self._rename.get(raw, raw)
            st = self.stats.get(name)
            if st is None or st.error:
                continue
            st.error = (
                f"{name}: the {board} on {self.port} now describes this stream differently ({what}); nothing after "
                "the change is recorded, so no sample is stored under the old description, and the samples before "
                "it are kept. To record it as it is now, stop the devices and record again: opened anew, they read its new description."
            )
            failed.append(name)
            log.error("%s", st.error)
        if all(st.error for st in self.stats.values()):
            self._running.clear()  # nothing left to read for
        for name in failed:
            self.failed.emit(name, self.stats[name].error)
