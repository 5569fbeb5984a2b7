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

import contextlib

import os
import time

import numpy as np
import pytest

from sensorlab.acquisition.serial.binary import encode_data, encode_description
from sensorlab.acquisition.serial.description import DeviceDescription, StreamDescription
from sensorlab.acquisition.serial.port import SerialSource

from .conftest import wait_until

RATE = 100.0
UPTIME_MS = 5_000_000  # the board has been running for 83 minutes when the recording starts


def _lines(ms: np.ndarray, first: int) -> bytes:
    return b"".join(b"%d,%d\n" % (t, first + k) for k, t in enumerate(ms))


@pytest.mark.parametrize("reader", ["thread", "process"])
def test_chunks_flow_live_again_after_the_device_clock_restarts(recorder, reader, raw_pty):
    master, port = raw_pty
    step = 1000 / RATE
    before = UPTIME_MS + step * np.arange(150)  # 1.5 s: past the warm-up by device time
    rebooted = 300 + step * np.arange(150)  # the board booted in 0.3 s; 1.5 s of samples in one go
    live = rebooted[-1] + step * np.arange(1, 101)  # then 1 s written line by line, as produced
    with SerialSource(port, 921_600, name="imu", channel_names=("n",), time_column="ms", reader=reader) as src:
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
    joined = recorder.joined()
    assert joined.data[:, 0].tolist() == list(range(400)), "every sample stored once, in order"
    assert np.all(np.diff(joined.timestamps) > 0)
    # 100 lines written 10 ms apart over a second: read as they come, they make dozens of chunks
    # even on a loaded machine. Held back a second at a time, they made one or two.
    assert live_chunks >= 5, f"the second after the reset came in {live_chunks} chunk(s): held back instead of live"


DESCRIPTION = DeviceDescription("board", (StreamDescription(0, "imu", "timeseries", RATE, "int32", (1,)),))


def _board_bytes(protocol: str, times_ms: np.ndarray, first_seq: int, first_value: int) -> bytes:
    if protocol == "binary":
        return b"".join(encode_data(0, first_seq + k, int(t * 1000), np.array([[first_value + k]], "int32")) for k, t in enumerate(times_ms))
    column = (first_seq + np.arange(len(times_ms))) if protocol == "counter" else times_ms
    return b"".join(b"%d,%d\n" % (c, first_value + k) for k, c in enumerate(column))


@pytest.mark.parametrize("protocol", ["counter", "ms", "binary"])
def test_a_board_reset_with_the_port_open_is_a_gap_in_the_stream(recorder, protocol, raw_pty, board_describing):
    """The reboot of a board whose port stays open leaves a hole in its stream: it is reported
    as a gap (`sensorlab info`, the stream health view) instead of passing as a recording with none."""
    master, port = raw_pty
    step = 1000 / RATE
    kwargs = {"protocol": "binary"} if protocol == "binary" else {
        "name": "imu", "channel_names": ("n",), "time_column": protocol, "nominal_rate": RATE}  # fmt: skip
    src = SerialSource(port, 921_600, reader="thread", **kwargs)
    with board_describing(master, DESCRIPTION) if protocol == "binary" else contextlib.nullcontext():
        src.open()  # a binary board's description is read here
    try:
        src.start(recorder)
        time.sleep(0.1)  # the start flushes what came before; write after it
        flush = b"\x00" if protocol == "binary" else b"\n"  # ends whatever the start cut
        os.write(master, flush + _board_bytes(protocol, UPTIME_MS + step * np.arange(20), 1000, 0))
        assert recorder.wait_samples(20, 60.0)
        time.sleep(0.6)  # the board reboots: no samples for 0.6 s; then its clock and counters start at 0
        os.write(master, _board_bytes(protocol, 300 + step * np.arange(20), 0, 20))
        if protocol == "binary":  # the rebooted board answers the host's DESCRIBE: unchanged
            os.write(master, b"".join(encode_description(DESCRIPTION)))
        src.release_held()
        assert recorder.wait_samples(40, 60.0)
        src.stop()
        gaps = list(src.stats["imu"].gaps)
    finally:
        src.close()
    assert recorder.joined().data[:, 0].tolist() == list(range(40)), "every sample stored once, in order"
    assert len(gaps) == 1, f"gaps {gaps}: the reboot should be the one gap"
    start, end = gaps[0]
    assert end - start >= 0.3, f"the gap ({end - start:.3f} s) should span the 0.6 s reboot"
