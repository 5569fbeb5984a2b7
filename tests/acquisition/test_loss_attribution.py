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
    # A slow stream (~3 kB/s): the pty would need a reader stalled for seconds to overflow.
    with BinaryIMU(rate=200.0, loss=0.2, seed=3) as mcu:
        with SerialSource(mcu.port, mcu.baudrate, "binary") as src:
            src.start(lambda name, chunk: None)
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

    # A TX buffer larger than anything the test sends: the device itself never drops.
    with imu_radar_mcu(seed=1, tx_buffer=1 << 24) as mcu:
        # reader="thread": the consumer runs on the reader thread, which then stops reading.
        with SerialSource(mcu.port, mcu.baudrate, "binary", reader="thread") as src:
            src.start(slow_consumer)
            assert stalled.wait(20.0), "no data arrived"
            # Well past the pty's ~20 kB: several radar maps and IMU packets are cut away.
            assert wait_until(lambda: mcu.link.dropped_bytes > 50_000, 30.0), "the pty never overflowed"
            release.set()
            stats = [src.stats["imu"], src.stats["radar"]]
            assert wait_until(lambda: all(st.dropped > 0 for st in stats), 20.0), f"the overflow left no sequence gap: {stats}"
            src.stop()
    assert mcu.link.dropped_packets == 0  # the device itself sent everything
    for st in stats:  # all of it lost on the host side
        assert st.dropped_in_transit == st.dropped


def test_text_lines_cut_by_a_pty_overflow_count_as_lost_in_transit_and_skipped_lines_do_not():
    from sensorlab.acquisition.emulated.mcu import TextIMU

    flowing = threading.Event()
    flowing.set()
    held = threading.Event()

    def consumer(name: str, chunk) -> None:
        # While `flowing` is clear, the reader thread is held up here (as by a GIL-hogging
        # consumer or a descheduled process) and stops reading the port.
        if not flowing.is_set():
            held.set()
            flowing.wait(30.0)

    def counts(st) -> tuple[int, int, int]:
        return st.dropped, st.dropped_in_transit, st.parse_errors

    # 2,000 lines/s with a sample counter at 2 Mbaud (~100 kB/s): a held-up reader overflows
    # the pty within a second. Where the kernel cuts the stream is its choice: usually inside a
    # line (whose head then runs into a later one: garbage, then the counter gap), but now and
    # then exactly between two lines, which leaves nothing on the wire to tell the gap from lines
    # the board skipped (docs/SERIAL-PROTOCOL.md). So the reader is held up until one overflow
    # has cut a line, at most five times (12 of 12 first overflows cut one when measured here).
    with TextIMU(rate=2000.0, time_column="counter", header=False, baudrate=2_000_000, tx_buffer=1 << 24, seed=1) as mcu:
        with SerialSource(mcu.port, mcu.baudrate, name="txt", nominal_rate=2000.0, time_column="counter", reader="thread") as src:
            src.start(consumer)
            st = src.stats["txt"]
            assert wait_until(lambda: st.samples > 0, 20.0), "no data arrived"
            episodes = []
            for _ in range(5):
                before, overflowed = counts(st), mcu.link.dropped_bytes
                held.clear()
                flowing.clear()
                assert held.wait(20.0), "the reader was never held up"
                assert wait_until(lambda: mcu.link.dropped_bytes > overflowed + 50_000, 30.0), "the pty never overflowed"
                flowing.set()
                assert wait_until(lambda: st.dropped > before[0], 20.0), f"the overflow left no counter gap: {st}"
                # Read the counters once the reader has moved on past the gap (it books a gap's
                # `dropped` and `dropped_in_transit` one statement apart).
                taken = st.samples
                assert wait_until(lambda: st.samples > taken + 200, 20.0), f"no lines after the gap: {st}"
                after = counts(st)
                episodes.append(tuple(a - b for a, b in zip(after, before)))
                if after[2] > before[2]:
                    break
            src.stop()
    assert mcu.link.dropped_packets == 0  # the device itself sent every line
    dropped, in_transit, parse_errors = episodes[-1]
    assert parse_errors > 0, f"five overflows, none cut a line: {episodes}"
    assert in_transit == dropped > 0  # the lines lost behind the cut line: all the host's
    # The device skipping lines itself (counter jumps, every line intact): device side.
    with TextIMU(rate=500.0, time_column="counter", header=False, loss=0.2, seed=3) as mcu:
        with SerialSource(mcu.port, mcu.baudrate, name="txt", nominal_rate=500.0, time_column="counter") as src:
            src.start(lambda name, chunk: None)
            st = src.stats["txt"]
            assert wait_until(lambda: st.dropped - st.dropped_in_transit >= 50, 20.0), f"no device-side loss seen: {st}"
            src.stop()
    # Every skipped line is the device's; a reader held up for seconds on a loaded machine may
    # overflow the pty as well, and only then is anything booked as lost in transit.
    assert st.dropped - st.dropped_in_transit >= 50
    assert st.dropped_in_transit == 0 or mcu.link.dropped_bytes > 0


def test_a_cut_line_run_into_the_next_is_garbage_not_a_huge_counter_gap():
    from sensorlab.acquisition.serial.text import TextLineParser

    def line(k: int) -> bytes:
        return f"{k},0.1,0.2,0.3\r\n".encode()

    parser = TextLineParser("txt", ("a", "b", "c"), time_column="counter", nominal_rate=1000.0)
    runs = parser.feed(b"".join(line(k) for k in range(100, 104)))
    # The pty overran in line 104: its head "10" runs into line 2000 ("102000,…"), then on.
    runs += parser.feed(b"10" + b"".join(line(k) for k in range(2000, 2004)))
    runs += parser.feed(line(2004))
    counts = [round(t * 1000) for r in runs for t in r.device_times]
    assert counts == [100, 101, 102, 103, *range(2001, 2005)]
    c = parser.counters
    assert (c.lost_samples, c.lost_in_transit, c.parse_errors) == (2001 - 104, 2001 - 104, 1)
    # A real jump (the next line goes on beyond it) is believed: a gap, lost on the device side.
    runs = parser.feed(line(3000) + line(3001))
    assert [round(t * 1000) for r in runs for t in r.device_times] == [3000, 3001]
    assert (c.lost_samples, c.lost_in_transit) == (2001 - 104 + 3000 - 2005, 2001 - 104)
