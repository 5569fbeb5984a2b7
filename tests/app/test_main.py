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


def test_ctrl_c_closes_the_studio_cleanly(tmp_path):
    """SIGINT reaches Python although Qt's event loop is running, and the window closes
    through its normal path (which finishes a recording) instead of dying mid-file."""
    import signal
    import time

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    code = "import sys; from sensorlab.app.main import main; sys.exit(main(['--demo', '--settings', sys.argv[1]]))"
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "s.ini")], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "s.ini").exists() and time.monotonic() < deadline:
            time.sleep(0.2)  # the window writes its settings once it is up
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 0, proc.stderr.read()
    assert "KeyboardInterrupt" not in proc.stderr.read()
