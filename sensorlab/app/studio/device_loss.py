"""`DeviceLossWatch`: the studio's banner while a serial board is lost, and a line when it is back.

A serial board unplugged (or reset, or its USB bridge re-enumerated) is not a failed stream:
its source keeps reopening the port and carries on when the board is back (`StreamStats.lost`,
`serial/reconnect.py`). Only the Stream health row said so; the red banner, where the studio
says what is wrong, stayed empty, recording or not, and a user watching the plots (or on
another tab) saw flat lines with no reason. This polls the streams' stats and shows one
banner line for every board lost (each one's streams and reason, what to do), a condition that
clears itself when the boards are back (or the devices are closed or opened again); a board
that is back leaves the line (the others stay named) and is logged as back. Several boards go
at once when a USB hub is unplugged: a line per board stacked up as "+N more", one hidden
under the other. `failed_source` names a failed source and gives the condition of a failed
stream's banner.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

#: How often the streams' stats are read (ms): a loss shows within about this long.
POLL_MS = 500
#: The banner's key for the lost boards' line (one line, rewritten as boards go and come back).
BANNER_KEY = "device-lost"


class DeviceLossWatch(QObject):
    """Watches ``window.acquisition``'s streams; tells ``window.show_error`` / ``window.post``.

    ``window`` is the studio's `MainWindow` (its ``acquisition``, ``recorder``, ``show_error``
    and ``post``)."""

    def __init__(self, window):
        super().__init__(window)
        self._window = window
        self._acq = None
        #: (lost_at, reason) of each board whose loss is shown → the names of its streams
        self._shown: dict[tuple[float, str], list[str]] = {}
        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        acq = self._window.acquisition
        if acq is not self._acq:  # another rig (or none): its banners went with the old devices
            self._acq, self._shown = acq, {}
        if acq is None:
            return
        stats = acq.stats
        lost: dict[tuple[float, str], list[str]] = {}
        for name, st in stats.items():
            if st.lost:
                lost.setdefault((st.lost_at, st.lost_reason), []).append(name)
        new = [key for key in lost if key not in self._shown]
        back = [key for key in self._shown if key not in lost]
        for key in back:
            names = self._shown.pop(key)
            if any(n in stats and stats[n].reconnects for n in names):
                self._window.post(f"{', '.join(names)}: device back ({key[1].split(':')[0]})"
                                  + ("; recording on, the time it was gone is a gap" if self._window.recorder is not None else ""))
        for key in new:
            self._shown[key] = lost[key]
        if new:  # a board more is lost: the line again, naming all of them (and in Messages)
            self._window.show_error(self._text(), self._resolved(acq), key=BANNER_KEY)
        elif back and self._shown:  # one is back, others are not: the line names those left
            self._window.banner.rewrite(BANNER_KEY, self._text())

    def _text(self) -> str:
        # Short: the banner is one line, and several boards may go at once (a hub unplugged).
        boards = [f"{', '.join(names)}: device lost ({reason})" for (_t, reason), names in self._shown.items()]
        if len(boards) == 1:
            text, it = f"{boards[0]}: plug it back in or reset it, it is reopened by itself", "it is"
        else:
            text, it = f"{len(boards)} boards lost — {'; '.join(boards)}: plug them back in or reset them, each is reopened by itself", "they are"
        if self._window.recorder is not None:
            text += f"; the recording goes on, the time {it} gone is a gap"
        return text

    def _resolved(self, acq):
        return lambda: self._window.acquisition is not acq or not any(st.lost for st in acq.stats.values())


def failed_source(window, stream: str, message: str):
    """``(names, resolved)`` for the banner of a failed source: the names of its streams (a
    whole device or model reports no stream name: "device stopped" named neither), and the
    banner's condition: resolved once the devices are closed or opened again, or once that
    source or model is gone (a model unloaded, or mapped again, which replaces it). Only a
    reopening cleared it before: a failed model's banner stayed after the model was unloaded,
    over a studio with nothing wrong."""
    acq = window.acquisition
    nodes = (lambda: [*acq.sources, *acq.processors]) if acq is not None else list
    if stream:
        src = next((s for s in nodes() if stream in s.stats), None)
    else:  # the whole source failed: its streams carry the message as their error
        src = next((s for s in nodes() if s.stats and all(st.error == message for st in s.stats.values())), None)
    names = stream or (", ".join(src.stats) if src is not None else "device")
    return names, lambda: window.acquisition is not acq or (src is not None and all(s is not src for s in nodes()))


__all__ = ["BANNER_KEY", "DeviceLossWatch", "POLL_MS", "failed_source"]
