"""Entry point of the recording studio: ``sensorlab``, ``sensorlab gui [--rig FILE | --demo]``.

Checks for a display *before* Qt is touched: without one, Qt aborts with a plugin error that
names the wrong culprit (libxcb-cursor), so we say what is wrong in one line instead and name
the headless alternatives.
"""

from __future__ import annotations

import argparse
import sys

from sensorlab.app.common.display import NO_DISPLAY, close_on_signals, has_display


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
    return config.to_toml(defaults=True), config.build_sources()


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
        rig_text, rig_name = config.to_toml(defaults=True), config.name
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


if __name__ == "__main__":
    sys.exit(main())
