"""A disk that really fills up (a 3 MB tmpfs): the recording stops once, cleanly, and says so.

Each recording runs in a child process: before the fix the child segfaulted (HDF5 closing a
dataset whose close had failed), which would take pytest down with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest

from sensorlab.session.reader import Session
from sensorlab.session.summary import summarize

CHILD = textwrap.dedent(
    """
    import sys
    from sensorlab.acquisition.emulated.signal import SignalSource
    from sensorlab.session import disk_reserve, failures
    from sensorlab.studio import headless
    if sys.argv[2] == "no-reserve":
        disk_reserve.RESERVE_BYTES = 0  # DiskReserve reads it when the recording starts
    if sys.argv[2] != "early-stop":
        failures.STOP_FREE_BYTES = 0  # meet the full disk itself (another program may fill it first)
    if sys.argv[2] == "starved":  # a writer the machine starves: its timed flushes never come
        from sensorlab.session import writer_thread
        writer_thread.FLUSH_INTERVAL = 3600.0
    sources = [
        SignalSource("imu", shape=(64,), rate=2000, chunk_size=20),
        SignalSource("mcu", shape=(4,), rate=500, chunk_size=10, device_time=True),
        SignalSource("cam", kind="video", shape=(120, 160, 3), rate=30, chunk_size=1),
    ]
    try:
        headless.record(sources, sys.argv[1], duration=30)
    except OSError as e:
        print("OSError:", e, flush=True)
        sys.exit(3)
    print("finished without error", flush=True)
    """
)


#: Every tmpfs this module mounted (other processes on the machine may mount their own).
MOUNTED: list[str] = []


@pytest.fixture
def small_disk(tmp_path, request):
    """A 3 MB tmpfs (or ``request.param`` MB), unmounted afterwards (skips where mounting is not allowed)."""
    size = getattr(request, "param", 3)
    mnt = Path("/tmp") / f"sensorlab-full-{uuid.uuid4().hex[:8]}"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if res.returncode != 0:
        mnt.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip()})")
    MOUNTED.append(str(mnt))
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)]).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)])
        mnt.rmdir()


# "starved": on a busy machine the writer appended more between its timed flushes than the
# reserve of a small disk holds, so the final flush failed too and the footers were lost (CI).
@pytest.mark.parametrize("mode", ["reserve", "no-reserve", "starved"])
def test_a_full_disk_stops_the_recording_once_and_the_file_reads_back(tmp_path, small_disk, mode):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    path = small_disk / "full.h5"
    res = subprocess.run([sys.executable, str(script), str(path), mode], capture_output=True, text=True, timeout=120)
    assert res.returncode == 3, f"rc={res.returncode} (139 = segfault)\n{res.stdout}\n{res.stderr[-3000:]}"
    assert res.stdout.startswith("OSError: disk full: free space on " + str(small_disk)), res.stdout
    assert res.stderr.count("disk full:") <= 2  # one log line (+ the recorder's logger), not a traceback storm
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    assert not (small_disk / "full.h5.reserve").exists()
    with Session.open(path) as s:
        if mode != "no-reserve":  # the reserve let the file be closed and get its footers
            assert s.stop_reason.startswith("disk full")
        assert not s.complete  # a write failed: never "complete", so every sample is validated
        for name, r in s.streams.items():
            ts = r.timestamps
            assert len(ts) == r.count == r.stats.samples
            assert np.all(np.isfinite(ts)) and np.all(ts > 0), name
            if r.info.regular:
                assert np.all(np.diff(ts) > 0), name
            assert r.duration >= 0
        assert s.streams["imu"].count > 0
    d = summarize(path, measure_sync=False)
    assert d["duration"] >= 0 and all(x["duration"] >= 0 for x in d["streams"])


@pytest.mark.parametrize("small_disk", [40], indirect=True)
def test_a_disk_about_to_fill_stops_the_recording_while_the_file_can_still_be_closed(tmp_path, small_disk):
    # A write that meets the full disk can leave a file that no longer opens (1 in 12
    # recordings onto a 2 MB disk): the recorder stops with room left, like any other stop.
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    path = small_disk / "early.h5"
    res = subprocess.run([sys.executable, str(script), str(path), "early-stop"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 3, f"rc={res.returncode}\n{res.stdout}\n{res.stderr[-3000:]}"
    assert res.stdout.startswith("OSError: disk almost full: "), res.stdout
    assert "Free space or record to another disk" in res.stdout
    assert "Traceback" not in res.stderr, res.stderr[-3000:]
    import shutil

    assert shutil.disk_usage(small_disk).free > 8 * 1024 * 1024  # stopped with room to spare
    with Session.open(path) as s:
        assert s.stop_reason.startswith("disk almost full")
        assert s.complete  # no write failed: closed with its footers like any other stop
        for name, r in s.streams.items():
            assert len(r.timestamps) == r.count == r.stats.samples, name
        assert s.streams["imu"].count > 0 and s.streams["cam"].count > 0


def test_disk_full_is_recognised_however_h5py_wraps_it():
    from sensorlab.session.failures import is_disk_full

    flush = RuntimeError("Unable to synchronously flush file (file write failed: time = x, errno = 28, error message = 'No space left on device')")
    assert is_disk_full(OSError(28, "No space left on device"))
    assert is_disk_full(flush)
    try:
        try:
            raise flush
        except RuntimeError as e:
            raise ValueError("wrapped") from e
    except ValueError as outer:
        assert is_disk_full(outer)
    assert not is_disk_full(RuntimeError("Can't decrement id ref count (errno = 5, error message = 'Input/output error')"))
    assert not is_disk_full(OSError(5, "Input/output error"))


@pytest.mark.parametrize("small_disk", [34], indirect=True)
def test_sensorlab_record_says_disk_almost_full_once(tmp_path, small_disk):
    # The recorder logs why it stopped and `record` raised the same line, which the command
    # printed again: the line stood twice on the terminal (once bare, once as "error: …").
    path = small_disk / "demo.h5"
    res = subprocess.run([sys.executable, "-m", "sensorlab.cli", "record", "--demo", "-d", "120", "-o", str(path)], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})  # fmt: skip
    assert res.returncode == 1, f"rc={res.returncode}\n{res.stdout}\n{res.stderr[-3000:]}"
    assert res.stderr.count("disk almost full") == 1, res.stderr[-3000:]
    line = next(x for x in res.stderr.splitlines() if "disk almost full" in x)
    assert line.startswith("error: disk almost full: ") and f"everything until then is in {path}" in line
    assert line.endswith("Free space or record to another disk")
    with Session.open(path) as s:
        assert s.complete and s.stop_reason.startswith("disk almost full")


def test_no_mount_is_left_behind():
    if not MOUNTED:
        pytest.skip("no tmpfs was mounted (mounting not permitted here)")
    with open("/proc/mounts") as fh:
        assert not [line for line in fh if line.split()[1] in MOUNTED]
    assert not [p for p in MOUNTED if os.path.exists(p)]


CAMERA_CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from sensorlab.acquisition.emulated.signal import SignalSource
    from sensorlab.session import failures
    from sensorlab.studio import headless
    failures.STOP_FREE_BYTES = 0  # meet the full disk itself
    noise = lambda t: np.random.default_rng(int(t[0] * 1000)).integers(0, 255, (len(t), 240, 320, 3), dtype=np.uint8)
    sources = [
        SignalSource("imu", shape=(64,), rate=2000, chunk_size=20),
        SignalSource("cam", kind="video", shape=(240, 320, 3), rate=30, chunk_size=1, pattern=noise),
    ]
    try:
        headless.record(sources, sys.argv[1], duration=60)
    except OSError as e:
        print("OSError:", e, flush=True)
        sys.exit(3)
    """
)


@pytest.mark.parametrize("small_disk", [10], indirect=True)
def test_camera_frames_that_never_reached_a_full_disk_are_not_read(tmp_path, small_disk):
    # Noise frames (~70 kB JPEGs) fill 10 MB in seconds. Before the fix the file said
    # complete=True while its last frames were zero bytes behind valid index rows, `info`
    # died with AttributeError in sync.py and Session.read on the camera raised.
    script = tmp_path / "child.py"
    script.write_text(CAMERA_CHILD)
    path = small_disk / "cam.h5"
    res = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 3, f"rc={res.returncode}\n{res.stdout}\n{res.stderr[-3000:]}"
    with Session.open(path) as s:
        assert not s.complete and s.stop_reason.startswith("disk full")
        cam = s.streams["cam"]
        assert cam.count > 10
        frames = cam.read().data  # every indexed frame decodes
        assert frames.shape == (cam.count, 240, 320, 3)
        assert (frames.reshape(cam.count, -1).std(axis=1) > 20).all()  # noise, not zero-filled holes
        assert cam.bad_samples == []  # the unwritten tail is not counted at all
    d = summarize(path)  # measures sync over every frame
    assert not d["complete"]
    cli = subprocess.run([sys.executable, "-m", "sensorlab.cli", "info", str(path)], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0 and "Traceback" not in cli.stderr, cli.stderr[-2000:]
    assert "a write failed: only samples that reached the disk are read" in cli.stdout


def test_a_crafted_out_of_range_frame_index_is_skipped_and_reported(make_session):
    import h5py

    from sensorlab.acquisition.emulated.signal import SignalSource
    from sensorlab.session.summary import format_summary

    path = make_session(SignalSource("cam", kind="video", shape=(48, 64, 3), rate=30, chunk_size=1, realtime=False, max_samples=30))
    with h5py.File(path, "r+") as f:
        idx = f["streams/cam/index"]
        rows = idx[:]
        rows[5] = (10**12, 100)  # far outside the blob
        rows[9] = (rows[9][0], rows[9][1] + 10**9)  # runs past the end
        rows[12] = (-50, 10)  # negative offset
        idx[:] = rows
        blob = f["streams/cam/data"]
        o, n = rows[20]
        blob[o : o + n] = 0  # a frame whose bytes are zeros
    with Session.open(path) as s:
        cam = s.streams["cam"]
        c = cam.read()
        assert len(c) == len(c.data) == 26 and c.data.shape[1:] == (48, 64, 3)
        assert cam.bad_samples == [5, 9, 12, 20]
        assert len(cam.read_index(0, 30, decode=False)) == 26
    d = summarize(path)
    (st,) = d["streams"][:1]
    assert st["bad_samples"] == 4
    assert "4 unreadable frame(s)/event(s) skipped" in format_summary(d)
