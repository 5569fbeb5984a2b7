"""A text board whose lines have other columns than the rig's `channels` (a first rig written by
hand, or firmware changed since): every line is thrown away, and the stream, the session log,
`sensorlab info` and `sensorlab record` say so, naming the fix, instead of "check the baud rate"."""

from __future__ import annotations

import threading

from typer.testing import CliRunner

from sensorlab.acquisition.emulated.mcu_text import TextIMU
from sensorlab.acquisition.serial.port import SerialSource
from sensorlab.cli import app
from sensorlab.session.summary import lost_streams, summarize

SIX = ["ax", "ay", "az", "gx", "gy", "gz"]


def _wait(cond, timeout: float = 15.0) -> bool:
    done = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if cond():
            return True
        done.wait(0.05)
    return cond()


def test_lines_with_fewer_values_than_the_rig_names_are_explained(recorder):
    with TextIMU(rate=200.0, header=False, baudrate=115200) as mcu:
        mcu._flash(("ax", "ay", "az"))  # firmware printing three columns; the rig names six
        with SerialSource(mcu.port, 115200, name="esp", nominal_rate=200, channel_names=SIX) as src:
            src.start(recorder)
            st = src.stats["esp"]
            assert _wait(lambda: st.problem), "no explanation for the lines thrown away"
            src.stop()
    assert "lines of 3 values" in st.problem and "`channels` name 6 (ax, ay, az, gx, gy, gz)" in st.problem
    assert "`channels`" in st.problem  # the fix
    assert st.samples == 0 and st.parse_errors >= 10 and st.error == ""


def test_a_header_after_opening_naming_other_columns_is_the_rig_disagreeing(recorder):
    """A board that resets when the port opens (most USB-serial ESP32s) prints its header: with
    the rig naming the columns, that is not "new firmware, reopen" but "fix the rig"."""
    with TextIMU(rate=200.0, header=True, baudrate=115200) as mcu:
        with SerialSource(mcu.port, 115200, name="esp", nominal_rate=200, channel_names=SIX) as src:
            src.start(recorder)
            st = src.stats["esp"]
            assert recorder.wait_samples(50, 10)
            mcu.reboot(channels=("ax", "ay", "az"))  # header "ax,ay,az", then three values a line
            assert _wait(lambda: st.problem), "no explanation for the lines thrown away"
            src.stop()
    assert "its header names ax, ay, az" in st.problem and "`channels`" in st.problem
    assert st.error == ""  # not failed as "describes itself differently: reopen"; the rig is what to fix


def test_record_and_info_name_the_rig_fix(tmp_path):
    with TextIMU(rate=100.0, header=False, baudrate=115200) as mcu:
        mcu._flash(("ax", "ay", "az"))
        rig = tmp_path / "bench.toml"
        rig.write_text(f'[[serial]]\nname = "esp"\nport = "{mcu.port}"\nrate = 100\nchannels = {SIX!r}\n'.replace("'", '"'))
        out = tmp_path / "s.h5"
        result = CliRunner().invoke(app, ["record", "--rig", str(rig), "-d", "3", "-o", str(out)])
    assert result.exit_code == 3, result.output
    lines = lost_streams(summarize(out))
    assert len(lines) == 1 and "lines of 3 values" in lines[0] and "`channels`" in lines[0], lines
    assert "baud" not in lines[0]  # not the guess for a port that says nothing
    info = CliRunner().invoke(app, ["info", str(out)])
    assert "lines of 3 values" in info.output, info.output


def test_info_measures_a_replugged_boards_rate_over_the_time_it_was_there(tmp_path):
    """Unplugged for seconds mid-recording: `info`'s measured rate was samples over the whole
    span (a 100 Hz board read ~60 Hz), as if the board were slow."""
    link = str(tmp_path / "ttyESP32")
    mcu = TextIMU(rate=100.0, header=False, baudrate=115200, link_path=link).start()
    rig = tmp_path / "bench.toml"
    rig.write_text(f'[[serial]]\nname = "esp"\nport = "{link}"\nrate = 100\n')
    out = tmp_path / "s.h5"

    def unplug_for_a_while() -> None:
        _wait(out.exists, 60.0)  # the devices opened and the file was created (slow on a loaded machine)
        threading.Event().wait(2.0)
        mcu.vanish()
        threading.Event().wait(3.0)
        mcu.replug()

    plug = threading.Thread(target=unplug_for_a_while)
    plug.start()
    try:
        result = CliRunner().invoke(app, ["record", "--rig", str(rig), "-d", "10", "-o", str(out)])
    finally:
        plug.join()
        mcu.close()
    assert result.exit_code == 3, result.output  # lost and back: the file is complete, with a hole
    esp = next(s for s in summarize(out)["streams"] if s["name"] == "esp")
    assert esp["gap_seconds"] > 2.0 and esp["samples"] > 300, esp
    assert 90 < esp["rate_measured"] < 110, esp["rate_measured"]
