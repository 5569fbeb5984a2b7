"""Emulated boards run in a process of their own (`emulated/board_host.py`), as hardware does:
a stall of the recording process must not stall the "device" (an in-process emulator then sent
a burst its TX buffer could not hold, and the demo recorded device-side drops that real
hardware never has)."""

from __future__ import annotations

import os
import sys
import threading
import time

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
        # longer than a pty's buffer lasts, the kernel itself overflows it (docs/PERFORMANCE.md).
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
