"""A pty that closes mid-stream is never reopened by its number: the kernel hands the number to
the next program that asks for a pty, and a reader that reopened it would read (and
exclusively lock) that program's pty. Real ptys throughout; the "other program" is this test
asking for ptys until it gets the lost one's number."""

from __future__ import annotations

import os
import tty

import pytest
import serial

from sensorlab.acquisition.emulated.mcu import TextIMU
from sensorlab.acquisition.emulated.serial_device import EmulatedSerialSource
from sensorlab.acquisition.serial.port import SerialSource
from sensorlab.acquisition.source import SourceError
from tests.acquisition.conftest import wait_until


def _pty_at(path: str, tries: int = 500) -> tuple[int, int]:
    """A new pty whose slave has ``path`` (the kernel gives out the lowest free number; other
    processes may take it first, so ask until it comes)."""
    spare = []
    try:
        for _ in range(tries):
            master, slave = os.openpty()
            if os.ttyname(slave) == path:
                tty.setraw(master)
                tty.setraw(slave)
                return master, slave
            spare.append((master, slave))
    finally:
        for fds in spare:
            for fd in fds:
                os.close(fd)
    pytest.skip(f"{path} was not handed out again in {tries} tries (other processes hold it)")


def test_a_lost_pty_is_not_reopened_when_its_number_goes_to_another_program(recorder):
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    port = os.ttyname(slave)
    src = SerialSource(port, 115200, name="imu", channel_names=["a", "b"], nominal_rate=100.0)
    other = None
    try:
        with src:
            src.start(recorder)
            os.write(master, b"junk\n" + b"".join(f"{i},{-i}\n".encode() for i in range(20)))
            assert recorder.wait_samples(10, 10)
            os.close(master)  # the device's pty goes away: its path is gone with it
            os.close(slave)
            other = _pty_at(port)  # … and another program is given the same number
            st = src.stats["imu"]
            # Long enough for the reader's first reopen attempts (after 0.2 s and 0.4 s): without
            # the identity check the first of them takes the other program's pty.
            wait_until(lambda: st.reconnects > 0 or src._backoff >= 0.8, timeout=30)
            assert st.reconnects == 0 and st.lost
            # The other program opens its own pty exclusively, as a second sensorlab would.
            mine = serial.Serial(port, exclusive=True)
            mine.close()
    finally:
        if other is not None:
            os.close(other[0])
            os.close(other[1])


def test_a_closed_emulated_board_is_not_opened_again_by_its_old_path():
    mcu = TextIMU(rate=100.0)
    src = EmulatedSerialSource(mcu, "text", name="imu", nominal_rate=100.0, channel_names=("ax", "ay", "az", "gx", "gy", "gz"))
    src.open()
    src.close()  # closes the board: its pty number is free for anyone
    with pytest.raises(SourceError, match="emulated board was closed.*build the rig again"):
        src.open()
