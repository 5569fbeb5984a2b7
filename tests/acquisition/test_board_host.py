"""Emulated boards run in a process of their own (`emulated/board_host.py`), as hardware does:
a stall of the recording process must not stall the "device" (an in-process emulator then sent
a burst its TX buffer could not hold, and the demo recorded device-side drops that real
hardware never has)."""

from __future__ import annotations

import os
import sys
import threading
import time

import numpy as np
import pytest

from sensorlab.acquisition.kinds.emulated import EmulatedConfig, build_emulated

from .conftest import wait_until

pytestmark = pytest.mark.skipif(os.name != "posix", reason="ptys and the reader process are POSIX only")


def _hold_gil(seconds: float) -> None:
    end = time.monotonic() + seconds  # pure Python: keeps the GIL (switch interval raised below)
    while time.monotonic() < end:
        pass


def test_a_demo_board_keeps_sending_while_the_recording_process_is_stalled():
    src = build_emulated(EmulatedConfig(device="imu-radar"))
    old_interval = sys.getswitchinterval()
    try:
        src.open()
        src.start(lambda name, chunk: None)
        imu = src.stats["imu"]
        assert wait_until(lambda: imu.samples >= 500, 60.0), f"no data: {imu}"
        refused, overflowed = src.mcu.link.dropped_packets, src.mcu.link.dropped_bytes
        sys.setswitchinterval(5.0)
        holder = threading.Thread(target=_hold_gil, args=(3.0,), daemon=True)
        holder.start()
        holder.join(120.0)
        sys.setswitchinterval(old_interval)
        start = imu.samples
        assert wait_until(lambda: imu.samples >= start + 3000, 120.0), f"stalled: {imu}"
        # The board sent every packet: nothing refused by its TX buffer (device side). Whatever
        # the stream lacks is the host's, counted as such: on a machine stalled as a whole for
        # longer than a pty's buffer lasts, the kernel itself overflows it (docs/performance/recording-and-loss.md).
        assert src.mcu.link.dropped_packets == refused, (refused, overflowed, src.mcu.link.dropped_bytes)
        assert imu.dropped == imu.dropped_in_transit, imu
    finally:
        sys.setswitchinterval(old_interval)
        src.stop()
        src.close()


def test_a_board_in_the_host_process_describes_itself_and_counts_what_it_sent():
    src = build_emulated(EmulatedConfig(device="imu-binary", name="acc", rate=500.0))
    got = []
    try:
        src.open()
        assert [s.name for s in src.streams] == ["acc"]
        src.start(lambda name, chunk: got.append(len(chunk.data)))
        assert wait_until(lambda: sum(got) >= 500, 60.0)
        assert src.mcu.describe_requests >= 1 and src.mcu.sent_packets > 0
    finally:
        src.stop()
        src.close()
    assert src.mcu.sent_packets > 0  # still readable once closed, as an in-process board's


def test_a_board_in_the_host_process_hands_back_its_packet_log_and_its_sample_clock():
    # bench_sync.py measures serial timestamps against the emulator's truth with the emulator
    # out of the recording process: the truth (when each sample was taken) and the log (when
    # each packet really went into the pty) must come back from the board host, and stay
    # readable once the board is closed.
    from sensorlab.acquisition.emulated.board_host import RemoteBoard
    from sensorlab.acquisition.emulated.serial_device import EmulatedSerialSource
    from sensorlab.acquisition.emulated.world import World

    board = RemoteBoard(EmulatedConfig(device="imu-binary", name="imu", rate=1000.0, drift_ppm=100.0), World())
    src = EmulatedSerialSource(board, "binary")
    board.link.record_timing()
    got = []
    try:
        src.open()
        src.start(lambda name, chunk: got.append(chunk))
        assert wait_until(lambda: sum(len(c.data) for c in got) >= 2000, 60.0)
    finally:
        src.stop()
        src.close()
    dev = np.concatenate([c.device_times for c in got])
    stamped = np.concatenate([c.timestamps for c in got])
    true = board.true_host_times(dev)
    # One sample per millisecond of the device clock, which runs 100 ppm fast.
    assert np.diff(true) == pytest.approx(1e-3 / 1.0001, abs=1e-9)
    # Stamped from arrivals, yet close to the truth (generous: the machine may be loaded).
    assert abs(float(np.median(stamped - true))) < 0.02
    log = np.array(board.link.timing)
    assert len(log) >= 100 and log.shape[1] == 4
    ready, due, written, start = log.T
    # A packet goes on the wire after it is ready, finishes after its wire time, and is
    # written into the pty no earlier than the wire finished it.
    assert np.all(start >= ready - 1e-9) and np.all(due > start) and np.all(written >= due - 1e-9)
    # The log's packets are the ones the samples came in: each is ready at the true time of
    # its last sample (all but the few self-description packets).
    inside = ready[(ready >= true[0]) & (ready <= true[-1])]
    assert len(inside) >= 150
    assert np.isin(np.round(inside * 1e6), np.round(true * 1e6)).mean() > 0.95
