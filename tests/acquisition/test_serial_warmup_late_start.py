"""A serial stream whose whole first bin arrives late: the warm-up hold must outlast it.

`SerialSource` holds a stream's first `WARMUP` seconds of device time and stamps them through
the clock fit when it lets them go. The fit's offset is the least-delayed arrival of each
0.5 s bin, so a hold that ends while every arrival seen so far was late stamps the first
samples late by that lateness. A board whose link is slow for the first ~0.75 s after the
source starts (a USB hub waking, a loaded host) did exactly that with a 0.5 s hold.

The truth is the emulated board's own sample clock (`true_host_times`), never a wall-clock
race: the machine's load changes how late arrivals are, not what the timestamps are compared to.
"""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.emulated.mcu import BinaryIMU
from sensorlab.acquisition.serial.port import SerialSource
from tests.acquisition.conftest import Recorder

#: Every packet ready before `_LateStartIMU.late_until` crosses the wire this much later.
DELAY = 0.030
#: Host seconds after `start` during which packets are delayed: longer than a 0.5 s hold (so
#: every arrival it saw was late) and shorter than the 1.0 s one (it also sees on-time ones).
LATE_FOR = 0.75


class _LateStartIMU(BinaryIMU):
    """A binary IMU whose packets ready before ``late_until`` (host time) reach the wire
    `DELAY` late, as if the link held them back; on time afterwards."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.late_until = float("-inf")

    def _produce(self, t: float):
        packets = super()._produce(t)
        return [(ready + DELAY if ready < self.late_until else ready, p) for ready, p in packets]


#: Tries at the scenario: on a starved machine the reader (a spawned process) can start after
#: the late window has passed, and the board's first samples then arrive on time.
TRIES = 3


def _record(clap_world, reader: str):
    """The joined chunk of ~2.5 s of a late-starting board, and that board."""
    recorder = Recorder()
    with _LateStartIMU(rate=1000.0, world=clap_world) as mcu, SerialSource(mcu.port, mcu.baudrate, "binary", reader=reader) as src:
        mcu.late_until = now() + LATE_FOR  # only from the start on: what came before is dropped
        src.start(recorder)
        assert recorder.wait_samples(2_500, timeout=90), f"only {sum(len(c) for c in recorder.chunks)} samples"
        src.stop()
    return recorder.joined(), mcu


@pytest.mark.parametrize("reader", ["thread", "process"])
def test_first_samples_of_a_board_whose_first_bin_arrived_late_are_stamped_on_time(clap_world, reader):
    bound = DELAY / 3
    seen = []
    for _ in range(TRIES):
        chunk, mcu = _record(clap_world, reader)
        truth = mcu.true_host_times(chunk.device_times)
        first = chunk.device_times - chunk.device_times[0] < 0.25
        # The scenario happened: the first samples the source saw all arrived later than the bound
        # (a fit that knew only them would stamp beyond it), most of them by the whole delay.
        late = chunk.arrival_times[first] - truth[first]
        if late.min() > bound and np.median(late) > DELAY:
            break
        seen.append(f"{late.min() * 1e3:.1f} / {np.median(late) * 1e3:.1f} ms")
    else:
        pytest.fail(f"the late start never happened in {TRIES} tries (first arrivals late at least / median: {', '.join(seen)})")
    err = chunk.timestamps - truth
    # With a 0.5 s hold the fit had seen only late arrivals when it stamped the first 0.5 s:
    # those samples were stamped the whole delay late (~30 ms). Holding 1.0 s, the fit has
    # on-time arrivals too; what is left is the reader's wake-up (~0.1-0.5 ms, a few ms on a
    # machine so loaded that every arrival of a bin comes late).
    first_second = chunk.device_times - chunk.device_times[0] < 1.0
    assert np.abs(err[first_second]).max() < bound, f"first second: max {np.abs(err[first_second]).max() * 1e3:.1f} ms"
    assert np.abs(err).max() < bound, f"max {np.abs(err).max() * 1e3:.1f} ms"
