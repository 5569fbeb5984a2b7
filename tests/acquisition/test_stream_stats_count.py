"""`StreamStats.count_one` is the one place a chunk is counted: `count` (every source's `_emit`)
and the inference engine's one-window hop both go through it, so their counters cannot drift
apart (the engine had its own copy of the counting, kept equal by hand)."""

from __future__ import annotations

import numpy as np

from sensorlab.acquisition.source import Chunk, StreamStats


def test_counting_a_chunk_and_counting_its_figures_give_the_same_counters():
    chunks = [Chunk(np.zeros((n, 2), np.float32), 100.0 + np.arange(k, k + n) * 0.01) for k, n in ((0, 5), (5, 1), (6, 0), (6, 3))]
    by_chunk, by_figures = StreamStats(), StreamStats()
    for i, c in enumerate(chunks):
        by_chunk.count(c, arrival=200.0 + i)
        if len(c):
            by_figures.count_one(len(c), float(c.timestamps[0]), float(c.timestamps[-1]), 200.0 + i)
    fields = ("samples", "first_time", "last_time", "last_arrival")
    assert [getattr(by_chunk, f) for f in fields] == [getattr(by_figures, f) for f in fields] == [9, 100.0, 100.08, 203.0]
