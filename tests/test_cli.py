"""The command line: every command works end to end and explains itself."""

from __future__ import annotations

import re

import h5py
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from sensorlab.acquisition.rig import parse_rig
from sensorlab.cli import app
from sensorlab.session.reader import Session

runner = CliRunner()


def _commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*prefix, name))


@pytest.mark.parametrize("path", [p for p, _ in _commands(get_command(app))], ids=lambda p: " ".join(p))
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
        imu = s.streams["imu"]
        assert imu.count > 2000  # 1 kHz for about 3 s
        assert imu.info.sample_shape == (6,)
        assert s.streams["camera"].count >= 60


def test_info_reports_rates_and_sync(demo_session):
    path, _ = demo_session
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert re.search(r"^\s+mic\s+audio\s+48000\s+4\d{4}", result.output, re.M), result.output
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
