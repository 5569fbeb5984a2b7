"""The compact time layout (schema 1.4, ``segments``) against the per-sample one (``samples``).

The same chunks, from the real emulated demo rig (PulseAudio-free microphone with its sample
clock, binary IMU + radar and text IMU over pseudo-terminals, camera), are written by two
writers at once: one in each layout. Everything a reader returns must agree: values bit for
bit, timestamps and raw clocks within the codec's tolerance (10 ns; the format promises 1 µs).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sensorlab.acquisition.clock import keep_increasing
from sensorlab.acquisition.emulated.rig import demo_sources
from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
from sensorlab.session import timecodec
from sensorlab.session.blocks import iter_blocks
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.reader import Session
from sensorlab.session.summary import format_summary
from sensorlab.session.sync_offsets import apply as apply_offsets
from sensorlab.session.writer import SessionWriter

TOL = timecodec.TIME_TOL


class TeeWriter:
    """Hands every call of the recorder to two writers: the compact one (answers) and a ``samples`` one."""

    def __init__(self, path: Path, old_path: Path):
        self.main = SessionWriter(path)
        self.old = SessionWriter(old_path, time_layout="samples")

    def __getattr__(self, name):
        attr = getattr(self.main, name)
        if not callable(attr) or name in ("written", "check"):
            return attr

        def both(*args, **kwargs):
            getattr(self.old, name)(*args, **kwargs)
            return attr(*args, **kwargs)

        return both


def assert_same_stream(new, old):
    assert new.count == old.count and new.count > 0, new.name
    a, b = new.read_index(decode=False), old.read_index(decode=False)
    if new.info.kind in (StreamKind.VIDEO, StreamKind.EVENTS):
        assert list(a.data) == list(b.data)
    else:
        assert a.data.dtype == b.data.dtype
        np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_allclose(a.timestamps, b.timestamps, rtol=0, atol=TOL)
    assert np.all(np.diff(a.timestamps) > 0) or new.info.kind is StreamKind.EVENTS
    for x, y in ((a.device_times, b.device_times), (a.arrival_times, b.arrival_times)):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_array_equal(np.isnan(x), np.isnan(y))
            np.testing.assert_allclose(x, y, rtol=0, atol=TOL)
    assert new.first_time == pytest.approx(old.first_time, abs=TOL) and new.last_time == pytest.approx(old.last_time, abs=TOL)
    # Time-range reads pick the same samples (between samples: on one, times may differ by 10 ns).
    ts = old.timestamps
    if new.info.kind is not StreamKind.EVENTS and len(ts) > 3:
        i, j = len(ts) // 3, 2 * len(ts) // 3
        t0, t1 = (ts[i] + ts[i + 1]) / 2, (ts[j] + ts[j + 1]) / 2
        assert new.index_of(t0) == old.index_of(t0) == i + 1
        np.testing.assert_array_equal(new.read(t0, t1, decode=False).data[:5].tolist() if new.info.kind is StreamKind.VIDEO else new.read(t0, t1).data,
                                      old.read(t0, t1, decode=False).data[:5].tolist() if new.info.kind is StreamKind.VIDEO else old.read(t0, t1).data)
    np.testing.assert_array_equal(new.gaps, old.gaps)
    assert new.clock == old.clock or all(np.isclose(new.clock[k], old.clock[k], equal_nan=True) for k in old.clock)


@pytest.fixture(scope="module")
def demo_pair(tmp_path_factory):
    """The demo rig (without EEG) recorded for ~2.5 s into both layouts at once."""
    from sensorlab.acquisition.hub import Acquisition
    from sensorlab.session.recorder import Recorder

    d = tmp_path_factory.mktemp("compact")
    path, old_path = d / "new.h5", d / "old.h5"
    acq = Acquisition(demo_sources(eeg=False))
    acq.open()
    try:
        rec = Recorder(acq, path, SessionMetadata(name="tee"), writer=TeeWriter(path, old_path))
        rec.start()
        acq.start()
        done = threading.Event()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not done.is_set():
            c = rec.counters()
            if all(c.get(s) is not None and c[s].samples > 0 for s in ("camera", "mic", "imu", "radar", "wrist")) and c["mic"].samples > 48000 * 2.5:
                done.set()
            time.sleep(0.1)
        rec.add_event('{"label": "wave", "type": "point"}')
        rec.add_event('{"label": "past", "type": "point"}', t=rec.counters()["mic"].first_time + 0.5)
        rec.stop()
    finally:
        acq.close()
    assert done.is_set(), "the demo rig did not deliver 2.5 s of every stream within 60 s"
    return path, old_path


def test_every_demo_stream_reads_the_same_from_both_layouts(demo_pair):
    path, old_path = demo_pair
    with Session.open(path) as new, Session.open(old_path) as old:
        assert set(new.streams) == set(old.streams) >= {"camera", "mic", "imu", "radar", "wrist", "labels"}
        for name in old.streams:
            assert new.streams[name].time_layout.value == "segments" and old.streams[name].time_layout.value == "samples"
            assert_same_stream(new.streams[name], old.streams[name])
        assert new.events() == old.events()


def test_the_compact_file_is_smaller_and_audio_times_are_runs(demo_pair):
    path, old_path = demo_pair
    with Session.open(path) as new:
        mic = new.streams["mic"]
        col = mic._col("timestamps")
        # A few runs per hand-over (10 ms blocks), none stored per sample.
        assert mic.explicit_times == 0 and col.runs < mic.count / 100
    assert path.stat().st_size < 0.7 * old_path.stat().st_size


def test_blocks_and_sync_offsets_work_on_both_layouts(demo_pair, tmp_path):
    import shutil

    for src in demo_pair:
        p = tmp_path / src.name
        shutil.copy(src, p)
        apply_offsets(p, {"imu": 0.0125}, reference="mic", method="test")
    with Session.open(tmp_path / "new.h5") as new, Session.open(tmp_path / "old.h5") as old:
        for name in ("mic", "imu"):
            a, b = new.streams[name], old.streams[name]
            assert a.offset == b.offset == (0.0125 if name == "imu" else 0.0)
            np.testing.assert_allclose(a.timestamps, b.timestamps, rtol=0, atol=TOL)
            np.testing.assert_allclose(a.raw_timestamps - a.timestamps, a.offset, atol=1e-9)
            blocks_a = list(iter_blocks(a, block_s=0.7, overlap_s=0.2))
            blocks_b = list(iter_blocks(b, block_s=0.7, overlap_s=0.2))
            assert len(blocks_a) == len(blocks_b) > 2
            for x, y in zip(blocks_a, blocks_b, strict=True):
                np.testing.assert_array_equal(x.data, y.data)
                np.testing.assert_allclose(x.timestamps, y.timestamps, rtol=0, atol=TOL)
                assert x.overlap == y.overlap


def test_info_says_which_layout(demo_pair):
    path, old_path = demo_pair
    new_text, old_text = format_summary(path), format_summary(old_path)
    assert "format 1.4, time layout: segments (compact)" in new_text
    assert "time layout: samples" in old_text
    # The camera's host-stamped frames and the events lie on no line: info says they are kept per sample.
    assert "times kept per sample (irregular):" in new_text and "labels" in new_text.split("times kept per sample")[1]


# -- streams whose times are not linear: exactness beats compactness -------------------------------


def _write(path: Path, layout: str, chunks: list[Chunk], info: StreamInfo) -> None:
    w = SessionWriter(path, time_layout=layout)
    w.on_start({info.name: info}, SessionMetadata(name=path.stem).stamped_start(5000.0))
    for c in chunks:
        w.on_chunk(info.name, c)
    w.on_stop({}, {"complete": True, "stop_reason": "stopped"})


def test_irregular_and_squeezed_times_survive_exactly(tmp_path):
    """Serial text lines stamped on arrival (jittery), a clock fit stepping back (squeezed by
    keep_increasing), chunks without raw clocks between chunks with them, a NaN device time."""
    rng = np.random.default_rng(7)
    info = StreamInfo("wrist", StreamKind.TIMESERIES, 100.0, ("x", "y"), dtype="int16", sample_shape=(2,), has_device_time=True)
    chunks, last, k = [], -np.inf, 0
    for c in range(60):
        n = int(rng.integers(1, 40))
        dev = (k + np.arange(n)) / 100.0
        jitter = rng.random(n) * 3e-3 if c % 3 == 0 else np.zeros(n)
        offset = 5000.0 - (0.004 if c == 20 else 0.0)  # the fit steps back once: samples squeezed
        ts = keep_increasing(offset + dev + jitter, last)
        last = ts[-1]
        arrival = ts + 0.002 + rng.random(n) * 1e-3 if c % 2 else np.full(n, ts[-1] + 0.002)
        if c == 30:
            dev = dev.copy()
            dev[3 % n] = np.nan
        data = rng.integers(-32768, 32767, size=(n, 2), dtype=np.int16)
        chunks.append(Chunk(data, ts, None if c % 7 == 5 else dev, None if c % 11 == 4 else arrival))
        k += n
    _write(tmp_path / "new.h5", "segments", chunks, info)
    _write(tmp_path / "old.h5", "samples", chunks, info)
    with Session.open(tmp_path / "new.h5") as new, Session.open(tmp_path / "old.h5") as old:
        assert_same_stream(new.streams["wrist"], old.streams["wrist"])
        got = new.streams["wrist"].read_index()
        want = np.concatenate([c.timestamps for c in chunks])
        assert np.max(np.abs(got.timestamps - want)) <= TOL
        assert 0 < new.streams["wrist"].explicit_times < new.streams["wrist"].count  # jittery chunks kept per sample


def test_the_codec_reproduces_every_sample_within_tolerance():
    rng = np.random.default_rng(3)
    cases = [
        5000.0 + np.arange(48000) / 48000,  # one line
        np.concatenate([7e5 + 0.01 * b + rng.random() * 1e-4 + np.arange(480) / 48000 for b in range(50)]),  # per hand-over fits
        np.repeat(np.cumsum(rng.random(40)) + 100.0, 25),  # arrival times: one per hand-over
        np.cumsum(rng.random(500) * 1e-2) + 3.0,  # irregular
        keep_increasing(np.concatenate([10 + np.arange(100) / 1e3, 10.09 + np.arange(100) / 1e3])),  # squeezed
        np.array([1.0]),
        np.array([1.0, 1.0 + 1e-9, 1.0 + 3e-9]),  # closer than the tolerance: must keep its order
    ]
    for x in cases:
        runs = timecodec.encode(x, 11)
        assert sum(r[1] for r in runs) == len(x) and runs[0][0] == 11
        assert all(a[0] + a[1] == b[0] for a, b in zip(runs, runs[1:]))
        out = np.empty(len(x))
        for s, n, v, step in runs:
            out[s - 11 : s - 11 + n] = timecodec._line(v, step, 0, n) if np.isfinite(step) else x[s - 11 : s - 11 + n]
        assert np.max(np.abs(out - x)) <= timecodec.TIME_TOL
        assert np.all(np.diff(out) > 0) == np.all(np.diff(x) > 0)
