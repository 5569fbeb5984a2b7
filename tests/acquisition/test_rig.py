"""A rig file's mistakes get one line naming the field and the fix."""

import pytest

from sensorlab.acquisition.rig import RigError, load_rig, parse_rig, save_rig

GOOD = """
name = "bench"
[[camera]]
name = "cam"
device = "http://127.0.0.1:8765/stream.mjpg"
fps = 30
[[audio]]
name = "mic"
rate = 48000
channels = 2
[[serial]]
name = "imu"
port = "/dev/ttyUSB0"
baud = 921600
protocol = "text"
rate = 1000
channels = ["ax", "ay", "az"]
[[emulated]]
device = "radar"
"""


def test_a_valid_rig_round_trips_through_toml(tmp_path):
    rig = parse_rig(GOOD)
    assert [c.name for c in rig.camera] == ["cam"]
    assert rig.serial[0].baud == 921600 and rig.serial[0].channels == ["ax", "ay", "az"]
    save_rig(rig, tmp_path / "rig.toml")
    assert load_rig(tmp_path / "rig.toml") == rig


@pytest.mark.parametrize(
    "bad, expected",
    [
        (GOOD.replace("baud = 921600", "baud = 12345"), "serial[0].baud: must be one of 9600"),
        (GOOD.replace('protocol = "text"', 'protocol = "csv"'), "serial[0].protocol: must be 'text', 'binary' or 'events'"),
        (GOOD.replace("rate = 48000", "rat = 48000"), "audio[0].rat: unknown setting"),
        (GOOD.replace('port = "/dev/ttyUSB0"', ""), "serial[0].port: missing"),
        (GOOD.replace('name = "cam"', 'name = "imu"'), "device name 'imu' is used twice"),
        (GOOD.replace("[[audio]]", "[[audio]"), "not valid TOML"),
        (GOOD.replace('device = "radar"', 'device = "lidar"'), "emulated[0].device: must be 'camera'"),
        (GOOD.replace("[[camera]]", "[camera]"), "camera: write [[camera]] with double brackets"),
        (GOOD.replace("rate = 48000", 'rate = "48k"'), "audio[0].rate: must be a number, e.g. rate = 48000, got '48k'"),
        (GOOD.replace("channels = 2", "channels = 0"), "audio[0].channels: must be from 1 to 64, got 0"),
        (GOOD.replace('protocol = "text"', 'protocol = "text"\ntime_column = "minutes"'), "serial[0].time_column: must be 'ms'"),
        ('name = "empty"', "the rig names no devices; add a [[camera]]"),
    ],
    ids=["baud", "protocol", "typo", "missing-port", "duplicate-name", "toml-syntax", "unknown-emulated",
         "single-brackets", "number-as-text", "out-of-range", "time-column", "no-devices"],
)
def test_mistakes_give_one_line_naming_field_and_fix(bad, expected):
    with pytest.raises(RigError) as e:
        parse_rig(bad, source="rig.toml")
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("rig.toml: ")
    assert expected in msg


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(RigError, match="no such rig file.*--demo"):
        load_rig(tmp_path / "nope.toml")


def test_serial_time_column_reaches_the_source():
    from sensorlab.acquisition.builders import build_source

    rig = parse_rig(GOOD.replace('protocol = "text"', 'protocol = "text"\ntime_column = "counter"'))
    src = build_source(rig.serial[0])
    assert src.time_column == "counter" and src.nominal_rate == 1000 and src.channel_names == ("ax", "ay", "az")


def test_the_shipped_example_rig_is_valid():
    from importlib.resources import files

    rig = parse_rig(files("sensorlab.resources").joinpath("example_rig.toml").read_text(), "example_rig.toml")
    assert [d.name for d in (*rig.camera, *rig.audio, *rig.serial)] == ["cam", "mic", "imu"]


def test_text_values_are_float64_unless_the_rig_says_otherwise_and_old_saved_rigs_still_load():
    """Text streams default to float64 (float32 stored 473977418 as 473977408). Rigs the studio
    saved before spell out the old default `dtype = "float32"`, binary entries too: they load."""
    rig = parse_rig('[[serial]]\nname = "gps"\nport = "/dev/ttyUSB0"\nprotocol = "text"\n\n'
                    '[[serial]]\nname = "old"\nport = "/dev/ttyUSB1"\nprotocol = "text"\ndtype = "float32"\n\n'
                    '[[serial]]\nname = "imu"\nport = "/dev/ttyACM0"\nprotocol = "binary"\ndtype = "float32"\n')
    gps, old, _ = rig.build_sources()
    assert gps.dtype == "float64" and old.dtype == "float32"
    assert "dtype" not in parse_rig(rig.to_toml()).serial[0].model_dump(exclude_none=True)
    with pytest.raises(RigError, match="dtype, scale and offset are for protocol"):
        parse_rig('[[serial]]\nport = "/dev/ttyACM0"\nprotocol = "binary"\ndtype = "int16"\n')
