"""Rig files from the command line: the shipped example, and settings the docs tell users to write."""

from __future__ import annotations

from importlib.resources import files

from typer.testing import CliRunner

from sensorlab.acquisition.rig import parse_rig
from sensorlab.cli import app

runner = CliRunner()


def test_rig_example_prints_the_shipped_rig_ready_to_copy(tmp_path):
    result = runner.invoke(app, ["rig", "example"])
    assert result.exit_code == 0, result.output
    assert result.output == files("sensorlab.resources").joinpath("example_rig.toml").read_text(encoding="utf-8")
    rig = parse_rig(result.output, "my_rig.toml")  # what `> my_rig.toml` gives is a valid rig
    assert [c.name for c in rig.camera] == ["cam"] and rig.serial[0].port
    # A bad copy is caught by `record` before any device opens: same file, one field broken.
    broken = tmp_path / "my_rig.toml"
    broken.write_text(result.output.replace("baud = 921600", "baud = 12345"))
    result = runner.invoke(app, ["record", "--rig", str(broken), "-d", "1"])
    assert result.exit_code == 2 and "my_rig.toml: serial[0].baud" in result.output


def test_a_native_usb_board_is_not_corrected_for_a_uart_transmit_time():
    # docs/SERIAL-PROTOCOL.md §3 tells native-USB users to turn the wire-time correction off.
    text = '[[serial]]\nname = "imu"\nport = "loop://"\nbaud = 921600\nrate = 100\n'
    uart_board, = parse_rig(text).build_sources()
    usb_board, = parse_rig(text + "uart = false\n").build_sources()
    assert uart_board.seconds_per_byte == 10 / 921600  # a USB-UART bridge really runs at baud
    assert usb_board.seconds_per_byte == 0.0
    assert "uart = false" in parse_rig(text + "uart = false\n").to_toml()  # kept in the session's stored rig
