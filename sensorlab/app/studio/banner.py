"""`Banner`: the studio's red error line above the live view, which clears itself when it can.

Two kinds of message, decided by the caller (`MainWindow.show_error`):

- a **notice** (``resolved`` not given): something that happened once — an action that could
  not be done ("stop the recording before changing devices"), a task that failed, a model
  refused, a label not saved. It leaves after `NOTICE_MS`; the Messages tab keeps it.
- a **condition** (``resolved`` given): something still true — a device that did not open, a
  stream that stopped. It stays, with a close button (✕), until ``resolved()`` returns True
  (checked every `POLL_MS`: e.g. the devices were opened again), then it leaves by itself.

Before, every message stayed until clicked, also after its cause was gone. The banner shows
the newest message still standing; when it leaves, the one before it (if still standing)
shows again, so a notice never hides a device that is still down for good. Clicking the text
or ✕ dismisses the message shown.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QToolButton, QWidget

#: How long a notice stays (ms).
NOTICE_MS = 20_000
#: How often the conditions shown are checked (ms).
POLL_MS = 1_000
STYLE = "background:#8c1d18;color:white;border:none;padding:6px"
HINT = "all messages are in the Messages tab"


@dataclass
class _Message:
    text: str
    resolved: Callable[[], bool] | None  # None: a notice
    until: float  # monotonic deadline of a notice (inf for a condition)
    key: str = ""  # a message that is rewritten as its cause changes (`show_message(key=…)`)


class Banner(QWidget):
    """The red line of errors: notices leave after a while, conditions when they are resolved."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.notice_ms = NOTICE_MS
        self._messages: list[_Message] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.label = QPushButton()
        self.label.setStyleSheet(f"QPushButton{{{STYLE};text-align:left}}")
        self.label.clicked.connect(self.dismiss)
        # A long message must not widen the window past the screen (a one-line button asks for
        # its whole text's width); it is cut at the window's edge, and whole in the tooltip.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.close_button = QToolButton(text="✕")
        self.close_button.setStyleSheet(f"QToolButton{{{STYLE}}}")
        self.close_button.setToolTip(f"Dismiss this message ({HINT})")
        self.close_button.clicked.connect(self.dismiss)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self.check)
        # One timer for the next notice due; precise, and re-armed by every check: Qt's default
        # (coarse) timers may fire up to 5 % early, and a notice checked before its time, with no
        # condition polling, would then stay for good.
        self._due = QTimer(self, singleShot=True, timerType=Qt.TimerType.PreciseTimer)
        self._due.timeout.connect(self.check)
        self.hide()

    def text(self) -> str:
        return self.label.text()

    @property
    def shown(self) -> list[str]:
        """The messages still standing, oldest first (the last one is shown)."""
        return [m.text for m in self._messages]

    def show_message(self, text: str, resolved: Callable[[], bool] | None = None, key: str = "") -> None:
        """Show ``text``: a notice (leaves after `notice_ms`) or, with ``resolved``, a condition.

        ``key``: one message of that key at a time; a new one replaces it (several boards lost
        are one line naming them all, not a line per board)."""
        until = time.monotonic() + self.notice_ms / 1000 if resolved is None else float("inf")
        # the same again (or the same key): once, newest
        self._messages = [m for m in self._messages if m.text != text and not (key and m.key == key)]
        self._messages.append(_Message(text, resolved, until, key))
        self._render()

    def rewrite(self, key: str, text: str) -> None:
        """Change the text of the message of ``key`` where it stands, if it still stands (one
        dismissed stays dismissed)."""
        for m in self._messages:
            if m.key == key:
                m.text = text
        self._render()

    def dismiss(self) -> None:
        """The user closed the message shown (the one under it, if any, shows)."""
        if self._messages:
            self._messages.pop()
        self._render()

    def check(self) -> None:
        """Drop the notices that are due and the conditions that are resolved."""
        now = time.monotonic()
        keep = []
        for m in self._messages:
            if m.resolved is None:
                gone = now >= m.until
            else:
                try:
                    gone = bool(m.resolved())
                except Exception:  # noqa: BLE001 - a broken check keeps the message rather than the window
                    gone = False
            if not gone:
                keep.append(m)
        if len(keep) != len(self._messages):
            self._messages = keep
            self._render()
        else:
            self._arm()

    def _arm(self) -> None:
        """Look again when the next notice is due (not only at the next poll)."""
        due = [m.until for m in self._messages if m.resolved is None]
        if due:
            self._due.start(max(1, math.ceil((min(due) - time.monotonic()) * 1000)))
        else:
            self._due.stop()

    def _render(self) -> None:
        self._arm()
        if not self._messages:
            self._poll.stop()
            self.hide()
            return
        m = self._messages[-1]
        more = len(self._messages) - 1
        self.label.setText(f"⚠  {m.text}" + (f"   (+{more} more: ✕ shows the next)" if more else ""))
        how = "stays while this is true; ✕ or a click dismisses it" if m.resolved else "leaves by itself; ✕ or a click dismisses it"
        self.setToolTip(f"{m.text}\n\nThis message {how}; {HINT}")
        self.label.setToolTip(self.toolTip())
        if any(x.resolved is not None for x in self._messages):
            self._poll.start()
        else:
            self._poll.stop()
        self.show()


__all__ = ["Banner", "NOTICE_MS", "POLL_MS"]
