"""Rigs are saved with only the keys that differ from the defaults, and a text stream a rig
keeps in float32 gets a note (it stores ~7 significant digits) from `sensorlab rig check`,
`sensorlab record` and the studio's Devices dialog.

Rigs saved before 2026-12-01 carried every default, `dtype = "float32"` on each serial entry
among them: when text streams became float64 (15 digits), those rigs still rounded a GPS fix
printed as 473977418 to 473977408, and nothing said so.
"""

from __future__ import annotations

import tomllib

from typer.testing import CliRunner

from sensorlab.acquisition.kinds.serial import TEXT_DTYPE
from sensorlab.acquisition.rig import SerialConfig, load_rig, parse_rig, rig_model, save_rig
from sensorlab.cli import app

runner = CliRunner()

OLD_SAVE = '''name = "gps-rig"

[[serial]]
name = "gps"
port = "/dev/ttyUSB0"
baud = 115200
protocol = "text"
rate = 10.0
channels = ["lat", "lon"]
dtype = "float32"
'''


def test_a_saved_rig_holds_only_what_differs_from_the_defaults(tmp_path):
    rig = rig_model()(name="bench", serial=[SerialConfig(name="gps", port="/dev/ttyUSB0", baud=921600, rate=10.0)])
    path = tmp_path / "bench.toml"
    save_rig(rig, path)
    saved = tomllib.loads(path.read_text())
    entry = saved["serial"][0]
    assert "dtype" not in entry, f"a default dtype was written: {entry}"
    assert "protocol" not in entry and "uart" not in entry, entry
    assert entry == {"name": "gps", "port": "/dev/ttyUSB0", "baud": 921600, "rate": 10.0}
    assert load_rig(path) == rig, "the saved rig reads back the same"
    assert load_rig(path).serial[0].dtype is None and TEXT_DTYPE == "float64", "a text stream saved without dtype keeps every digit"
    # A dtype chosen on purpose is kept.
    chosen = rig_model()(serial=[SerialConfig(name="gps", port="/dev/ttyUSB0", dtype="float32")])
    assert 'dtype = "float32"' in chosen.to_toml()


def test_rig_check_notes_a_text_stream_kept_in_float32(tmp_path):
    path = tmp_path / "gps.toml"
    path.write_text(OLD_SAVE)
    result = runner.invoke(app, ["rig", "check", str(path)])
    assert result.exit_code == 0, result.output  # a note, not an error
    assert "[[serial]] gps" in result.output
    assert 'serial[0] (gps): dtype = "float32" keeps ~7 significant digits' in result.output, result.output
    assert 'write dtype = "float64"' in result.output and "remove the dtype line" in result.output
    # Without the dtype line, or with float64, or a binary board: no note.
    for text in (OLD_SAVE.replace('dtype = "float32"\n', ""), OLD_SAVE.replace("float32", "float64"),
                 OLD_SAVE.replace('protocol = "text"', 'protocol = "binary"').replace('channels = ["lat", "lon"]\n', "")):  # fmt: skip
        path.write_text(text)
        result = runner.invoke(app, ["rig", "check", str(path)])
        assert result.exit_code == 0 and "note:" not in result.output, result.output


def test_rig_check_names_a_broken_rig_in_one_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(OLD_SAVE.replace("baud = 115200", "baud = 12345"))
    result = runner.invoke(app, ["rig", "check", str(path)])
    assert result.exit_code == 1 and "bad.toml: serial[0].baud" in result.output, result.output


def test_record_notes_the_float32_text_stream_and_records_on(tmp_path):
    rig = tmp_path / "loop.toml"
    rig.write_text('[[serial]]\nname = "gps"\nport = "loop://"\nrate = 10\nchannels = ["lat"]\ndtype = "float32"\n')
    result = runner.invoke(app, ["record", "--rig", str(rig), "-d", "0.5", "-o", str(tmp_path / "s.h5")])
    assert 'note: serial[0] (gps): dtype = "float32" keeps ~7 significant digits' in result.output, result.output
    assert (tmp_path / "s.h5").exists(), "a note does not stop the recording"
    assert parse_rig(rig.read_text()).notes()
