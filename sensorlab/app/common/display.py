"""Whether Qt can open a window here, and closing a window cleanly on Ctrl-C/SIGTERM.

Shared by the studio (`sensorlab.app.main`) and the labeling window (`app/labeling/main.py`),
and asked by the command line before it imports Qt at all: without a display Qt aborts with a
plugin error that names the wrong culprit (libxcb-cursor), so we say what is wrong in one line
instead and name the headless alternatives.
"""

from __future__ import annotations

import os
import sys

LABEL_NO_DISPLAY = (
    "sensorlab label: no display found (DISPLAY and WAYLAND_DISPLAY are unset). Work headless with "
    "`sensorlab labels export|import|suggest FILE …`, or run the window under a virtual display: "
    "`xvfb-run sensorlab label FILE`."
)

NO_DISPLAY = (
    "sensorlab: no display found (DISPLAY and WAYLAND_DISPLAY are unset). "
    "Record without a window: `sensorlab record --demo -o FILE`, or run the studio under a virtual display: `xvfb-run sensorlab`."
)
#: Qt platforms that need no display server.
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay", "wasm")


def has_display(environ: dict[str, str] | None = None) -> bool:
    """True when Qt can open windows: a display server, or a platform that needs none."""
    env = os.environ if environ is None else environ
    if sys.platform in ("win32", "darwin"):
        return True
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0]
    if platform and not platform.startswith(("xcb", "wayland")):
        return True  # offscreen, vnc, eglfs, … pick their own surface
    if platform.startswith("wayland"):
        return bool(env.get("WAYLAND_DISPLAY"))
    if platform.startswith("xcb"):
        return bool(env.get("DISPLAY"))
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def close_on_signals(window) -> None:
    """Ctrl-C (SIGINT) or SIGTERM closes ``window`` the normal way, so a recording is
    finished (footers written, labels saved) instead of the process dying mid-file.

    Qt's event loop runs in C++, where Python signal handlers never get a turn; a short
    idle timer hands control back to the interpreter a few times a second.
    """
    import signal

    from PySide6.QtCore import QTimer

    def _close(*_):
        window.close()

    signal.signal(signal.SIGINT, _close)
    signal.signal(signal.SIGTERM, _close)
    timer = QTimer(window, interval=200)
    timer.timeout.connect(lambda: None)
    timer.start()
