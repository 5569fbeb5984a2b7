"""The toolbar's buttons read as the docs name them: Devices…, Label…, Clap to sync… (the
ellipsis says a dialog follows; Qt drops it from a tool button's text unless told otherwise)."""

from __future__ import annotations

from PySide6.QtWidgets import QToolBar, QToolButton


def test_toolbar_buttons_keep_their_ellipsis(make_window):
    w = make_window()
    bar = w.findChild(QToolBar, "main_toolbar")
    shown = {b.text() for b in bar.findChildren(QToolButton) if b.isVisible()}
    assert {"Devices…", "Label…", "Clap to sync…"} <= shown, shown


def test_paused_plots_say_so_on_their_button(qtbot, make_window):
    """Found walking the ML loop: Space (or a click) froze the plots and the checked "Pause
    plots" button looked like the unchecked one, so the live view sat still with nothing saying why."""
    w = make_window()
    bar = w.findChild(QToolBar, "main_toolbar")
    button = bar.widgetForAction(w.pause_action)
    assert button.text() == "Pause plots"
    w.pause_action.trigger()
    assert w.live_view.paused and button.text() == "Resume plots"
    w.pause_action.trigger()
    assert not w.live_view.paused and button.text() == "Pause plots"
