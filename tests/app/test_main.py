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
    import threading

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    # One emulated board in this process: the demo's nine devices, its board host and model
    # took ~20 s to open on a loaded machine, and Ctrl-C does not care how many devices run.
    rig = tmp_path / "rig.toml"
    rig.write_text('[[emulated]]\ndevice = "imu-text"\nin_process = true\n')
    # The real entry point; the only addition prints "ready" once the rig's devices run (the
    # window's own signal, emitted from the event loop after Ctrl-C is hooked), so the signal
    # is sent to a running studio however long a loaded machine takes to open it. (The
    # settings file is written at close, not at start: waiting for it waited out its deadline.)
    code = (
        "import sys; import sensorlab.app.main as m\n"
        "hook = m.close_on_signals\n"
        "def ready(window):\n"
        "    hook(window)\n"
        "    window.acquisition_ready.connect(lambda: print('ready', flush=True))\n"
        "m.close_on_signals = ready\n"
        "sys.exit(m.main(['--rig', sys.argv[2], '--settings', sys.argv[1]]))\n"
    )
    err = tmp_path / "stderr.txt"
    with err.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "s.ini"), str(rig)], env=env, stdout=subprocess.PIPE,
                                stderr=stderr, text=True)  # fmt: skip
    ready = threading.Event()

    def watch() -> None:
        for line in proc.stdout:  # read to the end: a full pipe must not block the studio
            if line == "ready\n":
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        assert ready.wait(120), f"the studio did not open its device within 120 s: {err.read_text()}"
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == 0, err.read_text()
    assert "KeyboardInterrupt" not in err.read_text()
    assert (tmp_path / "s.ini").exists()  # closed through the window's normal path: its settings were saved
