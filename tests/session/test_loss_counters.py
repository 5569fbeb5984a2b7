"""The session file tells samples a device never sent from samples the host failed to take
(issue 14 §2): both are stored in the health rows and the footers, and `sensorlab info`
names them. Recorded from a real pseudo-terminal."""

from __future__ import annotations

import h5py
import numpy as np

from sensorlab.acquisition.emulated.mcu import BinaryIMU
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.serial.port import SerialSource
from sensorlab.session import format as fmt
from sensorlab.session.reader import Session
from sensorlab.session.recorder import Recorder
from sensorlab.session.summary import format_summary, summarize
from tests.acquisition.conftest import wait_until


def test_host_side_and_device_side_losses_are_stored_and_shown(tmp_path):
    # The emulator skips packets itself (device side: sequence jumps, framing intact) and has
    # others damaged on the way (host side: the bytes were sent but did not arrive intact, as
    # when a pty or UART buffer overruns).
    path = tmp_path / "run.h5"
    with BinaryIMU(rate=500.0, loss=0.05, corrupt=0.05, seed=7) as mcu:
        with Acquisition([SerialSource(mcu.port, mcu.baudrate, "binary")]) as acq:
            with Recorder(acq, path) as rec:
                # Counted since the recording started (what the file stores).
                c = lambda: rec.counters()["imu"]
                assert wait_until(lambda: c().dropped_in_transit >= 20 and c().dropped - c().dropped_in_transit >= 20), c()
                host, device = c().dropped_in_transit, c().dropped - c().dropped_in_transit
            assert not rec.error
    with Session.open(path) as s:
        imu = s.streams["imu"]
        stats = imu.stats
        assert stats.dropped_in_transit >= host and stats.dropped - stats.dropped_in_transit >= device
        h = imu.health
        assert "dropped_in_transit" in h.dtype.names and h["dropped_in_transit"][-1] == stats.dropped_in_transit
        assert np.all(np.diff(h["dropped_in_transit"]) >= 0) and np.all(h["dropped_in_transit"] <= h["dropped"])
        total, in_transit = stats.dropped, stats.dropped_in_transit
    summary = summarize(path, measure_sync=False)
    row = next(r for r in summary["streams"] if r["name"] == "imu")
    assert row["dropped_in_transit"] == in_transit and row["dropped"] == total
    text = format_summary(summary)
    assert f"lost on the host side (sent, not read in time): {in_transit} sample(s)" in text
    assert f"never sent by the device (its own drops): {total - in_transit}" in text


def test_a_crashed_recording_reports_host_side_losses_from_its_last_health_row(tmp_path):
    # No footers (the process died after a flush): the counters come from the health rows.
    path = tmp_path / "run.h5"
    with BinaryIMU(rate=500.0, corrupt=0.1, seed=5) as mcu:
        with Acquisition([SerialSource(mcu.port, mcu.baudrate, "binary")]) as acq:
            st = acq.stats["imu"]
            with Recorder(acq, path) as rec:
                assert wait_until(lambda: rec.counters()["imu"].dropped_in_transit >= 10)
                # Then at least two more flushes (the writer flushes at least once a second).
                n = st.samples
                assert wait_until(lambda: st.samples > n + 1250)
            assert not rec.error
    with h5py.File(path, "r+") as f:  # as a crash after the last flush leaves it: no footers
        g = f[fmt.STREAMS]["imu"]
        last = g[fmt.HEALTH][-1]
        for k in ("count", "dropped", "dropped_in_transit"):
            del g.attrs[k]
    assert last["dropped_in_transit"] >= 10
    with Session.open(path) as s:
        imu = s.streams["imu"]
        assert not imu.complete
        assert imu.stats.dropped_in_transit == last["dropped_in_transit"]


def test_files_written_before_the_counter_still_read_with_zero(tmp_path):
    # An old health table (no dropped_in_transit column) and no such footer.
    path = tmp_path / "run.h5"
    with BinaryIMU(rate=200.0) as mcu:
        with Acquisition([SerialSource(mcu.port, mcu.baudrate, "binary")]) as acq:
            with Recorder(acq, path):
                assert wait_until(lambda: acq.stats["imu"].samples > 100)
    with h5py.File(path, "r+") as f:
        g = f[fmt.STREAMS]["imu"]
        old_dtype = np.dtype([(n, fmt.HEALTH_DTYPE[n]) for n in fmt.HEALTH_DTYPE.names if n != "dropped_in_transit"])
        rows = g[fmt.HEALTH][:]
        del g[fmt.HEALTH]
        g.create_dataset(fmt.HEALTH, data=np.array([tuple(r[n] for n in old_dtype.names) for r in rows], dtype=old_dtype))
        del g.attrs["dropped_in_transit"]
    with Session.open(path) as s:
        assert s.streams["imu"].stats.dropped_in_transit == 0
    assert "lost on the host side" not in format_summary(summarize(path, measure_sync=False))
