"""SIGKILL a recording process: the file still opens and holds everything up to about the last flush."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.session.reader import Session, SessionError
from sensorlab.session.recorder import BATCH_INTERVAL, FLUSH_INTERVAL

RATE = 1000

CHILD = textwrap.dedent(
    f"""
    import sys, time
    from sensorlab.acquisition.emulated.signal import SignalSource
    from sensorlab.acquisition.hub import Acquisition
    from sensorlab.session.recorder import Recorder

    imu = SignalSource("imu", shape=(6,), rate={RATE}, chunk_size=10)
    cam = SignalSource("cam", kind="video", shape=(48, 64, 3), rate=30, chunk_size=1)
    acq = Acquisition([imu, cam]); acq.open()
    rec = Recorder(acq, sys.argv[1]); rec.start(); acq.start()
    while True:
        print(imu.stats["imu"].samples, flush=True)
        time.sleep(0.02)
    """
)


def _record_then_kill(tmp_path, min_samples: int) -> tuple[str, int]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    path = tmp_path / "killed.h5"
    proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True)
    try:
        seen = 0
        for line in proc.stdout:
            seen = int(line)
            if seen >= min_samples:
                break
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert seen >= min_samples, "the child recorder died on its own"
    return str(path), seen


def test_sigkill_keeps_everything_up_to_the_last_flush(tmp_path):
    path, seen = _record_then_kill(tmp_path, min_samples=2500)
    with Session.open(path) as s:
        assert not s.complete and s.stop_reason == ""
        imu = s.streams["imu"]
        n = imu.count
        # Lost at most one flush interval + one batch (+ scheduling slack), never more.
        assert seen - RATE * (FLUSH_INTERVAL + BATCH_INTERVAL + 0.6) <= n
        ts = imu.timestamps
        assert np.all(np.diff(ts) > 0)
        ref = SignalSource("imu", shape=(6,), rate=RATE)
        np.testing.assert_array_equal(imu.read_index().data, ref.expected(np.arange(n)))
        h = imu.health
        assert len(h) >= 2 and h["samples"][-1] <= n and np.all(np.diff(h["time"]) > 0)
        assert s.streams["cam"].count > 0 and s.streams["cam"].read_index(0, 1).data.shape == (1, 48, 64, 3)
        assert imu.stats.samples == n  # counters fall back to the data + last health row


def test_a_file_left_flagged_open_is_read_from_an_h5clear_copy(tmp_path, make_session):
    path = make_session(SignalSource("x", shape=(2,), rate=100, realtime=False, max_samples=500))
    # A writer that dies while it has the file open (not in SWMR mode) leaves it flagged.
    code = "import h5py, os, signal, sys; f = h5py.File(sys.argv[1], 'r+'); f.flush(); os.kill(os.getpid(), signal.SIGKILL)"
    subprocess.run([sys.executable, "-c", code, str(path)], check=False)
    original = path.read_bytes()
    with Session.open(path) as s:
        assert s.recovered_from == path and s.path != path and s.path.exists()
        assert s.streams["x"].count == 500
    assert path.read_bytes() == original, "recovery must never modify the original"
    with pytest.raises(SessionError, match="h5clear"):
        Session.open(path, recover=False)


def test_sigkill_leaves_no_reserve_file_behind(tmp_path):
    # Before the fix every SIGKILL left a 32 MiB `<file>.h5.reserve` that nothing deleted.
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    path = tmp_path / "killed.h5"
    reserve = tmp_path / "killed.h5.reserve"
    proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if int(line) >= 500:
                break
        # While recording the space is held by an open, already unlinked file.
        fds = [os.readlink(f"/proc/{proc.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{proc.pid}/fd")]
        assert f"{reserve} (deleted)" in fds, fds
        assert not reserve.exists()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["child.py", "killed.h5"]
    with Session.open(path) as s:
        assert s.streams["imu"].count > 0
