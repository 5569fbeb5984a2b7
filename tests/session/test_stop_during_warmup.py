"""A recording that stops within a serial device's first second keeps that second's samples.

`SerialSource` holds a stream's first second of device time back until its clock fit has seen
enough arrivals (see `WARMUP`), and lets it go when the source stops. A recorder stops listening
before the devices stop, so a short recording (``sensorlab record -d 1`` on a machine where the
board's first sample came a little late) wrote an empty stream: the recorder now asks the
sources for what they hold before it unsubscribes. Recorded from a real pseudo-terminal.
"""

from __future__ import annotations

from contextlib import closing

import numpy as np
import pytest

from sensorlab.acquisition.emulated.mcu import BinaryIMU, TextIMU
from sensorlab.acquisition.emulated.microphone import EmulatedMicrophone
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.serial.port import WARMUP, SerialSource
from sensorlab.session.reader import Session
from sensorlab.session.recorder import Recorder
from tests.acquisition.conftest import wait_until


@pytest.mark.parametrize(("board", "reader"), [("text", "thread"), ("binary", "thread"), ("binary", "process")])
def test_samples_read_before_a_stop_within_the_warmup_are_in_the_file(tmp_path, board, reader):
    path = tmp_path / "short.h5"
    # The text board has no time column: its clock is the line count at the nominal rate.
    mcu = TextIMU(rate=100.0) if board == "text" else BinaryIMU(rate=500.0)
    options = {"nominal_rate": 100.0} if board == "text" else {}
    with mcu, closing(Acquisition([SerialSource(mcu.port, mcu.baudrate, board, reader=reader, **options)])) as acq:
        acq.open()
        src = acq.sources[0]
        name = src.streams[0].name
        opened = src.parser.counters.samples  # lines read while opening (to learn the columns) are stale
        acq.start()
        with Recorder(acq, path) as rec:
            # Well inside the warm-up by device time: none of it has been delivered yet.
            want = int(0.3 * (100 if board == "text" else 500))
            assert wait_until(lambda: src.parser.counters.samples >= want), src.parser.counters
            read = src.parser.counters.samples - opened
        assert not rec.error
        assert src.running  # the device goes on streaming (the studio's live view)
    with Session.open(path) as s:
        stream = s.streams[name]
        assert stream.count >= read, f"{stream.count} samples in the file, {read} read before the stop"
        t = stream.timestamps[:]
    assert t[-1] - t[0] < WARMUP  # the stop did fall within the warm-up
    assert np.all(np.diff(t) > 0)


def test_audio_held_by_its_warmup_at_the_stop_is_in_the_file(tmp_path):
    # The microphone holds its first `warmup` seconds likewise (0.25 s by default; 30 s here,
    # so the stop surely falls within it whatever the machine's load).
    path = tmp_path / "short-audio.h5"
    mic = EmulatedMicrophone(samplerate=16000)
    mic.warmup = 30.0
    with closing(Acquisition([mic])) as acq:
        acq.open()
        acq.start()
        with Recorder(acq, path) as rec:
            assert wait_until(lambda: mic.clock.count >= 8000), mic.clock.count
            counted = mic.clock.count
        assert not rec.error
    with Session.open(path) as s:
        audio = s.streams["audio"]
        assert audio.count >= counted, f"{audio.count} samples in the file, {counted} counted before the stop"
        assert audio.count == audio.timestamps.shape[0] and np.all(np.diff(audio.timestamps[:]) > 0)
