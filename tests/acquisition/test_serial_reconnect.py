"""A serial device unplugged mid-stream and plugged back in at the same path (a real pty
behind a symlink that is repointed, as udev's /dev/serial/by-id links follow a board)."""

from __future__ import annotations

import copy
import threading

import numpy as np
import pytest

from sensorlab.acquisition.emulated.mcu import BinaryIMU, TextIMU
from sensorlab.acquisition.serial.port import SerialSource
from tests.acquisition.conftest import wait_until


def _true_host_times(boards: list, segments: list[np.ndarray]) -> np.ndarray:
    """True host time of each sample, from the board as it was in the boot the sample belongs to.

    The emulator's own `true_host_times`, not ``boot + device_time``: a text board's counter
    counts samples from its first one, which it takes when its firmware loop starts, and on a
    loaded machine that is tens of ms after the boot (22 and 47 ms seen), which a truth counted
    from the boot would blame on the clock fit.
    """
    return np.concatenate([b.true_host_times(d) for b, d in zip(boards, segments, strict=True)])


def _segments(chunk) -> list[np.ndarray]:
    """Device times before and after the outage: split where the timestamps jump over it.

    Not where the device times go back: the board restarts its clock at 0, but the port is
    reopened with backoff (and, read by a child process, only once that child runs), so the
    first sample read after the replug may carry a device time as large as the last one before
    the unplug. A fit not reset by the reboot is still caught: it puts every later sample
    seconds off its true time.
    """
    k = int(np.argmax(np.diff(chunk.timestamps))) + 1
    return np.split(chunk.device_times, [k])


@pytest.mark.parametrize("protocol", ["binary", "text"])
def test_unplugged_device_is_reopened_and_the_gap_recorded(protocol, tmp_path, recorder):
    link = str(tmp_path / "ttyBOARD")
    rate = 500.0
    if protocol == "binary":
        mcu = BinaryIMU(rate=rate, link_path=link)
        src = SerialSource(link, mcu.baudrate, "binary")
    else:
        mcu = TextIMU(rate=rate, time_column="counter", link_path=link, baudrate=921600)
        src = SerialSource(link, mcu.baudrate, name="imu", nominal_rate=rate, time_column="counter")
    mcu.start()
    try:
        with src:
            src.failed.connect(recorder.on_failed)
            src.start(recorder)
            assert recorder.wait_samples(300, 10)
            first_boot = copy.copy(mcu)  # its boot time and sample grid (a replug gives new ones)
            mcu.vanish()  # pty closed, link gone: what an unplug looks like
            st = src.stats["imu"]
            assert wait_until(lambda: st.lost), "the loss is not visible in the stream's stats"
            assert st.error == "" and src.running and link in st.lost_reason
            before = sum(len(c) for c in recorder.chunks)
            gone = threading.Event()
            gone.wait(1.0)  # stays unplugged for a while: several reopen attempts fail
            mcu.replug()  # a new pty behind the same path; the device rebooted (clock from 0)
            assert wait_until(lambda: st.reconnects == 1 and not st.lost), "the port was not reopened"
            assert recorder.wait_samples(before + 600, 15), "no samples after the device came back"
            src.stop()
    finally:
        mcu.close()
    assert not recorder.failures
    chunk = recorder.joined()
    segments = _segments(chunk)
    assert len(segments[0]) >= 300 and len(segments[1]) >= 500, (
        "samples before and after the outage (split where the timestamps jump over it; a fit not reset "
        "by the reboot stamps the new samples right after the old ones, so the jump is elsewhere)"
    )
    # Samples before and after at their true times: the clock fit re-settled after the reset
    # (a fit carried over would be off by the seconds between the two boots). Percentiles, not
    # the maximum: on a machine loaded far beyond its cores a reader-thread stall can leave a
    # short stretch late, which is the clock fit's business, not the reconnect's. The bounds
    # leave room for a first second in which no packet came through quickly: its fit is then
    # late by the least delay it saw (11.8 ms for a whole segment at load 18 on two cores);
    # millisecond accuracy is the clock-fit tests' and bench_sync's business.
    true = _true_host_times([first_boot, mcu], segments)
    err = np.abs(chunk.timestamps - true)
    # What is guarded is seconds (the outage is over 1 s), so the bounds are a tenth of that:
    # a first second whose packets all came late puts a whole segment that late (30 ms seen
    # with this suite at load 15 on two cores, where 20 ms was the bound).
    for seg, e in zip(segments, np.split(err, [len(segments[0])]), strict=True):
        assert np.median(e) < 0.1, f"median {np.median(e) * 1e3:.1f} ms"
        assert np.percentile(e, 99) < 0.15, f"99th percentile {np.percentile(e, 99) * 1e3:.1f} ms"
    assert np.all(np.diff(chunk.timestamps) > 0)
    # The outage is one gap from the last sample before to the first one after.
    last_before = chunk.timestamps[len(segments[0]) - 1]
    first_after = chunk.timestamps[len(segments[0])]
    assert first_after - last_before > 1.0
    assert (last_before, first_after) in st.gaps
    assert st.dropped == 0


def test_a_device_that_does_not_come_back_stays_lost_until_stopped(tmp_path, recorder):
    link = str(tmp_path / "ttyGONE")
    mcu = BinaryIMU(link_path=link).start()
    src = SerialSource(link, mcu.baudrate, "binary")
    with src:
        src.start(recorder)
        assert recorder.wait_samples(100, 10)
        mcu.vanish()
        st = src.stats["imu"]
        assert wait_until(lambda: st.lost)
        reader = src._thread
        src.stop()  # wakes the reader thread out of its wait to reopen
        assert not reader.is_alive()
    assert st.reconnects == 0 and st.lost and not src.running


def test_reconnect_off_fails_the_stream(tmp_path, recorder):
    link = str(tmp_path / "ttyOFF")
    mcu = BinaryIMU(link_path=link).start()
    src = SerialSource(link, mcu.baudrate, "binary", reconnect=False)
    with src:
        src.failed.connect(recorder.on_failed)
        src.start(recorder)
        assert recorder.wait_samples(100, 10)
        mcu.vanish()
        assert recorder.wait_failure(10)
    assert "unplugged" in src.stats["imu"].error and not src.stats["imu"].lost
