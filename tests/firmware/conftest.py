"""Host builds of the firmware (library driver and example sketches), made once per test run.

`make -C firmware host` compiles them with the host C compiler, the sketches against the
small Arduino stand-in in firmware/tests/arduino_shim (a pty as Serial, micros() from
CLOCK_MONOTONIC), into a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware"


@pytest.fixture(scope="session")
def firmware_build(tmp_path_factory) -> Path:
    if not (shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")):
        pytest.fail("the firmware tests need a C compiler (Debian/Ubuntu: sudo apt-get install -y gcc g++)")
    build = tmp_path_factory.mktemp("firmware-build")
    proc = subprocess.run(["make", "-s", "-C", str(FIRMWARE), f"BUILD={build}", "host"], check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"firmware host build failed:\n{proc.stdout}\n{proc.stderr}"
    return build


@dataclass
class HostBoard:
    """A sketch running on this PC as an emulated board: its port and its exact clock."""

    proc: subprocess.Popen
    port: str
    t0: float  # time.monotonic() at which the board's micros() read `micros_start`
    micros_start: int

    def host_time(self, device_us: float) -> float:
        """The exact host time (time.monotonic) at which the board's micros() read ``device_us``
        (unwrapped microseconds, as sensorlab stores device times; the board runs < 71 min)."""
        import numpy as np

        elapsed = np.mod(np.asarray(device_us, dtype=np.float64) - self.micros_start, 2.0**32)
        return self.t0 + elapsed * 1e-6


@pytest.fixture
def run_board(firmware_build):
    """``run_board(name, micros_start=0, baud=0)`` starts a host-built sketch; stopped at teardown."""
    boards: list[HostBoard] = []

    def start(name: str, micros_start: int = 0, baud: int = 0) -> HostBoard:
        env = {**os.environ, "SHIM_MICROS_START": str(micros_start), "SHIM_BAUD": str(baud)}
        proc = subprocess.Popen([str(firmware_build / name)], stdout=subprocess.PIPE, text=True, env=env)
        port_line = proc.stdout.readline().split()
        clock_line = proc.stdout.readline().split()
        assert port_line[:1] == ["PORT"] and clock_line[:1] == ["CLOCK"], (port_line, clock_line)
        board = HostBoard(proc, port_line[1], float(clock_line[1]), int(clock_line[2]))
        boards.append(board)
        return board

    yield start
    for b in boards:
        if b.proc.poll() is None:
            os.kill(b.proc.pid, signal.SIGTERM)  # only the process this fixture started
        b.proc.wait(10)
        b.proc.stdout.close()
