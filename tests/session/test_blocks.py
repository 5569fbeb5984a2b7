"""The public block reader: every sample once, plus the overlap windowing needs."""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.session.blocks import iter_blocks
from sensorlab.session.reader import Session


@pytest.mark.parametrize(("block_s", "overlap_s"), [(0.7, 0.25), (0.3, 0.5), (10.0, 0.0)])
def test_blocks_with_overlap_cover_every_sample_exactly_as_a_full_read(make_session, block_s, overlap_s):
    src = SignalSource("imu", rate=1000, shape=(3,), chunk_size=13, realtime=False, max_samples=4321, t0=100.0,
                       stall_after=2000, stall_for=0.4)  # a gap in the middle: empty blocks happen
    ev = SignalSource("marks", kind="events", rate=7, realtime=False, max_samples=30, t0=100.0)
    path = make_session(src, ev)
    with Session.open(path) as s:
        for name in ("imu", "marks"):
            stream = s.streams[name]
            full = stream.read()
            blocks = list(iter_blocks(stream, block_s, overlap_s))
            new = np.concatenate([b.new_timestamps for b in blocks])
            np.testing.assert_array_equal(new, full.timestamps)
            np.testing.assert_array_equal(np.concatenate([b.new_data for b in blocks]), full.data)
            assert blocks[-1].progress == pytest.approx(1.0)
            for b in blocks:
                ctx = b.timestamps[: b.overlap]
                want = full.timestamps[(full.timestamps >= b.start - overlap_s) & (full.timestamps < b.new_timestamps[0])] if len(b.new_timestamps) else ctx
                np.testing.assert_array_equal(ctx, want)
                assert np.all(np.diff(b.timestamps) > 0) or name == "marks"


def test_blocks_of_a_time_range(make_session):
    src = SignalSource("imu", rate=100, realtime=False, max_samples=1000, t0=0.0)
    with Session.open(make_session(src)) as s:
        blocks = list(iter_blocks(s.streams["imu"], 1.0, t0=2.0, t1=5.0))
        ts = np.concatenate([b.new_timestamps for b in blocks])
    assert ts[0] == 2.0 and ts[-1] == 5.0 and len(ts) == 301
