"""`DeviceLossWatch`: the studio's banner while a serial board is lost, and a line when it is back.

A serial board unplugged (or reset, or its USB bridge re-enumerated) is not a failed stream:
its source keeps reopening the port and carries on when the board is back (`StreamStats.lost`,
`serial/reconnect.py`). Only the Stream health row said so; the red banner, where the studio
says what is wrong, stayed empty, recording or not, and a user watching the plots (or on
another tab) saw flat lines with no reason. This polls the streams' stats and shows one
banner per lost board (its streams, the reason, what to do), a condition that clears itself
when the board is back (or the devices are closed or opened again), and then logs that it is
back. `failed_source` names a failed source and gives the condition of a failed stream's banner.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

#: How often the streams' stats are read (ms): a loss shows within about this long.
POLL_MS = 500


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
        for key, names in lost.items():
            if key not in self._shown:
                self._shown[key] = names
                self._announce(acq, names, key[1])
        for key in [k for k in self._shown if k not in lost]:
            names = self._shown.pop(key)
            back = [n for n in names if n in stats and stats[n].reconnects]
            if back:
                self._window.post(f"{', '.join(names)}: device back ({key[1].split(':')[0]})"
                                  + ("; recording on, the time it was gone is a gap" if self._window.recorder is not None else ""))

    def _announce(self, acq, names: list[str], reason: str) -> None:
        # Short: the banner is one line, and several boards may go at once (a hub unplugged).
        text = f"{', '.join(names)}: device lost ({reason}): plug it back in or reset it, it is reopened by itself"
        if self._window.recorder is not None:
            text += "; the recording goes on, the time it is gone is a gap"

        def resolved() -> bool:
            return self._window.acquisition is not acq or not any(acq.stats[n].lost for n in names if n in acq.stats)

        self._window.show_error(text, resolved)


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


__all__ = ["DeviceLossWatch", "POLL_MS", "failed_source"]
