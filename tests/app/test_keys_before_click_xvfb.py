"""Under a bare X server (Xvfb, no window manager), keys typed right after the studio opens,
before any click, reach it: Ctrl+R records, a digit labels; and in the labeling window opened
on that session a digit labels at the cursor.

Nothing activated the window before: the keys reached no widget until the user clicked.
The studio runs as the user starts it (`python -m sensorlab.app.main`) on a private Xvfb,
the keys are real X key events from xdotool; skipped where either program is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")), reason="needs Xvfb and xdotool")

RIG = '[[emulated]]\ndevice = "microphone"\nrate = 16000\n'


def _wait(condition, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def xdisplay():
    """A private Xvfb without a window manager: ``(DISPLAY, environment for the studio)``."""
    # A free display number, chosen by Xvfb (-displayfd): a guessed one may be another program's.
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write_end,))
    os.close(write_end)
    with os.fdopen(read_end) as chosen:
        number = chosen.readline().strip()
    assert number.isdigit(), "Xvfb did not start"
    env = {**os.environ, "DISPLAY": f":{number}"}
    env.pop("QT_QPA_PLATFORM", None)  # the real xcb platform, as a user runs it
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    _wait(lambda: subprocess.run(["xdotool", "getmouselocation"], env=env, capture_output=True).returncode == 0, 20, "Xvfb")
    # The pointer off the windows (they open at most 1400×900 at the top left): without a window
    # manager X sends keys to the window under the pointer, which hid a window that never took focus.
    subprocess.run(["xdotool", "mousemove", "1599", "999"], env=env, check=True)
    yield env
    xvfb.terminate()
    xvfb.wait(10)


def _xdotool(env, *args) -> str:
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True).stdout.strip()


def test_hotkeys_work_before_any_click(xdisplay, tmp_path):
    env = xdisplay
    rig = tmp_path / "mic.toml"
    rig.write_text(RIG)
    sessions = tmp_path / "sessions"
    ini = tmp_path / "settings.ini"
    ini.write_text(f"[session]\nfolder={sessions}\n")
    log = open(tmp_path / "studio.log", "w")
    studio = subprocess.Popen([sys.executable, "-m", "sensorlab.app.main", "--rig", str(rig), "--settings", str(ini)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        window = _wait(lambda: _xdotool(env, "search", "--onlyvisible", "--name", "^sensorlab"), 60, "the studio window")
        window = window.split()[0]
        title = lambda: _xdotool(env, "getwindowname", window)  # noqa: E731
        # Ctrl+R until a recording runs: the rig opens on a worker (Record is disabled until then).
        def recording() -> bool:
            if title().startswith("● REC"):
                return True
            _xdotool(env, "key", "ctrl+r")
            time.sleep(1.5)
            return title().startswith("● REC")

        _wait(recording, 90, f"Ctrl+R to start a recording (title {title()!r}; log {tmp_path / 'studio.log'})")
        _xdotool(env, "key", "1")  # a point label: 1 = clap
        time.sleep(0.5)
        _xdotool(env, "key", "ctrl+r")
        _wait(lambda: not title().startswith("● REC"), 60, "Ctrl+R to stop the recording")
        sidecar = _wait(lambda: next(iter(sessions.glob("*.labels.json")), None), 30, "the session's labels")
        labels = [s["label"] for s in json.loads(sidecar.read_text())["segments"]]
        assert labels == ["clap"], labels
    finally:
        _stop(studio)
    session = next(sessions.glob("*.h5"))
    labeling = subprocess.Popen([sys.executable, "-m", "sensorlab.app.labeling.main", str(session), "--mute"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _xdotool(env, "search", "--onlyvisible", "--name", "labeling"), 60, "the labeling window")
        time.sleep(2)  # its first paint and overview cache
        _xdotool(env, "key", "2")  # a point at the cursor: 2 = speech
        _wait(lambda: "speech" in sidecar.read_text(), 30, f"a digit to label in the labeling window ({sidecar.read_text()})")
    finally:
        _stop(labeling)
        log.close()


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
