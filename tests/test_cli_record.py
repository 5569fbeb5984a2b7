"""`sensorlab record` as scripts, services and CI run it: real processes, real signals, real files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sensorlab.cli import app
from sensorlab.session.reader import Session

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]


def _rig_with_a_missing_port(tmp_path: Path) -> Path:
    rig = tmp_path / "rig.toml"
    rig.write_text('[[serial]]\nname = "gone"\nport = "/dev/ttyNOPE0"\nrate = 100\n\n[[emulated]]\ndevice = "imu-text"\n')
    return rig


def test_a_device_that_cannot_open_fails_the_recording_unless_allowed(tmp_path):
    rig = _rig_with_a_missing_port(tmp_path)
    out = tmp_path / "x.h5"
    result = runner.invoke(app, ["record", "--rig", str(rig), "-d", "1", "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "/dev/ttyNOPE0" in result.output and "--allow-missing" in result.output
    assert result.output.count("No such file or directory") == 1, result.output  # the reason, once
    assert not out.exists()  # nothing half-recorded for a script to mistake for the real thing


def test_allow_missing_records_the_others_and_reports_the_reason_once(tmp_path):
    rig = _rig_with_a_missing_port(tmp_path)
    out = tmp_path / "x.h5"
    # A subprocess, so stderr (logging, warnings) is seen exactly as a terminal would show it.
    proc = subprocess.run(
        [sys.executable, "-m", "sensorlab.cli", "record", "--rig", str(rig), "-d", "1", "-o", str(out), "--allow-missing"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=tmp_path,
    )  # fmt: skip
    both = proc.stdout + proc.stderr
    assert proc.returncode == 0, both
    assert "recording without 1 device" in proc.stderr and "/dev/ttyNOPE0" in proc.stderr
    assert both.count("No such file or directory") == 1, both
    with Session.open(out) as s:
        assert s.streams["wrist"].count > 50 and "gone" not in s.streams


def test_a_disk_almost_full_stop_is_said_once(tmp_path):
    # Any disk counts as almost full (the threshold tests/session/test_disk_full.py meets on a
    # real small disk, where one can be mounted). The recorder logs why it stopped and `record`
    # raised the same line, which the command printed again: it stood twice on the terminal.
    out = tmp_path / "x.h5"
    rig = tmp_path / "rig.toml"
    rig.write_text('[[emulated]]\ndevice = "imu-text"\n')
    script = ("import sys; from sensorlab.session import failures; failures.STOP_FREE_BYTES = 1 << 62; from sensorlab.cli import main; "
              f"sys.argv = ['sensorlab', 'record', '--rig', {str(rig)!r}, '-d', '120', '-o', {str(out)!r}]; main()")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.count("disk almost full") == 1, proc.stderr
    assert "error: disk almost full: " in proc.stderr and "Free space or record to another disk" in proc.stderr
    with Session.open(out) as s:
        assert s.complete and s.stop_reason.startswith("disk almost full")


def _count(path: Path, stream: str) -> int:
    """Samples of ``stream`` flushed so far, read live (SWMR) while the recorder writes; 0 if not yet readable."""
    try:
        with Session.open(path) as s:  # SWMR: sees what the recorder flushed
            return s.streams[stream].count if stream in s.streams else 0
    except (OSError, KeyError, ValueError):
        return 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_ends_the_recording_with_a_complete_file(tmp_path, sig):
    out = tmp_path / "run.h5"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sensorlab.cli", "record", "--demo", "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while (flushed := _count(out, "imu")) < 100:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no imu samples flushed within 90 s"
            time.sleep(0.1)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "imu" in stdout  # the summary is printed as after Ctrl-C
    with Session.open(out, recover=False) as s:
        assert s.complete and s.stop_reason == "stopped"
        imu = s.streams["imu"]
        assert imu.count >= flushed  # everything up to the stop is there...
        ts = imu.timestamps
        assert (ts[1:] > ts[:-1]).all() and imu.read().data.shape == (imu.count, 6)  # ...and readable
