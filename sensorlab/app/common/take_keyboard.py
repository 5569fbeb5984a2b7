"""`take_keyboard`: a window just shown gets the keyboard, so its hotkeys work before any click.

A window manager usually activates a new window; without one (a bare X server such as Xvfb, a
kiosk session) nothing does, and keys typed before the first click reached no widget: the
studio's label digits, Space and Ctrl+R did nothing. Asking for activation ourselves is what a
window manager would do anyway (it still decides, where there is one).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget


def take_keyboard(window: QWidget, focus: QWidget | None = None) -> None:
    """Raise and activate ``window``; give ``focus`` (a widget in it) the keyboard focus.

    Without ``focus`` the window keeps its own focus widget, or none: keys then go to the
    window itself, where window shortcuts and event filters on it (the studio's label
    hotkeys) take them. Qt defers the activation until the window is mapped, so this can be
    called from ``showEvent``."""
    window.raise_()
    window.activateWindow()
    if focus is not None:
        focus.setFocus(Qt.FocusReason.ActiveWindowFocusReason)


__all__ = ["take_keyboard"]
