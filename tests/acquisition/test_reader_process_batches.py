"""The reader process hands a serial port's data over in batches (`reader_process.HANDOVER_BATCH`),
through real ptys: fewer wake-ups of the studio's parsing thread, nothing lost, no stamp moved.

Each read the child makes keeps its own arrival stamp inside a batch (the clock fit and every
sample's arrival time depend on it); a burst larger than a batch's size limit arrives whole and
in order; a port that vanishes while the child holds a batch still delivers what it read, then
the error that names why.
"""

from __future__ import annotations

import os
import threading
import time
import tty

import numpy as np
import pytest

from sensorlab.acquisition import reader_process
from sensorlab.acquisition.clock import now
from sensorlab.acquisition.reader_process import ReaderError, ReaderProcess
from sensorlab.acquisition.serial.port import SerialSource

from .conftest import wait_until

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the reader process is POSIX only")


@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    fds = {"master": master, "slave": slave}
    yield fds
    for fd in fds.values():
        if fd >= 0:
            os.close(fd)


def _read_all(rp: ReaderProcess, expected: int, timeout: float = 60.0) -> list[list[tuple[bytes, float, float]]]:
    """What the parent received, one list per `read` that returned data: (bytes, arrival, seen)."""
    handovers = []
    got = 0
    deadline = time.monotonic() + timeout
    while got < expected and time.monotonic() < deadline:
        blocks = rp.read(0.5)
        seen = now()
        if blocks:
            handovers.append([(data, arrival, seen) for data, arrival in blocks])
            got += sum(len(b[0]) for b in blocks)
    return handovers


def test_reads_within_a_batch_come_in_one_hand_over_each_with_its_own_arrival(pty_pair, monkeypatch):
    monkeypatch.setattr(reader_process, "HANDOVER_BATCH", 2.0)  # long, so the writes below fall in one
    rp = ReaderProcess(pty_pair["slave"], "pty").start()
    try:
        parts = [bytes([65 + k]) * (100 + k) for k in range(3)]
        written = []
        for part in parts:
            written.append(now())
            os.write(pty_pair["master"], part)
            time.sleep(0.05)
        handovers = _read_all(rp, sum(map(len, parts)))
    finally:
        rp.stop()
    blocks = [b for h in handovers for b in h]
    assert b"".join(b[0] for b in blocks) == b"".join(parts)  # every byte, in order
    # Batched: the parent woke fewer times than the child read.
    assert len(handovers) < len(blocks) or len(blocks) == 1, [len(h) for h in handovers]
    # Each read kept the time it was read, not the time of the hand-over: stamped after the
    # write that sent its first byte and no later than the parent saw it, in order ...
    starts = np.cumsum([0] + [len(b[0]) for b in blocks])[:-1]
    bounds = np.cumsum([0] + [len(p) for p in parts])
    for (data, arrival, seen), start in zip(blocks, starts, strict=True):
        first_write = written[int(np.searchsorted(bounds, start, side="right")) - 1]
        assert first_write <= arrival <= seen
    assert [b[1] for b in blocks] == sorted(b[1] for b in blocks)
    # ... and the hand-over came a whole batch after the first read's stamp (the child holds
    # it that long), which the stamp does not show.
    assert blocks[0][2] - blocks[0][1] >= 2.0


def test_a_burst_larger_than_a_batch_arrives_whole_and_in_order(pty_pair):
    rp = ReaderProcess(pty_pair["slave"], "pty").start()
    burst = np.random.default_rng(3).integers(0, 256, 300_000, dtype=np.uint8).tobytes()  # > 4 batches' size limit

    def send() -> None:  # blocking writes: the pty holds ~16 kB, the child empties it
        view = memoryview(burst)
        os.set_blocking(pty_pair["master"], True)
        while view:
            view = view[os.write(pty_pair["master"], view[:4096]) :]

    writer = threading.Thread(target=send)
    writer.start()
    try:
        handovers = _read_all(rp, len(burst))
    finally:
        writer.join(30)
        rp.stop()
    blocks = [b for h in handovers for b in h]
    assert b"".join(b[0] for b in blocks) == burst
    arrivals = [b[1] for b in blocks]
    assert arrivals == sorted(arrivals)


def test_a_port_that_vanishes_mid_batch_delivers_what_arrived_then_names_the_error(pty_pair, monkeypatch):
    monkeypatch.setattr(reader_process, "HANDOVER_BATCH", 2.0)  # the child still holds the data when the port goes
    rp = ReaderProcess(pty_pair["slave"], "pty").start()
    try:
        os.write(pty_pair["master"], b"last words\n")
        time.sleep(0.3)  # time for the child to read them (it then holds them for the batch)
        os.close(pty_pair["master"])  # the device vanished: reads of the port fail (EIO)
        pty_pair["master"] = -1
        got: list[tuple[bytes, float]] = []
        with pytest.raises(ReaderError) as error:
            deadline = time.monotonic() + 60.0
            while time.monotonic() < deadline:
                got += rp.read(0.5)
    finally:
        rp.stop()
    assert b"".join(b[0] for b in got) == b"last words\n"  # delivered before the error
    message = str(error.value)
    assert "errno" in message or "disconnected" in message, message


def test_a_serial_source_stamps_each_line_of_a_batch_with_its_own_arrival(recorder, raw_pty, monkeypatch):
    monkeypatch.setattr(reader_process, "HANDOVER_BATCH", 0.3)
    master, port = raw_pty
    with SerialSource(port, 921600, name="txt", channel_names=("a",), reader="process") as src:
        src.start(recorder)
        assert wait_until(lambda: "pid" in src.reader_info, 60.0)
        os.write(master, b"\n")
        written = []
        for k in range(4):
            written.append(now())
            os.write(master, f"{k}\n".encode())
            time.sleep(0.03)
        assert recorder.wait_samples(4, 60.0)
        src.stop()
    joined = recorder.joined()
    np.testing.assert_array_equal(joined.data[:, 0], np.arange(4))
    arrivals = joined.arrival_times
    # Every line's arrival is its read's: after its own write, in order.
    assert all(w <= a for w, a in zip(written, arrivals, strict=True)), (written, arrivals)
    assert np.all(np.diff(arrivals) >= 0)
    # The timestamps (the clock fit, never later than the arrival) follow the arrivals.
    assert np.all(joined.timestamps <= arrivals + 1e-9)
