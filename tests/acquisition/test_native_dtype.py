"""Samples stay in the dtype the device delivered (int16 PCM, raw counts) while every live
consumer gets physical values: `StreamInfo.scale`, `Acquisition` rings, text serial counts."""

from __future__ import annotations

import os
import threading
import tty

import numpy as np
import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.kinds.serial import KIND as SERIAL, SerialConfig
from sensorlab.acquisition.processors.examples import MovingRMS
from sensorlab.acquisition.serial.port import SerialSource
from sensorlab.acquisition.serial.text import TextLineParser
from sensorlab.acquisition.source import SourceError, StreamInfo, StreamKind
from tests.acquisition.conftest import wait_until

IMU_SCALE = (8 / 32768,) * 3 + (500 / 32768,) * 3
IMU_OFFSET = (0.01, -0.02, 0.0, 0.5, 0.0, -1.5)


def test_stream_info_scale_round_trips_and_converts_in_float32():
    info = StreamInfo("imu", StreamKind.TIMESERIES, 1000.0, units=("g",) * 3 + ("deg/s",) * 3, dtype="int16", sample_shape=(6,),
                      scale=IMU_SCALE, offset=IMU_OFFSET)  # fmt: skip
    assert StreamInfo.from_dict(info.to_dict()) == info and info.scaled
    raw = np.array([[-32768, -1, 0, 1, 16384, 32767]], dtype=np.int16)
    want = raw.astype(np.float32) * np.float32(IMU_SCALE) + np.float32(IMU_OFFSET)
    np.testing.assert_array_equal(info.to_physical(raw), want)
    assert info.to_physical(raw).dtype == np.float32
    phys = info.physical()
    assert (phys.dtype, phys.scale, phys.offset, phys.units) == ("float32", (), (), info.units)
    # Unscaled streams: the JSON has no new keys (a 1.x reader's info is unchanged) and values pass through.
    plain = StreamInfo("x", StreamKind.TIMESERIES, 10.0, sample_shape=(2,))
    assert "scale" not in plain.to_dict() and plain.physical() is plain
    x = np.zeros((3, 2), np.float32)
    assert plain.to_physical(x) is x
    with pytest.raises(ValueError, match="one number or one per channel"):
        StreamInfo("imu", StreamKind.TIMESERIES, 1.0, dtype="int16", sample_shape=(6,), scale=(1.0, 2.0))
    with pytest.raises(ValueError, match="finite"):
        StreamInfo("imu", StreamKind.TIMESERIES, 1.0, dtype="int16", sample_shape=(6,), scale=(float("nan"),))


def test_rings_get_physical_values_while_the_recorder_and_preroll_get_counts():
    n = 600
    src = SignalSource("imu", shape=(6,), dtype="int16", rate=1000, chunk_size=10, pattern="sine", realtime=False, max_samples=n,
                       scale=IMU_SCALE, offset=IMU_OFFSET)  # fmt: skip
    rms = MovingRMS("imu", window=0.05, hop=0.05)
    acq = Acquisition([src, rms])
    acq.open()
    try:
        live = acq.ring("imu", seconds=60)  # live view, inference, calibration: physical
        raw = acq.ring("imu", seconds=60, raw=True)  # pre-roll: what the file stores
        rms_out = acq.ring(rms.name, seconds=60)
        got: list = []
        acq.subscribe(lambda stream, chunk: got.append(chunk) if stream == "imu" else None, name="recorder-like")
        acq.start()
        assert src.wait(30) and wait_until(lambda: live.total >= n and raw.total >= n, timeout=30)
        counts = src.expected(np.arange(n))
        info = acq.streams["imu"]
        assert info.dtype == "int16" and info.scale == IMU_SCALE
        assert acq.physical_streams["imu"].dtype == "float32" and not acq.physical_streams["imu"].scaled
        c_live, c_raw = live.snapshot(), raw.snapshot()
        assert c_live.data.dtype == np.float32 and c_raw.data.dtype == np.int16
        np.testing.assert_array_equal(c_raw.data, counts)
        np.testing.assert_array_equal(c_live.data, info.to_physical(counts))
        np.testing.assert_array_equal(c_live.timestamps, c_raw.timestamps)
        assert np.concatenate([c.data for c in got]).dtype == np.int16
        # A processor sees physical values and their info (its RMS is in g and deg/s, not counts).
        assert rms.input_infos["imu"].dtype == "float32" and not rms.input_infos["imu"].scaled
        assert wait_until(lambda: rms_out.total >= 5, timeout=30)
        out = rms_out.snapshot().data
    finally:
        acq.close()
    # ~±4 g and ~±250 deg/s peaks: an RMS of the counts (~±16 k) would be in the thousands.
    assert 0 < out[:, :3].max() < 8 and 0 < out[:, 3:].max() < 500, out.max(axis=0)


def test_text_parser_with_an_integer_dtype_keeps_counts_and_rejects_what_is_not_one():
    p = TextLineParser("adc", ("a", "b"), nominal_rate=100.0, dtype="int16")
    runs = p.feed(b"1,-2\n300,-32768\n1.5,2\n40000,1\n7,8\nnan,1\n")
    data = np.concatenate([r.data for r in runs])
    assert data.dtype == np.int16
    np.testing.assert_array_equal(data, [[1, -2], [300, -32768], [7, 8]])
    assert p.counters.parse_errors == 3  # "1.5", "40000" and "nan" are not int16 counts: never truncated or wrapped


def test_rig_dtype_and_scale_are_for_text_streams_only():
    with pytest.raises(ValueError, match="a binary device describes its own streams"):
        SerialConfig(port="/dev/ttyUSB0", protocol="binary", scale=0.5)
    with pytest.raises(ValueError, match="finite"):
        SerialConfig(port="/dev/ttyUSB0", scale=[1.0, float("inf")])
    cfg = SerialConfig(name="adc", port="/dev/ttyUSB0", dtype="int16", scale=[0.5, 0.25], offset=1.0, units=["V", "A"], channels=["u", "i"], rate=200)
    src = SERIAL.build(cfg)
    assert (src.dtype, src.scale, src.offset) == ("int16", [0.5, 0.25], 1.0)


class IntegerLines:
    """A device printing integer counts, one line per sample, on a real pseudo-terminal."""

    def __init__(self, line: bytes = b"12,-7\n", rate: float = 200.0):
        self.master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(self.master)
        self.port = os.ttyname(slave)
        self._slave = slave
        self.line, self.period = line, 1.0 / rate
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._halt.wait(self.period):
            try:
                os.write(self.master, self.line)
            except OSError:
                return

    def close(self) -> None:
        self._halt.set()
        self._thread.join(5)
        os.close(self.master)
        os.close(self._slave)


def test_text_serial_counts_are_recorded_as_int16_with_the_rig_scale():
    dev = IntegerLines()
    try:
        src = SerialSource(dev.port, 115200, name="adc", channel_names=("u", "i"), units=("V", "A"), nominal_rate=200.0,
                           dtype="int16", scale=(0.5, 0.25), offset=(1.0,), reconnect=False)  # fmt: skip
        chunks: list = []
        with src:
            (info,) = src.streams
            assert (info.dtype, info.scale, info.offset, info.units) == ("int16", (0.5, 0.25), (1.0,), ("V", "A"))
            src.start(lambda s, c: chunks.append(c))
            assert wait_until(lambda: sum(len(c) for c in list(chunks)) >= 20, timeout=30)
            src.stop()
        data = np.concatenate([c.data for c in chunks])
        assert data.dtype == np.int16 and (data == [12, -7]).all()
        np.testing.assert_array_equal(info.to_physical(data[:1]), [[7.0, -0.75]])
        # A scale that fits no channel count is named when the device opens, not mid-recording.
        bad = SerialSource(dev.port, 115200, name="adc", channel_names=("u", "i"), nominal_rate=200.0, dtype="int16", scale=(1.0, 2.0, 3.0),
                           reconnect=False)  # fmt: skip
        with pytest.raises(SourceError, match=r"scale \[1.0, 2.0, 3.0\].*2 channels: u, i.*fix `scale`/`offset` in the rig"):
            bad.open()
        bad.close()
    finally:
        dev.close()
