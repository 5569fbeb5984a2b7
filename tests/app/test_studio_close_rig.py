"""Close rig: the studio stops its devices and frees their ports without quitting, so another
program (a flashing tool, a serial monitor) can open the board, and Devices… can open a rig
again. Refused while recording, saying so. There was no way short of quitting the studio."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import tty

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolBar, QToolButton

from sensorlab.acquisition.rig import parse_rig
from sensorlab.app.studio.main_window import MainWindow

pytestmark = pytest.mark.skipif(os.name != "posix", reason="ptys are POSIX only")

#: Opens the port as the studio does (an exclusive lock): exit 0 when it could, else 1 with why.
EXCLUSIVE_OPEN = """
import sys, serial
try:
    serial.Serial(sys.argv[1], 115200, exclusive=True).close()
except serial.SerialException as e:
    print(e); sys.exit(1)
"""


def _exclusive_open(port: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", EXCLUSIVE_OPEN, port], capture_output=True, text=True, timeout=120)


@pytest.fixture
def text_board():
    """A text board on a real pty printing ``x,y`` lines at ~100 Hz: ``(rig_text, port)``."""
    master, slave = os.openpty()
    tty.setraw(master)
    done = threading.Event()

    def speak() -> None:
        i = 0
        while not done.is_set():
            try:
                os.write(master, f"{i % 50},{i % 7}\n".encode())
            except OSError:  # its buffer is full while no one reads (the rig closed): drop it
                pass
            i += 1
            done.wait(0.01)

    board = threading.Thread(target=speak, name="text board", daemon=True)
    board.start()
    port = os.ttyname(slave)
    rig_text = f'name = "bench"\n[[serial]]\nname = "board"\nport = "{port}"\nbaud = 115200\nprotocol = "text"\nrate = 100\nchannels = ["x", "y"]\n'
    try:
        yield rig_text, port
    finally:
        done.set()
        board.join(10)
        os.close(master)
        os.close(slave)


def _fill(button) -> tuple[int, int, int]:
    """The colour the button is filled with (a pixel inside its rounded edge)."""
    c = button.grab().toImage().pixelColor(6, button.height() // 2)
    return c.red(), c.green(), c.blue()


def _open_window(qtbot, settings, rig_text: str) -> MainWindow:
    window = MainWindow(parse_rig(rig_text).build_sources(), rig_text=rig_text, rig_name="bench", settings=settings)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.acquisition_ready, timeout=30_000):
        window.show()
    return window


def test_close_rig_frees_the_port_for_another_program_and_a_rig_opens_again(qtbot, settings, text_board):
    rig_text, port = text_board
    window = _open_window(qtbot, settings, rig_text)
    try:
        qtbot.waitUntil(lambda: window.studio.stats["board"].samples > 10, timeout=30_000)
        held = _exclusive_open(port)
        assert held.returncode == 1, "the studio's rig should hold the port exclusively"
        pressable = _fill(window.record_button)
        bar = window.findChild(QToolBar, "main_toolbar")
        button = next(b for b in bar.findChildren(QToolButton) if b.defaultAction() is window.close_rig_action)
        assert button.isVisible() and button.text() == "Close rig"
        with qtbot.waitSignal(window.rig_closed, timeout=30_000):
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        # The studio as it starts: no rig, no plots, Record off, saying how to open one.
        assert window.acquisition is None and window.live_view is None and window.health_view is None
        assert not window.record_button.isEnabled() and not window.close_rig_action.isEnabled()
        assert _fill(window.record_button) != pressable, "a Record button that does nothing must not look pressable"
        assert window.stack.currentWidget() is window.waiting and "No rig is open" in window.waiting.text()
        assert window.windowTitle() == "sensorlab — no rig"
        free = _exclusive_open(port)
        assert free.returncode == 0, f"another program cannot open the port after Close rig: {free.stdout}"
        # Devices… → Use this rig: the same rig opens again and streams.
        with qtbot.waitSignal(window.acquisition_ready, timeout=30_000):
            window.open_sources(parse_rig(rig_text).build_sources(), rig_text=rig_text, rig_name="bench")
        assert window.live_view is not None and window.record_button.isEnabled() and window.close_rig_action.isEnabled()
        qtbot.waitUntil(lambda: window.studio.stats["board"].samples > 10, timeout=30_000)
    finally:
        window.close()


def test_close_rig_is_refused_while_recording(qtbot, settings, text_board, tmp_path):
    rig_text, port = text_board
    window = _open_window(qtbot, settings, rig_text)
    try:
        window.studio.start_recording(tmp_path / "r.h5")
        assert window.close_rig() is False
        assert window.banner.isVisible() and "stop the recording before closing the rig" in window.banner.text()
        assert window.studio.recording and window.acquisition is not None and window.live_view is not None
        before = window.studio.stats["board"].samples
        qtbot.waitUntil(lambda: window.studio.stats["board"].samples > before + 10, timeout=30_000)  # still recording
        window.studio.stop_recording()
        with qtbot.waitSignal(window.rig_closed, timeout=30_000):
            assert window.close_rig()
        assert _exclusive_open(port).returncode == 0
    finally:
        window.close()
