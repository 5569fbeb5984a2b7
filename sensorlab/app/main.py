"""Entry point of the recording studio: ``sensorlab``, ``sensorlab gui [--rig FILE | --demo]``.

Checks for a display *before* Qt is touched: without one, Qt aborts with a plugin error that
names the wrong culprit (libxcb-cursor), so we say what is wrong in one line instead and name
the headless alternatives.
"""

from __future__ import annotations

import argparse
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


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="sensorlab gui", description="Open the recording studio.")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--rig", help="rig file (TOML) to open")
    g.add_argument("--demo", action="store_true", help="use the built-in emulated devices (default)")
    p.add_argument("--settings", help="settings file (INI) instead of the user's settings")
    return p.parse_args(argv)


def demo_rig_and_sources():
    """The built-in demo rig with the demo model: ``(rig_text, sources)``."""
    from sensorlab.studio.demo import demo_rig

    config = demo_rig()
    return config.to_toml(), config.build_sources()


def main(argv: list[str] | None = None) -> int:
    """Open the studio; returns the process exit code (2: no display or a bad rig file)."""
    args = _parse(sys.argv[1:] if argv is None else list(argv))
    if not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    rig_name = "demo rig"
    if args.rig:
        from sensorlab.acquisition.rig import RigError, load_rig

        try:
            config = load_rig(args.rig)
            sources = config.build_sources()
        except RigError as e:
            print(f"sensorlab: {e}", file=sys.stderr)
            return 2
        rig_text, rig_name = config.to_toml(), config.name
    else:
        rig_text, sources = demo_rig_and_sources()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from sensorlab.app.common import theme
    from sensorlab.app.studio.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "sensorlab"])
    app.setApplicationName("sensorlab")
    app.setOrganizationName("sensorlab")
    theme.apply(app)
    settings = QSettings(args.settings, QSettings.Format.IniFormat) if args.settings else QSettings("sensorlab", "sensorlab")
    window = MainWindow(sources, rig_text=rig_text, rig_name=rig_name, settings=settings)
    window.show()
    close_on_signals(window)
    return int(app.exec())


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


if __name__ == "__main__":
    sys.exit(main())
