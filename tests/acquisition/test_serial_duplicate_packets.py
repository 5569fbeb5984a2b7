"""A firmware that sends a binary packet twice (a retry after a timed-out acknowledgement, a
TX ring that replays its last slot): the copy is dropped and counted, never stored twice.

A packet whose `seq` went back used to mean only one thing, a restart: the host asked the
board for its description again, held the stream meanwhile, and stored the copy's samples a
second time (the stream's values read 0..9, 5..9, 10..). A real restart (seq back to 0, the
device clock back too) is still a restart with its gap.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.serial.binary import REPLAY_WINDOW, BinaryParser, encode_data, encode_description
from sensorlab.acquisition.serial.description import DeviceDescription, StreamDescription
from sensorlab.acquisition.serial.port import SerialSource
from sensorlab.session.reader import Session
from sensorlab.session.recorder import Recorder
from sensorlab.session.summary import format_summary, summarize

from .conftest import wait_until

RATE = 100.0
DESCRIPTION = DeviceDescription("board", (StreamDescription(0, "imu", "timeseries", RATE, "int32", (1,)),))
UPTIME_US = 3_000_000_000  # up 50 minutes


def _packet(seq: int, n: int = 5) -> bytes:
    """``n`` samples from sample ``seq`` on: values are the sample's index."""
    t_us = UPTIME_US + int(seq * 1e6 / RATE)
    return encode_data(0, seq, t_us, np.arange(seq, seq + n, dtype="int32").reshape(n, 1))


def _restart(master: int, src: SerialSource, samples: int) -> None:
    """The board behind ``master`` restarts after a 0.4 s silence (a gap in the stream): it sends
    ``samples`` samples at its rate with seq and clock back to 0 and values from 1000 on,
    answers the host's DESCRIBE unchanged once the restart is recognised, and the held stream is
    released."""
    time.sleep(0.4)
    for seq in range(0, samples, 5):
        os.write(master, encode_data(0, seq, int(seq * 1e6 / RATE), np.arange(1000 + seq, 1005 + seq, dtype="int32").reshape(5, 1)))
        if seq == 0:
            assert wait_until(lambda: src.parser.awaiting_description, 30.0), "the restart was not recognised"
            os.write(master, b"".join(encode_description(DESCRIPTION)))  # it answers DESCRIBE: unchanged
        time.sleep(5 / RATE)
    src.release_held()


def test_a_repeated_packet_is_dropped_and_counted_by_the_parser():
    p = BinaryParser(DESCRIPTION)
    wire = _packet(0) + _packet(5) + _packet(5) + _packet(10)
    values = [int(v) for s in p.feed(wire) for v in s.data[:, 0]]
    assert values == list(range(15)), values
    assert p.counters.duplicates_by_stream == {"imu": 1}
    assert not p.awaiting_description, "a repeat is no restart: the description is not asked for"
    assert p.counters.resets == 0 and p.counters.lost_samples == 0


@pytest.mark.parametrize("back", [2, 5, 50])
def test_a_replay_of_an_older_packet_is_dropped_not_taken_for_a_restart(back):
    """A TX ring that replays an older slot: packet i, then again the one ``back`` before it."""
    p = BinaryParser(DESCRIPTION)
    seqs = [5 * i for i in range(60)]
    order = seqs[:55] + [seqs[54 - back]] + seqs[55:]
    values = [int(v) for s in p.feed(b"".join(_packet(q) for q in order)) for v in s.data[:, 0]]
    assert values == list(range(300)), "the replay's samples were stored again, or later ones lost"
    assert p.counters.duplicates_by_stream == {"imu": 1}
    assert not p.awaiting_description and p.counters.resets == 0 and p.counters.lost_samples == 0


def test_a_packet_older_than_the_window_or_a_reboot_resending_seq_0_is_a_restart():
    p = BinaryParser(DESCRIPTION)
    p.feed(b"".join(_packet(5 * i) for i in range(REPLAY_WINDOW + 10)))
    assert p.feed(_packet(0)) == [] and p.awaiting_description, "out of the window: a restart"
    p = BinaryParser(DESCRIPTION)
    p.feed(_packet(0) + _packet(5) + _packet(10))
    p.feed(encode_data(0, 0, 1000, np.arange(5, dtype="int32").reshape(5, 1)))  # rebooted: seq and clock back to 0
    assert p.awaiting_description
    p.feed(b"".join(encode_description(DESCRIPTION)))  # it answers DESCRIBE: unchanged
    assert p.counters.resets == 1 and not p.counters.duplicates_by_stream
    # A deterministic boot resends its first packet byte for byte (same micros(), same idle
    # values): seq 0 again is a restart, unless it follows itself (a retry of that packet).
    p = BinaryParser(DESCRIPTION)
    p.feed(_packet(0) + _packet(0) + _packet(5) + _packet(10))
    assert p.counters.duplicates_by_stream == {"imu": 1} and not p.awaiting_description
    assert p.feed(_packet(0)) == [] and p.awaiting_description


def test_same_seq_with_other_bytes_is_still_a_restart():
    """A board that rebooted and happens to resend seq 5 with another clock is no duplicate."""
    p = BinaryParser(DESCRIPTION)
    p.feed(_packet(0) + _packet(5))
    rebooted = encode_data(0, 5, 300_000, np.arange(5, 10, dtype="int32").reshape(5, 1))
    assert p.feed(rebooted) == []
    assert p.awaiting_description, "the clock went back: the board restarted"
    assert not p.counters.duplicates_by_stream


def test_repeated_packets_on_a_real_port_are_stored_once_and_shown_by_info(tmp_path, raw_pty, board_describing):
    master, port = raw_pty
    src = SerialSource(port, 921_600, "binary", reader="thread")
    with board_describing(master, DESCRIPTION):
        src.open()
    path = tmp_path / "dup.h5"
    with Acquisition([src]) as acq:
        st = acq.stats["imu"]
        with Recorder(acq, path) as rec:
            os.write(master, b"\x00")  # ends whatever the start cut
            for seq in range(0, 300, 5):  # 3 s of samples; every 4th packet sent twice
                os.write(master, _packet(seq) * (2 if seq % 20 == 0 else 1))
                time.sleep(5 / RATE)
            assert wait_until(lambda: st.samples >= 300 - 5, 60.0), st
            # A real restart afterwards is still recognised: seq and clock back to 0.
            _restart(master, src, 150)
            assert wait_until(lambda: st.samples >= 300 + 150 - 5, 60.0), st
        assert not rec.error
    with Session.open(path) as s:
        imu = s.streams["imu"]
        values = imu.read().data[:, 0].tolist()
        assert imu.stats.duplicates == 15
        gaps = imu.gaps.tolist()
    before = [v for v in values if v < 1000]
    after = [v for v in values if v >= 1000]
    assert before == sorted(set(before)) and len(before) >= 250, "a repeated packet's samples were stored twice"
    assert after == sorted(set(after)) and len(after) >= 100, "the samples after the restart were not recorded"
    assert any(b - a >= 0.3 for a, b in gaps), "the restart should be a gap"
    text = format_summary(summarize(path, measure_sync=False))
    assert "15 packet(s) the device sent twice" in text, text


def test_replays_of_older_packets_on_a_real_port_are_stored_once_and_a_restart_still_detected(tmp_path, raw_pty, board_describing):
    """Through a real pty: replays of the packet 2, 5 and 50 back are dropped and counted, the
    stream records on without asking for a description; a real restart afterwards is one."""
    master, port = raw_pty
    src = SerialSource(port, 921_600, "binary", reader="thread")
    with board_describing(master, DESCRIPTION):
        src.open()
    path = tmp_path / "replay.h5"
    replays = {20: 2, 40: 5, 80: 50}  # after packet i, the one this many before it again
    with Acquisition([src]) as acq:
        st = acq.stats["imu"]
        with Recorder(acq, path) as rec:
            os.write(master, b"\x00")  # ends whatever the start cut
            for i in range(100):  # 5 s of samples
                os.write(master, _packet(5 * i))
                if i in replays:
                    os.write(master, _packet(5 * (i - replays[i])))
                time.sleep(5 / RATE)
            assert wait_until(lambda: st.samples >= 500 - 5, 60.0), st
            assert not src.parser.awaiting_description and src.parser.counters.resets == 0, "a replay was taken for a restart"
            _restart(master, src, 100)
            assert wait_until(lambda: st.samples >= 500 + 100 - 5, 60.0), st
        assert not rec.error
    with Session.open(path) as s:
        imu = s.streams["imu"]
        values = imu.read().data[:, 0].tolist()
        assert imu.stats.duplicates == 3
    before = [v for v in values if v < 1000]
    assert before == sorted(set(before)) and len(before) >= 450, "a replayed packet's samples were stored twice"
    assert [v for v in values if v >= 1000] == sorted(set(v for v in values if v >= 1000)), "samples after the restart"
    assert src.parser.counters.resets == 1
