"""Bounded ring buffers keep the newest samples and count what they drop."""

import numpy as np

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import Chunk


def chunk(t0: float, n: int, rate: float = 100.0) -> Chunk:
    t = t0 + np.arange(n) / rate
    return Chunk(data=t[:, None].astype(np.float32), timestamps=t)


def test_ring_keeps_only_the_last_seconds_and_counts_unread_drops():
    ring = ChunkRing(seconds=1.0)
    for k in range(30):  # 3 s of 100 Hz data in 10-sample chunks
        ring.append(chunk(k * 0.1, 10))
    snap = ring.snapshot()
    assert snap.timestamps[-1] == 2.99
    assert 1.0 <= snap.timestamps[-1] - snap.timestamps[0] <= 1.1
    assert np.all(np.diff(snap.timestamps) > 0)
    assert ring.dropped == 300 - len(snap)
    assert ring.total == 300


def test_since_returns_only_new_samples_and_stops_counting_them_as_dropped():
    ring = ChunkRing(seconds=1.0)
    ring.append(chunk(0.0, 10))
    got = ring.since(float("-inf"))
    assert len(got) == 10
    assert ring.since(float(got.timestamps[-1])) is None
    ring.append(chunk(0.1, 10))
    part = ring.since(0.145)
    assert part.timestamps[0] > 0.145 and len(part) == 5
    for k in range(2, 30):
        ring.append(chunk(k * 0.1, 10))
    # Everything up to the newest sample a consumer has read (0.19 s: 20 samples) was seen or
    # skipped on purpose; only later samples that fell off unread count as dropped.
    assert ring.dropped == (300 - len(ring.snapshot())) - 20


def test_max_samples_bounds_frame_streams():
    ring = ChunkRing(seconds=100.0, max_samples=3)
    for k in range(10):
        ring.append(Chunk(data=np.full((1, 4, 4), k, np.uint8), timestamps=[k / 30]))
    assert len(ring.snapshot()) == 3
    assert ring.latest().data[0, 0, 0] == 9


def test_since_finds_new_chunks_from_the_newest_end_and_copes_with_a_clock_step_back():
    ring = ChunkRing(seconds=10.0)
    for k in range(1000):  # a full ring: 10 s of 10 ms chunks
        ring.append(chunk(k * 0.01, 1))
    newest = ring.since(9.985)
    assert np.round(newest.timestamps, 6).tolist() == [9.99]
    assert ring.since(9.99) is None
    # A clock step back: a chunk older than the one before it. Every chunk whose newest sample
    # is after the cursor is still found (as a full scan finds them), the stepped one too.
    ring.append(chunk(10.5, 3))
    ring.append(chunk(10.2, 3))  # stepped back 0.32 s
    ring.append(chunk(10.6, 2))
    got = ring.since(10.0)
    assert np.round(got.timestamps, 6).tolist() == [10.5, 10.51, 10.52, 10.2, 10.21, 10.22, 10.6, 10.61]
    assert np.round(ring.since(10.515).timestamps, 6).tolist() == [10.52, 10.6, 10.61]
    for k in range(1100, 2200):  # the step falls off the end: in time order again
        ring.append(chunk(k * 0.01, 1))
    assert ring._inversions == 0
    assert np.round(ring.since(21.975).timestamps, 6).tolist() == [21.98, 21.99]


def test_since_chunks_hands_the_chunks_unjoined_with_exactly_the_samples_since_gives():
    """Live inference reads its ring without joining every array of every chunk (it joins only
    timestamps and samples): the chunks it gets must hold the same samples `since` gives, also
    when a chunk straddles the cursor or chunks overlap after a clock step."""
    ring = ChunkRing(seconds=10.0)
    for k in range(50):
        ring.append(chunk(k * 0.1, 10))

    def same(t):
        want, got = ring.since(t), ring.since_chunks(t)
        if want is None:
            return got == []
        ts = np.concatenate([c.timestamps for c in got])
        return ts.tolist() == want.timestamps.tolist() and np.concatenate([c.data for c in got]).tolist() == want.data.tolist()

    cursor = float(list(ring._chunks)[-7].timestamps[-1])  # a consumer read up to 4.39 s
    parts = ring.since_chunks(cursor)  # the newest chunks, as the device made them
    assert [len(c) for c in parts] == [10, 10, 10, 10, 10, 10]
    assert all(p is c for p, c in zip(parts, list(ring._chunks)[-6:]))  # not copied
    assert same(cursor) and same(4.45) and same(4.499) and same(4.95) and same(4.99) and same(float("-inf"))
    straddling = ring.since_chunks(4.455)  # the cursor inside a chunk: its older samples are left out
    assert np.round(np.concatenate([c.timestamps for c in straddling]), 6)[0] == 4.46 and same(4.455)
    ring.append(chunk(5.0, 10))
    ring.append(chunk(5.05, 10))  # overlaps the chunk before it (a clock step back)
    assert same(4.99) and same(5.07)
    overlapping = ring.since_chunks(5.07)  # joined and trimmed, as `since` does
    assert len(overlapping) == 1 and np.round(overlapping[0].timestamps, 6).tolist() == [5.08, 5.09, 5.08, 5.09, 5.1, 5.11, 5.12, 5.13, 5.14]
