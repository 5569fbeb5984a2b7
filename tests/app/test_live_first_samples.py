"""A live time-series plot whose first chunk is shorter than one of its min/max blocks: nothing to
draw yet, and the autoscale must wait for the data instead of failing (a loaded machine's first
refresh met such a chunk: "zero-size array to reduction operation minimum", raised in the
refresh timer of every live view, CI's test_health_status)."""

from __future__ import annotations

import numpy as np

from sensorlab.acquisition.buffers import ChunkRing
from sensorlab.acquisition.source import Chunk, StreamInfo
from sensorlab.app.live.panels import TimeseriesPanel

RATE = 10_000.0  # with a 5 s window: min/max blocks of 71 samples


def _feed(ring: ChunkRing, start: int, n: int, value: float) -> int:
    k = np.arange(start, start + n)
    ring.append(Chunk(data=np.full((n, 2), value, dtype=np.float32), timestamps=k / RATE))
    return start + n


def test_a_first_chunk_shorter_than_a_block_draws_nothing_then_the_data_scales_the_axis(qtbot):
    info = StreamInfo("vib", "timeseries", RATE, channel_names=("x", "y"), sample_shape=(2,))
    ring = ChunkRing(seconds=10.0)
    panel = TimeseriesPanel(info, ring, 0.0, 5.0)
    qtbot.addWidget(panel)
    assert panel.envelope.block > 20 and panel.autoscale.isChecked()

    k = _feed(ring, 0, 20, 3.0)  # less than a block: no min/max pair yet
    assert panel.refresh()
    assert len(panel.buffer.view()[0]) == 0
    panel.set_autoscale(True)  # ticking Auto Y with nothing drawn yet
    _feed(ring, k, 2000, 3.0)
    panel.refresh()
    lo, hi = panel.plot.getViewBox().viewRange()[1]
    assert lo < 3.0 < hi and hi - lo < 2.0  # the axis follows the samples
