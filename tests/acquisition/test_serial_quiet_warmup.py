"""A device that sends a few samples and then goes quiet: its samples are delivered.

The first `WARMUP` seconds of device time are held back while the clock fit settles; the
warm-up ends by device time, which stands still while nothing arrives. Both read loops (the
thread's and the reader process's) release what they hold after `WARMUP` seconds without data,
so a board that prints once and waits (a button, a threshold) is not held back forever.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from sensorlab.acquisition.serial.port import SerialSource

from .conftest import wait_until


@pytest.mark.parametrize("reader", ["thread", "process"])
def test_samples_of_a_device_that_goes_quiet_are_not_held_back(recorder, reader, raw_pty):
    master, port = raw_pty
    with SerialSource(port, 921_600, name="txt", channel_names=("a",), nominal_rate=100.0,
                      time_column="ms", reader=reader) as src:  # fmt: skip
        src.start(recorder)
        if reader == "process":
            assert wait_until(lambda: "pid" in src.reader_info, 60.0)  # the child reads from a clean port
        # 5 samples, 40 ms of device time (well inside the warm-up), then nothing more.
        os.write(master, b"\n" + b"".join(f"{10 * k},{k}\n".encode() for k in range(5)))
        delivered = recorder.wait_samples(5, 60.0)
        running = src.running
        src.stop()
    assert running and delivered, "samples of a quiet device were held until stop"
    np.testing.assert_array_equal(recorder.joined().data[:, 0], np.arange(5))
