"""The command line: every command works end to end and explains itself."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from sensorlab.acquisition.rig import parse_rig
from sensorlab.cli import app
from tests.cli_commands import command_paths
from sensorlab.session.reader import Session

runner = CliRunner()


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert re.search(r"Example: sensorlab " + " ".join(path), result.output), result.output


def test_record_refuses_to_overwrite_before_opening_any_device(tmp_path):
    existing = tmp_path / "s.h5"
    existing.write_bytes(b"keep me")
    result = runner.invoke(app, ["record", "--demo", "-d", "1", "-o", str(existing)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert existing.read_bytes() == b"keep me"


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("sensorlab ")
    assert "live inference hop: compiled" in result.output  # `pip install -e .` built the C hop (else it names why not)
    assert "live model run: onnxruntime's C API" in result.output  # the same install built _ort.c and found the wheel's library
    assert "envelope raster: " in result.output  # the labeling view's (compiled or NumPy: the same pixels)


@pytest.fixture(scope="module")
def demo_session(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "demo.h5"
    result = runner.invoke(
        app, ["record", "--demo", "-d", "3", "-o", str(out), "--name", "cli-demo", "--tag", "subject=s01", "--notes", "hi"]
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_record_demo_writes_every_stream_and_prints_the_summary(demo_session):
    path, output = demo_session
    for stream in ("camera", "mic", "imu", "radar", "eeg", "wrist"):
        assert re.search(rf"^\s+{stream}\s", output, re.M), f"{stream} missing from summary:\n{output}"
    with Session.open(path) as s:
        assert s.metadata.name == "cli-demo" and s.metadata.tags == {"subject": "s01"} and s.metadata.notes == "hi"
        # The rig is stored as a rig file that can be recorded again.
        assert [d.device for d in parse_rig(s.metadata.rig).emulated][:2] == ["camera", "microphone"]
        imu, cam = s.streams["imu"], s.streams["camera"]
        assert imu.info.sample_shape == (6,)
        # About 3 s of each (devices hold back their first 0.25-1 s while their clocks settle).
        assert imu.duration > 2.0 and cam.duration > 2.0
        # Every 1 kHz sample of that span is stored or counted as dropped (a loaded machine may
        # drop some; none goes missing unaccounted).
        assert imu.count + imu.stats.dropped == pytest.approx(imu.duration * 1000 + 1, abs=10)
        assert cam.count >= 2 * 2.0  # a frame at least every half second (it films at 30 fps)


def test_info_reports_rates_and_sync(demo_session):
    path, _ = demo_session
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.output
    mic = re.search(r"^\s+mic\s+audio\s+48000\s+(\d+\.\d+)", result.output, re.M)
    assert mic, result.output
    # Measured from the stamps: within 10 %. A host stalled through the microphone's warm-up
    # (CI at load 13) squeezed its first ~0.3 s into 1 µs steps: 51,174 Hz over 4 s
    # (docs/SESSION-FORMAT.md, "Ordering"). A wrong rate or drift would be off by far more.
    assert float(mic.group(1)) == pytest.approx(48000, rel=0.1), result.output
    assert "sync" in result.output


def test_labels_suggest_export_import_round_trip(demo_session, tmp_path):
    path, _ = demo_session
    result = runner.invoke(app, ["labels", "suggest", str(path), "--stream", "mic", "--label", "clap", "--param", "min_duration=0.01"])
    assert result.exit_code == 0, result.output
    n = int(result.output.split()[0])
    assert n >= 1  # the demo world claps every 2 s
    out = tmp_path / "claps.csv"
    result = runner.invoke(app, ["labels", "export", str(path), str(out), "--suggested"])
    assert result.exit_code == 0 and out.read_text().count("clap") == n
    result = runner.invoke(app, ["labels", "import", str(path), str(out)])
    assert result.exit_code == 0, result.output


def test_bad_rig_gets_one_clear_line(tmp_path):
    rig = tmp_path / "rig.toml"
    rig.write_text('[[serial]]\nport = "/dev/ttyUSB0"\nbaud = 12345\n')
    result = runner.invoke(app, ["record", "--rig", str(rig), "-d", "1"])
    assert result.exit_code == 2
    assert "rig.toml: serial[0].baud" in result.output


def test_record_reports_a_device_that_cannot_open(tmp_path):
    rig = tmp_path / "rig.toml"
    rig.write_text('[[serial]]\nname = "imu"\nport = "/dev/ttyNOPE0"\nbaud = 115200\n')
    result = runner.invoke(app, ["record", "--rig", str(rig), "-d", "1", "-o", str(tmp_path / "x.h5")])
    assert result.exit_code == 1
    assert "/dev/ttyNOPE0" in result.output


def test_info_on_a_broken_file_says_so(tmp_path):
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"not an hdf5 file" * 100)
    result = runner.invoke(app, ["info", str(bad)])
    assert result.exit_code == 1
    assert "broken.h5" in result.output


def test_tag_must_be_key_value():
    result = runner.invoke(app, ["record", "--demo", "--tag", "oops", "-d", "1"])
    assert result.exit_code == 2 and "key=value" in result.output


def test_devices_lists_every_kind_with_its_rig_key():
    result = runner.invoke(app, ["devices"])
    assert result.exit_code == 0, result.output
    for heading in ("Cameras", "Audio inputs", "Serial ports", "Emulated devices"):
        assert heading in result.output


# -- labels: times from the session start, one-line errors, guidance ------------------------------


@pytest.fixture
def own_demo(demo_session, tmp_path):
    """A private copy of the demo session (these tests write its sidecar)."""
    path = tmp_path / "demo.h5"
    path.write_bytes(demo_session[0].read_bytes())
    return path


def test_labels_times_count_from_the_session_start(own_demo, tmp_path):
    result = runner.invoke(app, ["labels", "suggest", str(own_demo), "--stream", "mic", "--label", "clap", "--param", "min_duration=0.01"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^  00:0\d\.\d{3}–00:0\d\.\d{3}  clap  \[suggestions\]$", result.output, re.M), result.output
    out = tmp_path / "claps.txt"
    assert runner.invoke(app, ["labels", "export", str(own_demo), str(out), "--suggested"]).exit_code == 0
    with Session.open(own_demo) as s:
        start = s.metadata.start_host_time
        first = min(r.first_time for r in s.streams.values() if r.count) - start
        last = max(r.last_time for r in s.streams.values() if r.count) - start
    # Within the recording, counted from its start (a loaded machine records "-d 3" for up to
    # ~4.5 s, so the span is the file's, not the 3 s asked for).
    times = [float(line.split("\t")[0]) for line in out.read_text().splitlines()]
    assert times and all(first - 0.001 <= t <= last for t in times), (times, first, last)
    out_abs = tmp_path / "claps_abs.csv"
    assert runner.invoke(app, ["labels", "export", str(own_demo), str(out_abs), "--suggested", "--absolute"]).exit_code == 0
    # The same segments in host-clock seconds: each is the session start + its relative time. (A
    # clap in the audio recorded just before the start moment has a negative relative time, so
    # "after the start" is not what holds: CI's headless run once found one at load ~4.)
    absolute = [float(line.split(",")[2]) for line in out_abs.read_text().splitlines()[1:]]
    assert absolute == pytest.approx([start + t for t in times], abs=1e-3)
    # An Audacity file measured from 0 lands in the session...
    zero = tmp_path / "zero.txt"
    zero.write_text("0.5\t1.5\twave\n")
    result = runner.invoke(app, ["labels", "import", str(own_demo), str(zero)])
    assert result.exit_code == 0 and "imported 1 segments" in result.output, result.output
    # ...and the wrong time base is refused in one line that names the other option.
    for path, extra, hint in ((zero, ["--absolute"], "without --absolute"), (out_abs, [], "with --absolute")):
        result = runner.invoke(app, ["labels", "import", str(own_demo), str(path), *extra])
        assert result.exit_code == 1 and hint in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(app, ["labels", "import", str(own_demo), str(out_abs), "--absolute"])
    assert result.exit_code == 0 and "duplicate(s) skipped" in result.output, result.output


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.eaf", "<ANNOTATION_DOCUMENT><TIER>", "broken.eaf:1: not a readable ELAN file"),
        ("bad.csv", "tier,label,start,end\na,b,abc,1\n", "bad.csv:2: start 'abc' is not a number"),
        ("dict.json", '{"a": 1}', "dict.json: not a Label Studio export"),
        ("list.json", '[{"x": 1}]', "list.json: not a Label Studio export"),
        ("labels.dat", "x", "use .txt (audacity), .eaf (eaf), .json (labelstudio), .csv (csv), or name the format with --format"),
    ],
)
def test_labels_import_of_a_broken_file_is_one_line(own_demo, tmp_path, name, content, expected):
    bad = tmp_path / name
    bad.write_text(content)
    result = runner.invoke(app, ["labels", "import", str(own_demo), str(bad)])
    assert result.exit_code == 1, result.output
    assert expected in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback


def test_labels_commands_on_a_damaged_session_are_one_line(tmp_path):
    bad = tmp_path / "damaged.h5"
    bad.write_bytes(b"not an hdf5 file" * 100)
    (tmp_path / "l.csv").write_text("tier,label,start,end\n")
    for args in (["export", str(bad), str(tmp_path / "x.csv")], ["import", str(bad), str(tmp_path / "l.csv")],
                 ["suggest", str(bad), "--stream", "mic"]):
        result = runner.invoke(app, ["labels", *args])
        assert result.exit_code == 1, (args, result.output)
        assert "damaged.h5" in result.output and len(result.output.strip().splitlines()) == 1, result.output


def test_labels_suggest_says_what_to_try_when_it_finds_nothing(own_demo):
    result = runner.invoke(app, ["labels", "suggest", str(own_demo), "--stream", "mic", "--param", "margin_db=200"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("0 suggestions (try --param min_duration=0.005 for very short clicks")
    result = runner.invoke(app, ["labels", "suggest", str(own_demo), "--stream", "mic", "--param", "nope=1"])
    assert result.exit_code == 1 and "unexpected keyword argument 'nope'" in result.output


def test_label_without_a_display_names_the_headless_alternatives(demo_session, monkeypatch):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    result = runner.invoke(app, ["label", str(demo_session[0])])
    assert result.exit_code == 2
    assert "sensorlab labels export|import|suggest" in result.output and "xvfb-run sensorlab label FILE" in result.output


def test_a_command_started_with_sigint_ignored_still_stops_on_sigint():
    """The studio's Cancel sends SIGINT. A studio started from a background shell job passes
    SIGINT *ignored* to its commands; a dataset build then ignored Cancel and ran to its end."""
    import subprocess
    import sys

    child = (
        "import os, signal, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background shell job starts it\n"
        "from sensorlab import cli\n"
        "def busy():\n"
        "    os.kill(os.getpid(), signal.SIGINT)  # Cancel, while the command works\n"
        "    time.sleep(20)\n"
        "    print('ran to its end')\n"
        "cli.app = busy\n"
        "cli.main()\n"
    )
    r = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert "ran to its end" not in r.stdout
    assert r.returncode != 0 and "KeyboardInterrupt" in r.stderr


def test_an_interrupt_that_lands_in_a_weakref_callback_still_stops_the_command():
    """SIGINT raises KeyboardInterrupt wherever the main thread is; inside a weakref callback
    (h5py's object registry runs many) Python prints it and drops it. A Cancel pressed while a
    dataset build was there was lost, and the build ran to its end."""
    import subprocess
    import sys

    child = (
        "import os, signal, time, weakref\n"
        "from sensorlab import cli\n"
        "class Obj: pass\n"
        "def collected(ref):\n"
        "    os.kill(os.getpid(), signal.SIGINT)  # Cancel, while a callback runs\n"
        "    time.sleep(1)  # the KeyboardInterrupt is raised in here\n"
        "def busy():\n"
        "    obj = Obj()\n"
        "    ref = weakref.ref(obj, collected)\n"
        "    del obj  # runs the callback\n"
        "    time.sleep(20)\n"
        "    print('ran to its end')\n"
        "cli.app = busy\n"
        "cli.main()\n"
    )
    r = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert "ran to its end" not in r.stdout, r.stderr
    assert r.returncode != 0 and r.stderr.rstrip().endswith("KeyboardInterrupt"), r.stderr


def test_dataset_plots_into_a_folder_that_cannot_be_made_says_so_in_one_line(tmp_path):
    dataset = tmp_path / "d.h5"
    dataset.write_bytes(b"")  # never read: the folder is checked first
    result = runner.invoke(app, ["dataset", "info", str(dataset), "--plots", "/proc/x"])
    assert result.exit_code == 2
    assert "--plots /proc/x: cannot write plots there (No such file or directory); give a folder you can write to" in result.output
    assert "[Errno" not in result.output and len(result.output.strip().splitlines()) == 1


def test_devices_with_a_rig_filming_a_url_has_no_camera_index_hint(tmp_path):
    rig = tmp_path / "rig.toml"
    rig.write_text('[[camera]]\ndevice = "http://127.0.0.1:8765/stream.mjpg"\n')
    result = runner.invoke(app, ["devices", "--rig", str(rig)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Cameras") and "index 0-3" not in result.output
    rig.write_text('[[camera]]\ndevice = "http://x"\nfps = -1\n')
    result = runner.invoke(app, ["devices", "--rig", str(rig)])
    assert result.exit_code == 2 and "rig.toml: camera[0].fps" in result.output
