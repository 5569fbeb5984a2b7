"""Attacks a careless user or a hostile world makes on the command line, one regression test
each: real processes, real pseudo-terminals, real HDF5 files. Each asserts the one-line
message (the problem and the fix), the exit status, and that recorded data is kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from sensorlab.session.reader import Session

REPO = Path(__file__).resolve().parents[1]
DEMO_MODEL = REPO / "sensorlab" / "resources" / "models" / "demo_clap.onnx"


def run_cli(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    """The real `sensorlab` command, as a terminal runs it (stderr as a user sees it)."""
    return subprocess.run([sys.executable, "-m", "sensorlab.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=cwd)  # fmt: skip


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both and "Error:" not in both.replace("error:", ""), both
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), both
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@contextmanager
def text_board_rig(tmp_path: Path, name: str, rate: int | None, channels: list[str], speak=None) -> Iterator[Path]:
    """A rig file: a text board ``name`` on a real pseudo-terminal, and an emulated text IMU
    (``wrist``). ``speak(master, done)`` writes the board's lines on a thread (None: the port is
    held open and silent); on leaving, ``done`` is set, the thread joined and the pty closed.
    ``rate`` None: the rig declares none."""
    master, slave = os.openpty()
    done = threading.Event()
    board = threading.Thread(target=speak, args=(master, done), daemon=True) if speak else None
    if board:
        board.start()
    try:
        rig = tmp_path / "rig.toml"
        rig.write_text(f'[[serial]]\nname = "{name}"\nport = "{os.ttyname(slave)}"\nbaud = 115200\nprotocol = "text"\n'
                       + (f'rate = {rate}\n' if rate is not None else "")
                       + f'channels = {json.dumps(channels)}\n\n[[emulated]]\ndevice = "imu-text"\n')  # fmt: skip
        yield rig
    finally:
        done.set()
        if board:
            board.join(10)
        os.close(master)
        os.close(slave)


def steady_board(lines_per_second: int):
    """A ``speak`` for `text_board_rig`: two-channel lines (``"3,1"``) at ``lines_per_second`` on
    average, whatever the machine's load (a late wake-up writes every line it owes at once)."""

    def board(master: int, done: threading.Event) -> None:
        t0, k = time.monotonic(), 0
        while not done.is_set():
            due = int((time.monotonic() - t0) * lines_per_second)
            if due > k:
                os.write(master, b"".join(b"%d,%d\n" % (i % 7, i % 5) for i in range(k, due)))
                k = due
            time.sleep(0.005)

    return board


def the_warning(proc: subprocess.CompletedProcess) -> str:
    """The one ``warning:`` line a command printed."""
    (warning,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning:")]
    return warning


def test_a_serial_port_that_never_speaks_is_reported_and_exits_3(tmp_path):
    """A port that opens but sends nothing (wrong port, board not running, wrong baud with the
    channels declared) used to give exit 0 and an empty stream: a script never noticed."""
    out = tmp_path / "x.h5"
    with text_board_rig(tmp_path, "quiet", 100, ["a"]) as rig:  # held open and silent for the whole recording
        proc = run_cli("record", "--rig", str(rig), "-d", "3", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    warning = the_warning(proc)
    assert "quiet: no samples" in warning and "baud rate" in warning
    with Session.open(out) as s:  # the device that did speak is recorded in full
        assert s.streams["quiet"].count == 0 and s.streams["wrist"].count > 100


def test_a_serial_port_without_a_declared_rate_that_never_speaks_is_reported_and_exits_3(tmp_path):
    """The same board in a rig without `rate` (an irregular stream): it gave exit 0, an empty
    stream and no word at all."""
    out = tmp_path / "x.h5"
    with text_board_rig(tmp_path, "quiet", None, ["a"]) as rig:
        port = rig.read_text().split('port = "', 1)[1].split('"', 1)[0]
        proc = run_cli("record", "--rig", str(rig), "-d", "3", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    warning = the_warning(proc)
    assert "quiet: no samples" in warning and port in warning and "115200" in warning
    assert "baud rate" in warning and "firmware" in warning
    with Session.open(out) as s:  # the file is kept, with the device that did speak
        assert s.streams["quiet"].count == 0 and s.streams["wrist"].count > 100


def test_a_device_that_stops_sending_mid_recording_is_reported_and_exits_3(tmp_path):
    """A board that hangs (port still open, no more lines) used to leave a stream that simply
    ends early: exit 0, no warning, and a script kept a recording with a hole at the end."""
    out = tmp_path / "x.h5"

    def board(master: int, done: threading.Event) -> None:  # speaks until the recording has started and 1 s more, then hangs
        started = None
        k = 0
        while not done.is_set():
            if started is None and out.exists():
                started = time.monotonic()
            if started is not None and time.monotonic() - started > 1.0:
                break
            os.write(master, f"{k % 7},{k % 5}\n".encode())
            k += 1
            time.sleep(0.01)
        done.wait(300)

    with text_board_rig(tmp_path, "hangs", 100, ["a", "b"], board) as rig:
        proc = run_cli("record", "--rig", str(rig), "-d", "6", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    warning = the_warning(proc)
    assert "hangs: stopped sending" in warning and "never resumed" in warning
    with Session.open(out) as s:  # what it sent before it hung is kept, the other device in full
        assert s.streams["hangs"].count > 20 and s.streams["wrist"].count > 400


def test_a_text_stream_whose_rig_rate_is_wrong_is_reported_and_exits_3(tmp_path):
    """A text stream without a time column is stamped by its rig `rate`. A board printing 200
    lines a second into `rate = 50` was stamped up to seconds early, and `record` exited 0
    with no word of it (`info` showed the wrong "measured" rate its own timestamps gave)."""

    out = tmp_path / "x.h5"
    with text_board_rig(tmp_path, "fast", 50, ["a", "b"], steady_board(200)) as rig:
        proc = run_cli("record", "--rig", str(rig), "-d", "4", "-o", str(out), cwd=tmp_path)
        info = run_cli("info", str(out), cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    warning = the_warning(proc)
    assert "fast: its rate is 50 Hz but the device sent" in warning and "set the rig's `rate`" in warning, warning
    assert "! its rate is 50 Hz" in info.stdout, info.stdout
    with Session.open(out) as s:  # recorded all the same; the emulated board at its right rate raises nothing
        assert s.streams["fast"].count > 400 and s.streams["wrist"].count > 300
    assert "wrist: " not in proc.stderr


def test_a_text_board_s_values_are_stored_as_printed_to_the_last_digit(tmp_path):
    """A GPS board printing its fix as integers of 1e-7 degrees (473977418) and as decimals
    (47.3977418): the text stream was float32, which holds ~7 digits, so 473977418 and 473977419
    were both stored as 473977408 (a 20 cm step) and nothing said so."""
    sent: list[tuple[float, float]] = []

    def board(master: int, done: threading.Event) -> None:  # 100 fixes a second
        t0, k = time.monotonic(), 0
        while not done.is_set():
            due = int((time.monotonic() - t0) * 100)
            if due - k > 20:
                # Starved for 0.2 s (a loaded machine): resume at the board's pace. Catching up in
                # one burst (85x the declared rate) made the recorder take it for a wrong device.
                t0, due = time.monotonic() - k / 100, k
            while k < due:
                lat_e7, lon = 473977418 + k, f"{8.5455940 + k * 1e-7:.7f}"
                sent.append((float(lat_e7), float(lon)))
                os.write(master, f"{lat_e7},{lon}\n".encode())
                k += 1
            time.sleep(0.005)

    out = tmp_path / "gps.h5"
    with text_board_rig(tmp_path, "gps", 100, ["lat_e7", "lon"], board) as rig:
        proc = run_cli("record", "--rig", str(rig), "-d", "3", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with Session.open(out) as s:
        data = s.streams["gps"].read().data
    assert len(data) > 100
    first = int(data[0, 0]) - 473977418  # the fix the recording starts at
    want = np.array(sent[first : first + len(data)])
    np.testing.assert_array_equal(data, want)  # every digit the board printed, in order, none lost


@pytest.fixture(scope="module")
def damaged(tmp_path_factory) -> dict[str, Path]:
    import h5py
    import numpy as np

    d = tmp_path_factory.mktemp("damaged")
    (d / "zero.h5").write_bytes(b"")
    (d / "text.h5").write_text("hello, not a session\n")
    with h5py.File(d / "other.h5", "w") as f:  # an HDF5 file another tool wrote
        f["x"] = np.arange(10)
    return {p.name: p for p in d.iterdir()}


@pytest.mark.parametrize("name", ["zero.h5", "text.h5", "other.h5"])
def test_predict_on_a_file_that_is_no_session_says_so_in_one_line(damaged, name, tmp_path):
    proc = run_cli("predict", str(DEMO_MODEL), str(damaged[name]), "-o", str(tmp_path / "p.h5"), cwd=tmp_path)
    assert proc.returncode == 1
    assert_one_line_error(proc, name, "session")
    assert not (tmp_path / "p.h5").exists()


@pytest.fixture
def readonly_folder(tmp_path, make_session):
    """A folder holding a labeled session that cannot be written: a read-only bind mount as
    root (permissions do not stop root), plain permissions otherwise."""
    from sensorlab.acquisition.emulated.signal import SignalSource

    folder = tmp_path / "archive"
    folder.mkdir()
    session = make_session(SignalSource("imu", rate=200, max_samples=400), path=folder / "s.h5")
    (tmp_path / "in.txt").write_text("0.5\t1.0\tclap\n")
    assert run_cli("labels", "import", str(session), str(tmp_path / "in.txt"), cwd=tmp_path).returncode == 0
    before = sorted(p.name for p in folder.iterdir())
    if os.geteuid() == 0:
        if subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode != 0:
            pytest.skip("read-only bind mount not permitted here")
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)
    else:
        folder.chmod(0o555)
    try:
        yield session, before
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(folder)], check=True)
        else:
            folder.chmod(0o755)


def test_labels_export_reads_a_session_in_a_read_only_folder(readonly_folder, tmp_path):
    """Exporting only reads: it used to fail creating the sidecar's lock file beside the session."""
    session, before = readonly_folder
    out = tmp_path / "out.csv"
    proc = run_cli("labels", "export", str(session), str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "clap" in out.read_text()
    assert sorted(p.name for p in session.parent.iterdir()) == before


def test_labels_import_into_a_read_only_folder_says_where_and_what_to_do(readonly_folder, tmp_path):
    session, before = readonly_folder
    (tmp_path / "more.txt").write_text("1.2\t1.5\twave\n")
    proc = run_cli("labels", "import", str(session), str(tmp_path / "more.txt"), cwd=tmp_path)
    assert proc.returncode == 1
    line = assert_one_line_error(proc, str(session.parent), "copy the session")
    assert "more.txt" not in line  # the labels file is fine: the folder is the problem
    proc = run_cli("labels", "export", str(session), str(tmp_path / "o.csv"), cwd=tmp_path)
    assert "clap" in (tmp_path / "o.csv").read_text()  # the labels already there are intact


@pytest.mark.parametrize("labels_table, words", [
    ('tier = "default"\ninclude = ["jump"]', ["labels.include ['jump']", "its labels: clap"]),  # a label no session has
    ('tier = "activty"', ["no labels on tier 'activty'", "its tiers: default"]),               # a misspelt tier
    ('tier = "default"\ninclude = ["jump"]\nunlabeled = "background"', ["labels.include ['jump']"]),  # background only: still nothing
])  # fmt: skip
def test_a_dataset_spec_that_keeps_no_label_fails_instead_of_writing_an_empty_dataset(tmp_path, make_session, labels_table, words):
    """Used to exit 0 with a 0-window dataset (and, for include, say the tier had no labels)."""
    from sensorlab.acquisition.emulated.signal import SignalSource

    session = make_session(SignalSource("imu", rate=200, max_samples=400), path=tmp_path / "a.h5")
    (tmp_path / "in.txt").write_text("0.2\t0.9\tclap\n")
    assert run_cli("labels", "import", str(session), str(tmp_path / "in.txt"), cwd=tmp_path).returncode == 0
    spec = tmp_path / "spec.toml"
    spec.write_text(f'[sessions]\npaths = ["a.h5"]\n[[streams]]\nname = "imu"\n[labels]\n{labels_table}\n'
                    '[window]\nlength = 0.25\nhop = 0.125\n')  # fmt: skip
    proc = run_cli("dataset", "build", str(spec), "-o", str(tmp_path / "ds.h5"), cwd=tmp_path)
    assert proc.returncode == 1
    assert_one_line_error(proc, "nothing to build", *words)
    assert not (tmp_path / "ds.h5").exists()


@pytest.mark.parametrize("rate", [0.0, -5.0])
def test_a_model_contract_with_an_impossible_rate_is_one_line(tmp_path, rate):
    """A hand-edited contract (input.rate 0) used to end `predict` in a pydantic traceback."""
    import json

    import onnx

    model = onnx.load(str(DEMO_MODEL))
    (prop,) = [p for p in model.metadata_props if p.key == "sensorlab.contract"]
    contract = json.loads(prop.value)
    contract["input"]["rate"] = rate
    prop.value = json.dumps(contract)
    bad = tmp_path / "edited.onnx"
    onnx.save(model, str(bad))
    session = tmp_path / "s.h5"
    session.write_bytes(b"")  # never reached: the model is checked first
    proc = run_cli("predict", str(bad), str(session), cwd=tmp_path)
    assert proc.returncode == 1
    assert_one_line_error(proc, "edited.onnx", "input.rate", "sensorlab export")
