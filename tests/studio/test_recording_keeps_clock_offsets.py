"""A recording holds the LSL clock-offset measurement in force for its first samples.

An LSL stream's host time is its stamp plus the offset of the latest measurement taken at or
before the stamp. That measurement is usually older than the pre-roll (one every 5 s), and a
sample can arrive after Record although it was stamped before the latest measurement. The file
must hold the measurement each stored sample used, or its host times cannot be derived again
(`sensorlab session export` → XDF → `sensorlab import xdf` gave 17 % of an EEG stream's host
times 18 µs off on a busy machine).

The source here is scripted (its measurements and samples are emitted from the test, so the
offsets differ from one measurement to the next, which a local LSL outlet never does); the
studio, its pre-roll, the recorder and the HDF5 file are the real ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.lsl.runtime import clock_stream_info
from sensorlab.acquisition.source import Chunk, SourceBase, StreamInfo, StreamKind
from sensorlab.labeling.timebase import span_of
from sensorlab.session.reader import Session
from sensorlab.session.xdf.export import export_xdf
from sensorlab.session.xdf.importer import import_xdf
from sensorlab.session.xdf.importer import step_offsets
from sensorlab.studio import Studio

RATE = 100.0


class ScriptedLslStream(SourceBase):
    """An LSL-like stream and its clock stream; the test decides what arrives when."""

    def __init__(self, sender_to_host: float):
        super().__init__("scripted LSL stream 'eeg'")
        self.base = sender_to_host
        self.clock: list[tuple[float, float]] = []  # (sender time, offset) measured so far

    def _open(self) -> None:
        self.streams = (StreamInfo("eeg", StreamKind.TIMESERIES, RATE, ("C1",), dtype="float32", sample_shape=(1,), has_device_time=True),
                        clock_stream_info("eeg", self.description))  # fmt: skip

    def _start(self) -> None: ...

    def _stop(self) -> None: ...

    def _close(self) -> None: ...

    def measure(self, sender_time: float, extra: float) -> None:
        value = self.base + extra
        self.clock.append((sender_time, value))
        self._emit("eeg_lsl_clock", Chunk(np.array([[value]]), np.array([sender_time + value]), np.array([sender_time])), now())

    def samples(self, first_stamp: float, n: int) -> None:
        stamps = first_stamp + np.arange(n) / RATE
        times, values = np.array(self.clock).T
        host = stamps + step_offsets(stamps, times, values)  # the inlet's rule
        self._emit("eeg", Chunk(np.arange(n, dtype=np.float32).reshape(-1, 1), host, stamps), now())


def _record(tmp_path, preroll: float, script) -> tuple[Session, ScriptedLslStream]:
    t0 = now()
    src = ScriptedLslStream(sender_to_host=1000.0)
    studio = Studio(preroll=preroll)
    try:
        assert studio.open([src]) == {}
        script(src, t0 - 1000.0 - 60.0, studio, tmp_path / "run.h5")  # sender clock: a minute before now
        studio.stop_recording()
    finally:
        studio.close()
    return tmp_path / "run.h5", src


def _host_times_derive_again(path) -> tuple[np.ndarray, np.ndarray]:
    with Session.open(path) as s:
        eeg, clock = s.streams["eeg"].read(), s.streams["eeg_lsl_clock"].read()
    again = eeg.device_times + step_offsets(eeg.device_times, clock.device_times, clock.data[:, 0])
    np.testing.assert_array_equal(again, eeg.timestamps)
    return eeg.device_times, clock.device_times


def test_without_pre_roll_a_sample_stamped_before_the_latest_measurement_keeps_its_measurement(tmp_path):
    def script(src, s0, studio, path):
        for k in range(3):  # three measurements before Record, 20 s apart, each a little different
            src.measure(s0 + 20 * k, extra=1e-5 * k)
        studio.start_recording(path)
        src.samples(s0 + 30, 50)  # stamped between the 2nd and 3rd measurement, delivered late
        src.samples(s0 + 45, 50)
        src.measure(s0 + 50, extra=3e-5)
        src.samples(s0 + 51, 50)

    path, src = _record(tmp_path, 0, script)
    stamps, measured = _host_times_derive_again(path)
    s0 = src.clock[0][0]
    np.testing.assert_array_equal(measured, [s0 + 20, s0 + 40, s0 + 50])  # from the one in force, not older
    assert len(stamps) == 150

    # And the XDF round trip gives the same host times.
    export_xdf(path, tmp_path / "run.xdf")
    import_xdf(tmp_path / "run.xdf", tmp_path / "back.h5")
    with Session.open(path) as a, Session.open(tmp_path / "back.h5") as b:
        np.testing.assert_array_equal(b.streams["eeg"].read().timestamps, a.streams["eeg"].read().timestamps)


def test_with_pre_roll_the_measurement_older_than_the_pre_roll_is_kept(tmp_path):
    def script(src, s0, studio, path):
        src.measure(s0, extra=0.0)
        src.measure(s0 + 20, extra=2e-5)
        src.samples(s0 + 50, 50)  # pre-roll, 30 s after the measurement in force
        src.measure(s0 + 50.5, extra=3e-5)
        src.samples(s0 + 50.5, 50)
        studio.start_recording(path)
        src.samples(s0 + 51, 100)

    path, src = _record(tmp_path, 2, script)
    stamps, measured = _host_times_derive_again(path)
    s0 = src.clock[0][0]
    assert len(stamps) == 200 and stamps[0] == pytest.approx(s0 + 50)  # the pre-roll is in the file
    np.testing.assert_array_equal(measured, [s0 + 20, s0 + 50.5])


def test_a_stream_that_never_delivers_still_gets_its_clock_measurements(tmp_path):
    def script(src, s0, studio, path):
        src.measure(s0, extra=0.0)
        src.measure(s0 + 20, extra=2e-5)
        studio.start_recording(path)
        src.measure(s0 + 40, extra=4e-5)

    path, src = _record(tmp_path, 0, script)
    with Session.open(path) as s:
        assert len(s.streams["eeg"].read()) == 0
        s0 = src.clock[0][0]
        np.testing.assert_array_equal(s.streams["eeg_lsl_clock"].read().device_times, [s0 + 20, s0 + 40])
        # The measurement from before Record does not widen the labeling timeline.
        assert span_of(s).begin == s.metadata.start_host_time


def test_changing_the_pre_roll_keeps_the_clock_measurements(tmp_path):
    def script(src, s0, studio, path):
        src.measure(s0, extra=0.0)
        src.measure(s0 + 20, extra=2e-5)
        studio.set_preroll(3)  # the user picks another pre-roll: the rings are made again
        studio.start_recording(path)
        src.samples(s0 + 25, 50)

    path, src = _record(tmp_path, 0, script)
    _stamps, measured = _host_times_derive_again(path)
    np.testing.assert_array_equal(measured, [src.clock[1][0]])

