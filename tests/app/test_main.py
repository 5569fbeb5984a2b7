"""`sensorlab.app.main`: the one-line message when there is no display."""

from __future__ import annotations

import os
import subprocess
import sys

from sensorlab.app.main import has_display


def test_no_display_prints_one_line_naming_the_alternatives():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    code = "import sys; from sensorlab.app.main import main; sys.exit(main([]))"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "sensorlab record --demo -o FILE" in lines[0] and "xvfb-run sensorlab" in lines[0]
    assert "xcb" not in proc.stderr  # never Qt's misleading plugin error


def test_has_display_rules():
    assert not has_display({})
    assert has_display({"DISPLAY": ":99"})
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"})
    assert has_display({"QT_QPA_PLATFORM": "offscreen"})
    assert not has_display({"QT_QPA_PLATFORM": "xcb"})
    assert not has_display({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"})
