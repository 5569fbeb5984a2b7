"""Files that are not sessions, cut off or damaged: a clear `SessionError` at once, no stray copies."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.session.reader import Session, SessionError
from sensorlab.session.summary import format_summary


@pytest.fixture
def recorded(make_session):
    return make_session(
        SignalSource("imu", shape=(16,), rate=1000, chunk_size=10, realtime=False, max_samples=20000),
        SignalSource("cam", kind="video", shape=(48, 64, 3), rate=30, chunk_size=1, realtime=False, max_samples=60),
    )


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_text_file_is_not_an_hdf5_file_and_leaves_no_copy(tmp_path):
    p = tmp_path / "notes.h5"
    p.write_text("not a recording\n" * 100)
    with pytest.raises(SessionError, match="is not an HDF5 session file"):
        Session.open(p)
    assert _listing(tmp_path) == ["notes.h5"]


def test_a_directory_is_refused_without_creating_files(tmp_path):
    d = tmp_path / "run1.h5"
    d.mkdir()
    with pytest.raises(SessionError, match="is a directory"):
        Session.open(d)
    assert _listing(tmp_path) == ["run1.h5"] and _listing(d) == []


@pytest.mark.parametrize("keep", [1000, 0.5], ids=["1000-bytes", "half"])
def test_a_truncated_file_is_refused_at_once_and_never_copied(tmp_path, recorded, keep):
    data = recorded.read_bytes()
    cut = tmp_path / "cut" / "cut.h5"
    cut.parent.mkdir()
    cut.write_bytes(data[: keep if isinstance(keep, int) else int(len(data) * keep)])
    # In a child process: before the fix, HDF5's SWMR open retried for >10 minutes.
    code = (
        "import sys\nfrom sensorlab.session.summary import format_summary\n"
        "try:\n    format_summary(sys.argv[1])\nexcept ValueError as e:\n    print(type(e).__name__, e)\n"
    )
    res = subprocess.run([sys.executable, "-c", code, str(cut)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("SessionError") and "truncated or damaged" in res.stdout and "cut.h5" in res.stdout
    assert _listing(cut.parent) == ["cut.h5"]


def test_a_file_damaged_inside_becomes_a_session_error(tmp_path, recorded):
    data = bytearray(recorded.read_bytes())
    data[2000:6000] = b"\0" * 4000  # object headers / attributes, same length
    bad = tmp_path / "bad" / "bad.h5"
    bad.parent.mkdir()
    bad.write_bytes(bytes(data))
    with pytest.raises(SessionError, match="bad.h5") as e:
        format_summary(bad)
    assert "truncated or damaged" in str(e.value) or "not a sensorlab session" in str(e.value)
    assert _listing(bad.parent) == ["bad.h5"]


@pytest.mark.skipif(not all(shutil.which(t) for t in ("h5dump", "h5ls", "h5stat")), reason="hdf5-tools not installed")
def test_hdf5_command_line_tools_read_a_session(recorded):
    for cmd in (["h5dump", str(recorded)], ["h5ls", "-r", "-v", str(recorded)], ["h5stat", str(recorded)]):
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0 and "error" not in res.stderr.lower(), (cmd, res.stderr[-500:])
        assert "*ERROR*" not in res.stdout, cmd
    assert "/streams/imu/health" in subprocess.run(["h5ls", "-r", str(recorded)], capture_output=True, text=True).stdout
