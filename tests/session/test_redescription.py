"""A board that reboots with the port open into another self-description (an OTA update with
another full scale, other columns) while recording: nothing after the change is stored under
the old description, what was recorded before is kept, the changed stream stops with a message
naming the board, the change and the fix, and every other stream records on."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sensorlab.acquisition.emulated.mcu import BinaryMCU, EmulatedStream, TextIMU, imu_stream, radar_stream
from sensorlab.acquisition.emulated.world import shared_world
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.serial.port import SerialSource
from sensorlab.session.reader import Session
from sensorlab.session.recorder import Recorder
from tests.acquisition.conftest import wait_until


def _board() -> BinaryMCU:
    world = shared_world()
    return BinaryMCU([imu_stream(world, 0, "imu", 500.0), radar_stream(world, 1, "radar", 20.0, (4, 4))], device="wrist board")


def _record(tmp_path, board, sources, reboot, changed: str, record_on: tuple[str, ...] | None = None, also_close: tuple = ()) -> tuple:
    """Record, reboot the board once ``changed`` has samples, record on (``record_on``: the
    streams that must, default all others); the file's path and the reboot's host time. The
    board and ``also_close`` (emulated devices) are closed once the recording stopped."""
    try:
        path = tmp_path / "run.h5"
        with Acquisition(sources) as acq:
            st = acq.stats[changed]
            with Recorder(acq, path) as rec:
                base = st.samples
                assert wait_until(lambda: st.samples > base + 200, 60.0)
                reboot()
                t_reboot = board.boots[-1]
                others = [s for n, s in acq.stats.items() if n != changed and (record_on is None or n in record_on)]
                # The other streams record on well past the reboot (and a changed stream fails meanwhile).
                assert wait_until(lambda: all(s.last_time > t_reboot + 1.5 for s in others), 60.0)
                assert wait_until(lambda: bool(st.error) or st.samples > base + 1500, 60.0)
            assert not rec.error
        return path, t_reboot
    finally:
        for device in (board, *also_close):
            device.close()


@pytest.mark.parametrize("reader", ["thread", "process"])
def test_a_board_rebooted_into_another_scale_stops_that_stream_and_records_the_others(tmp_path, reader):
    board = _board().start()
    other = TextIMU(rate=200.0, time_column="counter").start()
    sources = [
        SerialSource(board.port, board.baudrate, "binary", reader=reader),
        SerialSource(other.port, other.baudrate, name="ankle", nominal_rate=200.0, time_column="counter", reader="thread"),
    ]
    imu, radar = board.streams
    # The new firmware sets the accelerometer to ±16 g: each count is worth twice as much. Stored
    # with the old scale, the 1 g of gravity would read back as 0.5 g.
    wider = dataclasses.replace(imu.description, scale=(16 / 32768,) * 3 + imu.description.scale[3:])
    path, t_reboot = _record(tmp_path, board, sources, lambda: board.reboot(streams=[EmulatedStream(wider, imu.measure, 10), radar]), "imu", also_close=(other,))
    with Session.open(path) as s:
        rec_imu = s.streams["imu"]
        c = rec_imu.read()
        assert len(c) > 200, "the samples from before the reboot are kept"
        assert np.all(c.timestamps < t_reboot), "no sample from after the reboot is stored"
        az = c.data[:, 2]
        assert np.all(np.abs(az - 1.0) < 0.1), f"gravity read back as {az.min():.3f}..{az.max():.3f} g: stored with the wrong scale"
        assert rec_imu.stored_info.scale[0] == pytest.approx(8 / 32768)
        msg = rec_imu.error
        assert "wrist board" in msg and board.port in msg, msg
        assert "scale [0.000244141" in msg and "→ [0.000488281" in msg, msg
        assert "stop the devices and record again" in msg, msg
        # The board's other stream and the other device recorded straight through.
        r = s.streams["radar"].read()
        assert s.streams["radar"].error == "" and r.timestamps[-1] > t_reboot + 1.0
        ankle = s.streams["ankle"]
        assert ankle.error == "" and ankle.read().timestamps[-1] > t_reboot + 1.0
        assert any("imu" == e["stream"] and "describes this stream differently" in e["message"] for e in s.log)


def test_a_board_rebooted_into_the_same_description_records_on_with_a_gap(tmp_path):
    board = _board().start()
    sources = [SerialSource(board.port, board.baudrate, "binary", reader="thread")]
    path, t_reboot = _record(tmp_path, board, sources, lambda: board.reboot(pause=0.5), "imu")
    with Session.open(path) as s:
        imu = s.streams["imu"]
        c = imu.read()
        assert imu.error == "" and c.timestamps[-1] > t_reboot + 1.0, "recording on after the reboot"
        assert np.all(np.abs(c.data[:, 2] - 1.0) < 0.1)
        assert any(b - a >= 0.3 for a, b in imu.gaps), f"the reboot should be a gap: {imu.gaps}"


def test_a_text_board_that_prints_other_columns_after_a_reset_stops_that_stream(tmp_path):
    board = TextIMU(rate=200.0, time_column="counter", header=True).start()
    other = TextIMU(rate=200.0, time_column="counter").start()
    kw = {"nominal_rate": 200.0, "time_column": "counter", "reader": "thread"}
    sources = [SerialSource(board.port, board.baudrate, name="wrist", **kw), SerialSource(other.port, other.baudrate, name="ankle", **kw)]
    swapped = ("gx", "gy", "gz", "ax", "ay", "az")  # new firmware prints the gyroscope first

    def reset_then_update() -> None:
        # Its header at power-on came before the port was opened; a reset prints it again (the
        # same columns: recording on), so the host knows the columns the board names.
        board.reboot()
        lines = board.sent_packets
        assert wait_until(lambda: board.sent_packets > lines + 300, 60.0)
        board.reboot(channels=swapped)

    path, t_reboot = _record(tmp_path, board, sources, reset_then_update, "wrist", also_close=(other,))
    with Session.open(path) as s:
        wrist = s.streams["wrist"]
        c = wrist.read()
        assert len(c) > 500 and np.all(c.timestamps < t_reboot), "kept: the samples before both resets"
        assert np.all(np.abs(c.data[:, 2] - 1.0) < 0.1), "az holds gravity in every stored sample"
        assert any(b - a >= 0.2 for a, b in wrist.gaps), f"the first reset is a gap: {wrist.gaps}"
        assert "columns ax, ay, az, gx, gy, gz → gx, gy, gz, ax, ay, az" in wrist.error, wrist.error
        assert s.streams["ankle"].error == "" and s.streams["ankle"].read().timestamps[-1] > t_reboot + 1.0


def test_a_rebooted_board_that_does_not_describe_itself_again_stops_with_what_to_do(tmp_path):
    board = _board().start()
    sources = [SerialSource(board.port, board.baudrate, "binary", reader="thread", open_timeout=1.0)]

    def reboot_mute() -> None:
        board.answer_describe = False  # e.g. firmware that answers only right after boot
        board.reboot()

    path, t_reboot = _record(tmp_path, board, sources, reboot_mute, "imu", record_on=())
    assert board.describe_requests >= 2, "the host asked again (and repeated it)"
    with Session.open(path) as s:
        for name in ("imu", "radar"):
            stream = s.streams[name]
            assert "restarted and did not describe itself again within 1 s" in stream.error, stream.error
            assert stream.count > 0 and np.all(stream.read().timestamps < t_reboot)
