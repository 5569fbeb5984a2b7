"""Losses are told apart: samples a device never sent vs samples the host failed to take.

Both through a real pseudo-terminal: the emulated MCU either skips packets itself (its
``loss`` fault: sequence numbers jump, framing intact) or keeps sending while the reader
thread is held up until the pty's kernel buffer overflows (bytes cut mid-frame, as when a
USB CDC or UART buffer overruns because sensorlab did not read in time).
"""

from __future__ import annotations

import threading

from sensorlab.acquisition.emulated.mcu import BinaryIMU, imu_radar_mcu
from sensorlab.acquisition.serial.port import SerialSource

from .conftest import wait_until


def test_packets_the_device_never_sent_count_as_device_side_drops():
    got = threading.Event()
    with BinaryIMU(rate=1000.0, loss=0.1, seed=3) as mcu:
        with SerialSource(mcu.port, mcu.baudrate, "binary") as src:
            src.start(lambda name, chunk: got.set())
            st = src.stats["imu"]
            assert wait_until(lambda: st.dropped >= 50, 20.0), f"no device-side loss seen: {st}"
            src.stop()
    assert mcu.link.dropped_bytes == 0  # the reader kept up: nothing overflowed the pty
    assert st.dropped_in_transit == 0  # every gap came with intact framing: never sent


def test_samples_lost_because_the_reader_stalled_count_as_lost_in_transit():
    release = threading.Event()
    stalled = threading.Event()

    def slow_consumer(name: str, chunk) -> None:
        # The first chunk holds up the reader thread (as a GIL-hogging consumer or a
        # descheduled process would) until the device has overflowed the pty.
        if not stalled.is_set():
            stalled.set()
            release.wait(30.0)

    with imu_radar_mcu(seed=1) as mcu:
        with SerialSource(mcu.port, mcu.baudrate, "binary") as src:
            src.start(slow_consumer)
            assert stalled.wait(20.0), "no data arrived"
            assert wait_until(lambda: mcu.link.dropped_bytes > 0, 30.0), "the pty never overflowed"
            release.set()
            imu = src.stats["imu"]
            assert wait_until(lambda: imu.dropped > 0, 20.0), "the overflow left no sequence gap"
            src.stop()
    assert mcu.link.dropped_packets == 0  # the device itself sent everything
    assert imu.dropped_in_transit == imu.dropped  # all of it lost on the host side
