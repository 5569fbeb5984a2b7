"""`sensorlab record` on a loaded host judges the devices by what they sent, not by when the
host got round to reading it: a healthy board beside CPU hogs, or behind a host that got no
CPU for seconds, exits 0 with every sample it took before Stop; a board that sends slower than
its rig says, or stops sending, still exits 3.

At a load average of ~20 the demo rig's healthy boards were reported as "stopped sending 2.5 s
before the end of the recording" (their last seconds still unread in the pty when the recorder
stopped listening: lost from the file) and as "rate 73.7 of 100 Hz" (measured over the span of
arrivals, which a late read stretches), and `record` exited 3.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sensorlab.session.reader import Session

from .processes import child_pids, command_line
from .test_attack_cli import run_cli, steady_board, text_board_rig, the_warning

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(os.name != "posix", reason="ptys and SIGSTOP are POSIX only")

BOARDS = 'name = "boards"\n[[emulated]]\ndevice = "imu-text"\nname = "wrist"\n[[emulated]]\ndevice = "imu-binary"\nname = "imu"\n'


@contextmanager
def cpu_hogs(n: int = 2) -> Iterator[None]:
    """``n`` processes that each keep a core busy (the load of other programs), ended on leaving."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait(30)


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:  # a reader that ended between listing and signalling
            pass


def test_a_host_that_gets_no_cpu_at_the_end_keeps_the_boards_samples_and_exits_0(tmp_path):
    """The recording process and its serial readers get no CPU for 2.5 s (SIGSTOP: the worst a
    load of 20+ does), across the end of `-d 2`; the boards, like hardware, run on meanwhile."""
    rig, out = tmp_path / "rig.toml", tmp_path / "x.h5"
    rig.write_text(BOARDS)
    proc = subprocess.Popen([sys.executable, "-m", "sensorlab.cli", "record", "--rig", str(rig), "-d", "2", "-o", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    try:
        # Once the recording has flushed samples (the file grew past its empty layout)...
        deadline = time.monotonic() + 120
        while not (out.exists() and out.stat().st_size > 0):
            assert time.monotonic() < deadline and proc.poll() is None, "the recording did not start"
            time.sleep(0.02)
        empty = out.stat().st_size
        while out.stat().st_size <= empty:
            assert time.monotonic() < deadline and proc.poll() is None, "no samples were flushed"
            time.sleep(0.02)
        # ...the host stalls: the recording process and its readers, not the board host.
        frozen = [proc.pid] + [c for c in child_pids(proc.pid) if "board_host" not in command_line(c)]
        _signal_all(frozen, signal.SIGSTOP)
        time.sleep(2.5)  # the stall itself (the load), not a wait for a condition
        _signal_all(frozen, signal.SIGCONT)
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stdout + stderr
    assert "stopped sending" not in stderr and "declared rate" not in stderr, stderr
    with Session.open(out) as s:
        end = s.metadata.end_host_time
        for name in ("wrist", "imu"):  # what the boards took up to Stop is in the file
            assert end - s.streams[name].last_time < 0.5, (name, end - s.streams[name].last_time)


def test_healthy_boards_beside_cpu_hogs_exit_0(tmp_path):
    rig, out = tmp_path / "rig.toml", tmp_path / "x.h5"
    rig.write_text(BOARDS)
    with cpu_hogs(2):
        proc = run_cli("record", "--rig", str(rig), "-d", "3", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with Session.open(out) as s:
        assert s.streams["wrist"].count > 200 and s.streams["imu"].count > 2000


def test_a_board_slower_than_its_rig_rate_beside_cpu_hogs_exits_3(tmp_path):
    """70 lines a second into `rate = 100`: its stamps run 30 % fast; judged by what it sent, it is still caught."""
    out = tmp_path / "x.h5"
    with text_board_rig(tmp_path, "slow", 100, ["a", "b"], steady_board(70)) as rig, cpu_hogs(2):
        proc = run_cli("record", "--rig", str(rig), "-d", "4", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    warning = the_warning(proc)
    assert "slow: its rate is 100 Hz but the device sent" in warning, warning
    assert "wrist: " not in proc.stderr  # the emulated board at its right rate: nothing said
