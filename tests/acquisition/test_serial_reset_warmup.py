"""A board that resets while the port stays open: its stream keeps flowing live afterwards.

Pressing the reset button of a board behind a USB-UART bridge (or a watchdog reset) keeps the
port open; only the device clock starts again from 0 (a 32-bit `micros()` column that wraps
after 71.6 minutes does the same). The clock fit restarts on that step, and so does the
first-second warm-up hold. It used to be measured from the device time of the recording's
first sample, so after the reset it lasted until the clock caught up with the board's uptime
before the recording: every chunk was held back a second (live plots and live inference a
second late, in one-second jerks) for the rest of the recording.
"""

from __future__ import annotations

import os
import time
import tty

import numpy as np
import pytest

from sensorlab.acquisition.serial.port import SerialSource

from .conftest import wait_until

RATE = 100.0
UPTIME_MS = 5_000_000  # the board has been running for 83 minutes when the recording starts


def _lines(ms: np.ndarray, first: int) -> bytes:
    return b"".join(b"%d,%d\n" % (t, first + k) for k, t in enumerate(ms))


@pytest.mark.parametrize("reader", ["thread", "process"])
def test_chunks_flow_live_again_after_the_device_clock_restarts(recorder, reader):
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    step = 1000 / RATE
    before = UPTIME_MS + step * np.arange(150)  # 1.5 s: past the warm-up by device time
    rebooted = 300 + step * np.arange(150)  # the board booted in 0.3 s; 1.5 s of samples in one go
    live = rebooted[-1] + step * np.arange(1, 101)  # then 1 s written line by line, as produced
    try:
        with SerialSource(os.ttyname(slave), 921_600, name="imu", channel_names=("n",), time_column="ms", reader=reader) as src:
            src.start(recorder)
            if reader == "process":
                assert wait_until(lambda: "pid" in src.reader_info, 60.0)  # the child reads from a clean port
            os.write(master, b"\n" + _lines(before, 0))
            assert recorder.wait_samples(150, 60.0)
            os.write(master, _lines(rebooted, 150))
            assert recorder.wait_samples(300, 60.0), "the samples after the reset were not delivered"
            chunks_before_live = len(recorder.chunks)
            for k, t in enumerate(live):
                os.write(master, b"%d,%d\n" % (t, 300 + k))
                time.sleep(1 / RATE)
            assert recorder.wait_samples(400, 60.0)
            live_chunks = len(recorder.chunks) - chunks_before_live
            src.stop()
    finally:
        os.close(master)
        os.close(slave)
    joined = recorder.joined()
    assert joined.data[:, 0].tolist() == list(range(400)), "every sample stored once, in order"
    assert np.all(np.diff(joined.timestamps) > 0)
    # 100 lines written 10 ms apart over a second: read as they come, they make dozens of chunks
    # even on a loaded machine. Held back a second at a time, they made one or two.
    assert live_chunks >= 5, f"the second after the reset came in {live_chunks} chunk(s): held back instead of live"
