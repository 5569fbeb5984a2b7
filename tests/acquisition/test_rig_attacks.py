"""Rig files and device self-descriptions cannot reach outside: no file-writing pyserial
URLs, no names that steer a path or replace the live-labels stream, no impossible rates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sensorlab.acquisition.rig import RigError, parse_rig
from sensorlab.acquisition.serial.description import DescriptionError, DeviceDescription, StreamDescription
from sensorlab.acquisition.serial.port import SerialSource
from sensorlab.acquisition.serial.urls import check_port
from sensorlab.acquisition.source import SourceError

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real command line in a fresh interpreter, as a user runs it."""
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(cwd), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "sensorlab.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


# -- pyserial URLs ----------------------------------------------------------------------------


@pytest.fixture
def victim(tmp_path) -> Path:
    p = tmp_path / "precious.txt"
    p.write_text("three years of thesis notes\n")
    return p


def test_a_spy_url_in_a_rig_is_refused_and_leaves_the_file_alone(tmp_path, victim):
    rig = tmp_path / "evil.toml"
    rig.write_text(f'[[serial]]\nname = "imu"\nport = "spy://loop://?file={victim}"\n')
    result = run_cli("record", "--rig", str(rig), "-d", "1", "-o", str(tmp_path / "out.h5"), cwd=tmp_path)
    assert result.returncode != 0
    assert victim.read_text() == "three years of thesis notes\n"  # was truncated to 0 bytes
    msg = result.stderr.strip()
    assert "Traceback" not in msg and len(msg.splitlines()) == 1, msg
    assert "serial[0].port" in msg and "'spy://'" in msg and "socket://host:port" in msg and "loop://" in msg
    assert not (tmp_path / "out.h5").exists()


@pytest.mark.parametrize("url", ["spy://loop://?file={victim}", "SPY://loop://?file={victim}", "hwgrep://.*", "alt://loop://?class=Serial"])
def test_a_source_built_in_code_refuses_other_schemes_before_pyserial_sees_them(url, victim):
    src = SerialSource(url.format(victim=victim), 115200, "text", channel_names=["x"])
    with pytest.raises(SourceError, match="does not open; use a device path"):
        src.open()
    assert victim.read_text() == "three years of thesis notes\n"


@pytest.mark.parametrize("port", ["/dev/ttyUSB0", "COM3", "/dev/pts/7", "socket://192.168.4.1:3333", "rfc2217://host:2217", "loop://", "LOOP://?logging=debug"])
def test_device_paths_and_the_needed_schemes_are_allowed(port):
    assert check_port(port) == port
    assert parse_rig(f'[[serial]]\nport = "{port}"\n').serial[0].port == port


def test_loop_url_still_opens():
    src = SerialSource("loop://", 115200, "text", channel_names=["x"])
    src.open()
    try:
        assert src.streams[0].name == "serial"
    finally:
        src.close()


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../x/evil", "/tmp/abs", "..", "a\\b", "C:evil", "a\u0000b"])
def test_a_rig_name_that_would_steer_the_output_path_is_refused(name):
    with pytest.raises(RigError, match=r"^rig.toml: name: "):
        parse_rig(f'name = {json.dumps(name)}\n[[emulated]]\ndevice = "imu-text"\n', source="rig.toml")


def test_record_without_o_writes_into_the_current_folder_whatever_the_name(tmp_path):
    """`--name` is free text for the metadata; the file name made from it stays in the folder."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    rig = work / "rig.toml"
    rig.write_text('[[emulated]]\ndevice = "imu-text"\n')
    result = run_cli("record", "--rig", str(rig), "-d", "1", "--name", "../../x/evil", cwd=work)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "x").exists() and not list(tmp_path.glob("**/evil*"))
    written = list(work.glob("*.h5"))
    assert len(written) == 1 and written[0].name.startswith("x-evil-"), written


@pytest.mark.parametrize(
    "name, why",
    [(".", "not a usable name"), ("..", "not a usable name"), ("a/b", "contains '/'"),
     ("labels", "reserved for the session's live labels"), ("a\u0000b", "NUL or control character"), ("x" * 101, "at most 100")],
)
@pytest.mark.parametrize("kind", ["camera", "audio", "serial", "emulated"])
def test_device_names_that_break_the_session_file_are_refused(kind, name, why):
    extra = {"serial": 'port = "/dev/ttyUSB0"\n', "emulated": 'device = "imu-text"\n'}.get(kind, "")
    with pytest.raises(RigError) as e:
        parse_rig(f"[[{kind}]]\nname = {json.dumps(name)}\n{extra}", source="rig.toml")
    assert f"{kind}[0].name: " in str(e.value) and why in str(e.value)


def test_the_reserved_name_is_the_recorders_live_labels_stream():
    from sensorlab.acquisition.names import RESERVED_STREAM_NAMES
    from sensorlab.session.recorder import LABELS

    assert LABELS in RESERVED_STREAM_NAMES


def _description(**stream) -> str:
    base = {"id": 0, "name": "imu", "kind": "timeseries", "rate": 100, "dtype": "int16", "shape": [3]}
    return json.dumps({"protocol": 1, "device": "x", "streams": [{**base, **stream}]})


@pytest.mark.parametrize(
    "stream, why",
    [({"name": "."}, "not a usable name"), ({"name": ".."}, "not a usable name"), ({"name": "labels"}, "reserved"),
     ({"name": "a\u0000b"}, "NUL"), ({"name": "a/b"}, "'/'"), ({"rate": float("nan")}, "rate nan"),
     ({"rate": float("inf")}, "rate inf"), ({"rate": -5}, "rate -5"), ({"id": 1e999}, "stream"),
     ({"channels": ["a", "b\u0000", "c"]}, "NUL"), ({"scale": [1, float("inf"), 1]}, "finite"),
     ({"kind": "frames", "shape": [2**40, 2**40]}, "at most 65535")],
    ids=["dot", "dotdot", "labels", "nul", "slash", "rate-nan", "rate-inf", "rate-negative", "id-overflow",
         "channel-nul", "scale-inf", "shape-overflow"],
)
def test_a_device_self_description_cannot_send_such_names_or_rates(stream, why):
    with pytest.raises(DescriptionError, match=why.replace("(", r"\(")):
        DeviceDescription.from_json(_description(**stream))


def test_a_binary_device_calling_its_stream_labels_is_refused_on_open():
    """End to end through a real pty: the device's self-description is checked before any
    stream exists, so it cannot replace the session's live labels."""
    import numpy as np

    from sensorlab.acquisition.emulated.mcu import BinaryMCU, EmulatedStream

    desc = StreamDescription(0, "labels", "timeseries", 100.0, "int16", (3,), ("a", "b", "c"))
    with BinaryMCU([EmulatedStream(desc, lambda t: np.zeros((len(t), 3)), 10)], device="hostile") as mcu:
        src = SerialSource(mcu.port, mcu.baudrate, "binary", open_timeout=5)
        with pytest.raises(SourceError, match="self-description was invalid: stream 0: name 'labels' is reserved"):
            src.open()
        src.close()
