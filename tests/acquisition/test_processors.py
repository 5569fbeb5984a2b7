"""The stream graph: processors derive streams from running ones; the fan-out is safe."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.processors import MovingRMS, ProcessorBase, ThresholdEvents
from sensorlab.acquisition.rig import RigError, parse_rig
from sensorlab.acquisition.source import SourceError, StreamInfo, StreamKind
from tests.acquisition.conftest import wait_until


def offline_rms(x: np.ndarray, window_n: int, hop_n: int) -> tuple[np.ndarray, np.ndarray]:
    """(end index, rms) per MovingRMS's documented definition, by brute force."""
    ends = [i for i in range(window_n - 1, len(x)) if (i + 1) % hop_n == 0]
    return np.array(ends), np.array([np.sqrt(np.mean(x[i - window_n + 1 : i + 1].astype(np.float64) ** 2, axis=0)) for i in ends])


def test_moving_rms_matches_offline_and_reaches_subscribers(make_acquisition):
    src = SignalSource("imu", rate=1000, shape=(3,), chunk_size=7, pattern="sine", realtime=False, max_samples=3000)
    proc = MovingRMS("imu", window=0.05, hop=0.01)
    acq = make_acquisition(src, proc)
    assert acq.streams["imu_rms"].nominal_rate == 100 and acq.streams["imu_rms"].sample_shape == (3,)
    got, inputs = [], []
    acq.subscribe(lambda s, c: (got if s == "imu_rms" else inputs).append(c))
    acq.start()
    ends, expected = offline_rms(np.zeros((3000, 3)), 50, 10)
    assert wait_until(lambda: sum(map(len, got)) >= len(ends))
    x = np.concatenate([c.data for c in inputs])
    ts = np.concatenate([c.timestamps for c in inputs])
    ends, expected = offline_rms(x, 50, 10)
    out = np.concatenate([c.data for c in got])
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    np.testing.assert_array_equal(np.concatenate([c.timestamps for c in got]), ts[ends])


def test_chunks_are_read_only_for_every_consumer(make_acquisition):
    src = SignalSource("imu", rate=1000, shape=(2,), realtime=False, max_samples=200, device_time=True)
    acq = make_acquisition(src)
    ring = acq.ring("imu")
    attempts: list[str] = []

    def vandal(stream, chunk):
        for a in (chunk.data, chunk.timestamps, chunk.device_times, chunk.arrival_times):
            try:
                a[0] = -1
                attempts.append("written")
            except ValueError:
                attempts.append("refused")

    acq.subscribe(vandal)
    acq.start()
    assert src.wait(20)
    assert attempts and set(attempts) == {"refused"}
    held = ring.latest()
    assert not held.data.flags.writeable and not held.timestamps.flags.writeable
    assert (ring.snapshot().data >= 0).all()  # nothing was overwritten


def test_a_raising_subscriber_is_detached_and_reported_once(make_acquisition):
    src = SignalSource("imu", rate=1000, realtime=False, max_samples=2000, chunk_size=10)
    acq = make_acquisition(src)
    reports: list[tuple[str, str]] = []
    acq.consumer_failed.connect(lambda s, m: reports.append((s, m)))
    calls, good = [], []

    def broken(stream, chunk):
        calls.append(1)
        raise RuntimeError("normalisation bug")

    acq.subscribe(broken, name="the broken model")
    acq.subscribe(lambda s, c: good.append(len(c)))
    acq.start()
    assert src.wait(20)
    assert sum(good) == 2000  # the other consumer saw everything
    assert len(calls) == 1 and len(reports) == 1
    assert reports[0][0] == "imu" and "the broken model" in reports[0][1] and "normalisation bug" in reports[0][1]
    assert acq.stats["imu"].consumer_errors == 1 and not acq.stats["imu"].error
    assert "the broken model" in acq.consumer_errors


class Exploding(ProcessorBase):
    def __init__(self):
        super().__init__(("imu",), "exploding")

    def _declare(self):
        return [StreamInfo("boom", StreamKind.TIMESERIES, 100, sample_shape=(1,))]

    def process(self, new):
        raise ZeroDivisionError("bad model")


def test_a_failing_processor_stops_alone(make_acquisition):
    src = SignalSource("imu", rate=1000, realtime=False, max_samples=2000)
    proc = Exploding()
    acq = make_acquisition(src, proc)
    failures = []
    acq.stream_failed.connect(lambda s, m: failures.append(m))
    seen = []
    acq.subscribe(lambda s, c: seen.append(len(c)) if s == "imu" else None)
    acq.start()
    assert src.wait(20)
    assert wait_until(lambda: failures)
    assert sum(seen) == 2000 and not acq.stats["imu"].error
    assert "bad model" in acq.stats["boom"].error and len(failures) == 1


def test_processor_with_missing_input_is_reported_and_the_devices_run(make_acquisition):
    src = SignalSource("imu", rate=100, realtime=False, max_samples=10)
    acq = make_acquisition(src, MovingRMS("mic"))
    assert "mic_rms" not in acq.streams and "imu" in acq.streams
    (msg,) = acq.errors.values()
    assert "'mic'" in msg and "imu" in msg and "input" in msg


def test_added_processor_announces_its_streams_and_rejects_taken_names(make_acquisition):
    src = SignalSource("imu", rate=1000, realtime=False, max_samples=10)
    acq = make_acquisition(src)
    added = []
    acq.stream_added.connect(added.append)
    acq.add_processor(MovingRMS("imu", name="level"))
    assert [i.name for i in added] == ["level"] and "level" in acq.streams
    with pytest.raises(SourceError, match=r"name\(s\) level already exist"):  # the name, not a Python list
        acq.add_processor(MovingRMS("imu", name="level"))


def test_threshold_events_with_hysteresis(make_acquisition):
    # A triangle wave 0..1..0 every 100 samples: one "start" (above) and one "stop" (below) per period.
    tri = lambda t: (1 - np.abs(((t * 100) % 100) / 50 - 1))[:, None].astype(np.float32)  # noqa: E731
    src = SignalSource("x", rate=100, pattern=tri, realtime=False, max_samples=400, t0=0.0)
    acq = make_acquisition(src, ThresholdEvents("x", above=0.8, below=0.2))
    got = []
    acq.subscribe(lambda s, c: got.extend(c.data.tolist()) if s == "x_events" else None)
    acq.start()
    assert wait_until(lambda: len(got) >= 7)
    events = [json.loads(t) for t in got]
    assert [e["type"] for e in events[:7]] == ["start", "stop"] * 3 + ["start"]
    assert {e["label"] for e in events} == {"x_events"} and all(e["value"] >= 0.8 for e in events[::2])


def test_rig_processor_tables_are_validated():
    base = '[[emulated]]\ndevice = "microphone"\n'
    rig = parse_rig(base + '[[processor]]\nkind = "rms"\ninput = "mic"\nwindow = 0.02\n')
    (p,) = rig.processor
    assert p.kind == "rms" and p.window == 0.02
    with pytest.raises(RigError, match="processor"):
        parse_rig(base + '[[processor]]\nkind = "rms"\ninput = "mic"\nwindow = -1\n')
    with pytest.raises(RigError, match="mic_rms"):
        parse_rig(base + '[[processor]]\nkind = "rms"\ninput = "mic"\n[[processor]]\nkind = "rms"\ninput = "mic"\n')


def test_shipped_processor_rig_runs_on_emulated_devices():
    from importlib.resources import files

    rig = parse_rig(files("sensorlab.resources").joinpath("processor_rig.toml").read_text(), "processor_rig.toml")
    acq = Acquisition(rig.build_sources())
    try:
        acq.open()
        assert not acq.errors
        assert {"mic", "wrist", "mic_rms", "loud"} <= set(acq.streams)
        ring = acq.ring("mic_rms")
        acq.start()
        assert wait_until(lambda: ring.total >= 50)
        assert float(ring.snapshot().data.max()) > 0
    finally:
        acq.close()


def test_waiting_ring_wakes_on_append_without_polling():
    from sensorlab.acquisition.buffers import ChunkRing
    from sensorlab.acquisition.source import Chunk

    ring = ChunkRing(10)
    woke = threading.Event()
    t = threading.Thread(target=lambda: ring.wait(0.5, timeout=30) and woke.set())
    t.start()
    ring.append(Chunk(np.zeros((1, 1)), np.array([1.0])))
    t.join(30)
    assert woke.is_set()


def test_devices_parsers_and_processors_satisfy_the_declared_protocols():
    """The builders, the hub and SerialSource are typed against these protocols; keep them true."""
    from sensorlab.acquisition.processors import Processor
    from sensorlab.acquisition.serial.binary import BinaryParser
    from sensorlab.acquisition.serial.protocol import Parser
    from sensorlab.acquisition.serial.text import TextLineParser
    from sensorlab.acquisition.source import Source

    assert isinstance(TextLineParser("imu"), Parser) and isinstance(BinaryParser(), Parser)
    rig = parse_rig('[[emulated]]\ndevice = "microphone"\n[[processor]]\nkind = "rms"\ninput = "mic"\n')
    mic, rms = rig.build_sources()
    assert isinstance(mic, Source) and not isinstance(mic, Processor)
    assert isinstance(rms, Processor)
