"""The toolbar's buttons read as the docs name them: Devices…, Label…, Clap to sync… (the
ellipsis says a dialog follows; Qt drops it from a tool button's text unless told otherwise)."""

from __future__ import annotations

from PySide6.QtWidgets import QToolBar, QToolButton


def test_toolbar_buttons_keep_their_ellipsis(make_window):
    w = make_window()
    bar = w.findChild(QToolBar, "main_toolbar")
    shown = {b.text() for b in bar.findChildren(QToolButton) if b.isVisible()}
    assert {"Devices…", "Label…", "Clap to sync…"} <= shown, shown
