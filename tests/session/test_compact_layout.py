"""The compact time layouts (schema 3.0 ``compact``, 2.0 ``segments``) against the per-sample one
(``samples``, 1.4).

The same chunks, from the real emulated demo rig (PulseAudio-free microphone with its sample
clock, binary IMU + radar and text IMU over pseudo-terminals, camera), are written by three
writers at once: one in each layout. Everything a reader returns must agree: values bit for
bit, timestamps and device times too (the format promises 1 µs; the codec gives bit-exact),
and raw arrival times bit for bit in 2.0, within half a microsecond in 3.0 (irregular arrivals
are kept as whole µs after their timestamp there).
"""

from __future__ import annotations

import itertools
import tomllib
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

from .conftest import demo_rig_delivered

#: Times read back bit for bit in every layout (the compact ones store per-sample ulp corrections).
TOL = 0.0
#: Raw arrival times of the 3.0 layout: rounded to whole µs after the sample's timestamp.
ARRIVAL_TOL = 0.5e-6 + 1e-9


class TeeWriter:
    """Hands every call of the recorder to three writers: the default one (3.0, answers), a 2.0
    ``segments`` one and a 1.4 ``samples`` one."""

    def __init__(self, path: Path, seg_path: Path, old_path: Path):
        self.main = SessionWriter(path)
        self.others = [SessionWriter(seg_path, time_layout="segments"), SessionWriter(old_path, time_layout="samples")]

    def __getattr__(self, name):
        attr = getattr(self.main, name)
        if not callable(attr) or name in ("written", "check"):
            return attr

        def every(*args, **kwargs):
            for w in self.others:
                getattr(w, name)(*args, **kwargs)
            return attr(*args, **kwargs)

        return every


def assert_same_stream(new, old, arrival_tol=0.0):
    assert new.count == old.count and new.count > 0, new.name
    a, b = new.read_index(decode=False), old.read_index(decode=False)
    if new.info.kind in (StreamKind.VIDEO, StreamKind.EVENTS):
        assert list(a.data) == list(b.data)
    else:
        assert a.data.dtype == b.data.dtype
        np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_allclose(a.timestamps, b.timestamps, rtol=0, atol=TOL)
    assert np.all(np.diff(a.timestamps) > 0) or new.info.kind is StreamKind.EVENTS
    for x, y, tol in ((a.device_times, b.device_times, TOL), (a.arrival_times, b.arrival_times, arrival_tol)):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_array_equal(np.isnan(x), np.isnan(y))
            np.testing.assert_allclose(x, y, rtol=0, atol=tol)
    assert new.first_time == pytest.approx(old.first_time, abs=TOL) and new.last_time == pytest.approx(old.last_time, abs=TOL)
    # Time-range reads pick the same samples, between samples and exactly on one.
    ts = old.timestamps
    if new.info.kind is not StreamKind.EVENTS and len(ts) > 3:
        i, j = len(ts) // 3, 2 * len(ts) // 3
        t0, t1 = (ts[i] + ts[i + 1]) / 2, (ts[j] + ts[j + 1]) / 2
        assert new.index_of(t0) == old.index_of(t0) == i + 1
        assert new.index_of(ts[j]) == old.index_of(ts[j]) == j
        np.testing.assert_array_equal(new.read(t0, t1, decode=False).data[:5].tolist() if new.info.kind is StreamKind.VIDEO else new.read(t0, t1).data,
                                      old.read(t0, t1, decode=False).data[:5].tolist() if new.info.kind is StreamKind.VIDEO else old.read(t0, t1).data)
    np.testing.assert_array_equal(new.gaps, old.gaps)
    assert new.clock == old.clock or all(np.isclose(new.clock[k], old.clock[k], equal_nan=True) for k in old.clock)


@pytest.fixture(scope="module")
def demo_pair(tmp_path_factory):
    """The demo rig (without EEG) recorded for ~2.5 s into all three layouts at once."""
    from sensorlab.acquisition.hub import Acquisition
    from sensorlab.session.recorder import Recorder

    d = tmp_path_factory.mktemp("compact")
    path, seg_path, old_path = d / "new.h5", d / "seg.h5", d / "old.h5"
    acq = Acquisition(demo_sources(eeg=False))
    acq.open()
    try:
        rec = Recorder(acq, path, SessionMetadata(name="tee"), writer=TeeWriter(path, seg_path, old_path))
        rec.start()
        acq.start()
        delivered = demo_rig_delivered(rec)
        rec.add_event('{"label": "wave", "type": "point"}')
        rec.add_event('{"label": "past", "type": "point"}', t=rec.counters()["mic"].first_time + 0.5)
        rec.stop()
    finally:
        acq.close()
    assert delivered, "the demo rig did not deliver 2.5 s of every stream within 60 s"
    return path, seg_path, old_path


def test_every_demo_stream_reads_the_same_from_every_layout(demo_pair):
    path, seg_path, old_path = demo_pair
    with Session.open(path) as new, Session.open(seg_path) as seg, Session.open(old_path) as old:
        assert new.metadata.schema_version == "4.0" and seg.metadata.schema_version == "2.0" and old.metadata.schema_version == "1.4"
        assert set(new.streams) == set(seg.streams) == set(old.streams) >= {"camera", "mic", "imu", "radar", "wrist", "labels"}
        for name in old.streams:
            assert (new.streams[name].time_layout.value, seg.streams[name].time_layout.value, old.streams[name].time_layout.value) == ("compact", "segments", "samples")
            assert_same_stream(new.streams[name], old.streams[name], arrival_tol=ARRIVAL_TOL)
            assert_same_stream(seg.streams[name], old.streams[name])  # 2.0: every time bit for bit
        assert new.events() == seg.events() == old.events()
        # The text IMU stamps every line on arrival: 3.0 keeps those as µs after the timestamp,
        # none verbatim. How many are µs and how many exact runs depends on the machine: lines
        # read at once share one arrival (a run), and on a loaded machine most reads are bursts
        # (CI-like load: 71 of 282 lines were µs; the test once required half).
        arrivals = new.streams["wrist"]._col("arrival_times")
        assert arrivals.quantized > 0 and arrivals.explicit == 0, (arrivals.quantized, arrivals.explicit)


def test_the_compact_file_is_smaller_and_audio_times_are_runs(demo_pair):
    path, seg_path, old_path = demo_pair
    with Session.open(path) as new:
        mic = new.streams["mic"]
        col = mic._col("timestamps")
        # A few runs per hand-over (10 ms blocks); hardly a sample kept verbatim (a run shorter than
        # 4 samples, e.g. where a fit step was squeezed, is).
        assert mic.explicit_times < mic.count / 1000 and col.runs < mic.count / 100
    assert path.stat().st_size < 0.7 * old_path.stat().st_size
    # What µs arrivals save is measured on a minute of lines in test_format_3 (2.5 s of a 100 Hz
    # stream is too few lines: HDF5's chunk allocation decides the bytes there).


def test_blocks_and_sync_offsets_work_on_both_layouts(demo_pair, tmp_path):
    import shutil

    for src in (demo_pair[0], demo_pair[2]):
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
    path, seg_path, old_path = demo_pair
    new_text, seg_text, old_text = format_summary(path), format_summary(seg_path), format_summary(old_path)
    assert "format 4.0, time layout: compact (time runs; irregular arrival times to 1 µs, as steps)" in new_text
    assert "format 2.0, time layout: segments (time runs, every time bit-exact; sensorlab 2.x reads it)" in seg_text
    assert "format 1.4, time layout: samples" in old_text  # the legacy file older sensorlab reads
    # Which dtype each stream stores: the device's counts with their scale in 2.0, physical floats in 1.4.
    assert "samples stored as: " in new_text and "imu int16 counts (per-channel scale → float32)" in new_text
    assert "mic int16 counts (×3.052e-05 → float32)" in new_text and "camera jpeg" in new_text
    assert "imu float32," in old_text and "mic float32," in old_text
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
    _write(tmp_path / "new.h5", "compact", chunks, info)
    _write(tmp_path / "seg.h5", "segments", chunks, info)
    _write(tmp_path / "old.h5", "samples", chunks, info)
    with Session.open(tmp_path / "new.h5") as new, Session.open(tmp_path / "seg.h5") as seg, Session.open(tmp_path / "old.h5") as old:
        assert_same_stream(new.streams["wrist"], old.streams["wrist"], arrival_tol=ARRIVAL_TOL)
        assert_same_stream(seg.streams["wrist"], old.streams["wrist"])
        got = new.streams["wrist"].read_index()
        want = np.concatenate([c.timestamps for c in chunks])
        np.testing.assert_array_equal(got.timestamps, want)
        assert 0 < new.streams["wrist"].explicit_times < new.streams["wrist"].count  # jittery chunks kept per sample


def test_arrival_times_shared_by_a_hand_over_are_one_run_each_and_exact(tmp_path):
    """Each sample of a hand-over carries its arrival time (a microphone block, a serial read):
    the compact file stores one run of step 0 per hand-over of `timecodec.MIN_RUN` samples or
    more (found without a search per run since 2026-12-02: ~100–1,000 hand-overs a second, each
    ~8 NumPy calls holding the GIL), and reads back every time bit for bit, as the per-sample file does."""
    rng = np.random.default_rng(11)
    info = StreamInfo("mic", StreamKind.AUDIO, 48000.0, ("l",), dtype="int16", sample_shape=(1,))
    chunks, k, hand_overs, short = [], 0, 0, 0
    for batch in range(30):  # the recorder's batches: several hand-overs each
        sizes = np.full(10, 480) if batch % 3 == 0 else rng.integers(1, 481, 10)
        if batch % 5 == 4:
            sizes[rng.integers(0, 10)] = 2  # a short read: kept verbatim or merged
        n = int(sizes.sum())
        ts = 5000.0 + (k + np.arange(n)) / 48000
        arrival = np.repeat(np.maximum.accumulate(ts[np.cumsum(sizes) - 1] + 0.003 + rng.random(10) * 1e-3), sizes)
        chunks.append(Chunk(rng.integers(-32768, 32767, size=(n, 1), dtype=np.int16), ts, None, arrival))
        k += n
        hand_overs += len(sizes)
        short += int((sizes < timecodec.MIN_RUN).sum())
    _write(tmp_path / "new.h5", "compact", chunks, info)
    _write(tmp_path / "old.h5", "samples", chunks, info)
    want = np.concatenate([c.arrival_times for c in chunks])
    with Session.open(tmp_path / "new.h5") as new, Session.open(tmp_path / "old.h5") as old:
        # A short read's 2 samples are kept as µs after their timestamps (within half a µs).
        assert_same_stream(new.streams["mic"], old.streams["mic"], arrival_tol=ARRIVAL_TOL)
        col = new.streams["mic"]._col("arrival_times")
        assert col.quantized + col.explicit <= 2 * short
        assert hand_overs - short <= col.runs <= hand_overs
        exact = np.repeat(np.isfinite(col._step) & (col._step == 0.0), col._count)
        got = new.streams["mic"].read_index().arrival_times
        assert exact.sum() >= len(want) - 2 * short
        np.testing.assert_array_equal(got[exact], want[exact])  # every step-0 run bit for bit


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
        assert all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(runs))
        out = np.empty(len(x))
        for s, n, v, step in runs:
            out[s - 11 : s - 11 + n] = timecodec.line_times(v, step, 0, n) if np.isfinite(step) else x[s - 11 : s - 11 + n]
        assert np.max(np.abs(out - x)) <= timecodec.TIME_TOL
        assert np.all(np.diff(out) > 0) == np.all(np.diff(x) > 0)


# -- files written before 1.4 -----------------------------------------------------------------------

DATA = Path(__file__).parent / "data"


def test_a_file_written_by_sensorlab_1_3_reads_exactly_as_1_3_read_it(old_session):
    """``data/v13_session.h5.gz`` was written, and ``v13_expected.npz`` read, by the 1.3 code
    (``data/make_v13_session.py``): the reader must still return every value bit for bit."""
    path = old_session("1.3")
    want = np.load(DATA / "v13_expected.npz")
    with Session.open(path) as s:
        assert s.metadata.schema_version == "1.3"
        names = {k.split("/")[0] for k in want.files}
        assert names == set(s.streams) and len(names) == 5
        for name in names:
            r = s.streams[name]
            assert r.time_layout.value == "samples" and r.explicit_times == r.count
            c = r.read_index(decode=False)
            data = np.array([bytes(b) if isinstance(b, bytes) else str(b) for b in c.data]) if c.data.dtype == object else c.data
            np.testing.assert_array_equal(data, want[f"{name}/data"])
            assert data.dtype == want[f"{name}/data"].dtype
            np.testing.assert_array_equal(c.timestamps, want[f"{name}/timestamps"])  # bit for bit
            for k in ("device_times", "arrival_times"):
                key = f"{name}/{k}"
                assert (getattr(c, k) is None) == (key not in want.files)
                if key in want.files:
                    np.testing.assert_array_equal(getattr(c, k), want[key])
            np.testing.assert_array_equal(r.gaps, want[f"{name}/gaps"])
            # No scale in a 1.x file: raw reads are the same values, and the info is unchanged.
            assert r.info == r.stored_info and not r.info.scaled
            if c.data.dtype != object:
                np.testing.assert_array_equal(r.read_index(raw=True).data, c.data)
    text = format_summary(path)
    assert "time layout: samples" in text and "format 1.3" in text and "samples stored as: " in text


def test_dataset_build_gives_identical_windows_from_both_layouts(tmp_path):
    from sensorlab.datasets.build import build_dataset
    from sensorlab.datasets.dataset import Dataset
    from sensorlab.datasets.spec import spec_from_dict
    from sensorlab.labeling.annotations import AnnotationSet, Segment
    from sensorlab.labeling.store import save_annotations, sidecar_path
    from sensorlab.session.synthetic import T0, write_synthetic_session

    out = {}
    for layout in ("segments", "samples"):
        d = tmp_path / layout
        d.mkdir()
        for name, subject in (("a", "s1"), ("b", "s2")):
            p = d / f"{name}.h5"
            write_synthetic_session(p, 12.0, audio_rate=8000, audio_channels=1, imu_rate=100, fps=5.0, frame_shape=(8, 8),
                                    predictions=False, tags={"subject": subject}, time_layout=layout)  # fmt: skip
            ann = AnnotationSet([Segment("w0", "activity", "walk", T0 + 2.0, T0 + 6.0), Segment("w1", "activity", "wave", T0 + 7.0, T0 + 10.0)])
            save_annotations(ann, sidecar_path(p), session=p.name)
        spec = spec_from_dict(tomllib.loads(f"""
[[streams]]
name = "imu"
[[streams]]
name = "mic"
rate = 1000
[sessions]
paths = ["{d}/*.h5"]
[labels]
tier = "activity"
rule = "majority"
min_coverage = 0.5
[window]
length = 1.0
hop = 0.25
[split]
by = "session"
fractions = {{ train = 1.0 }}
"""))
        build_dataset(spec, tmp_path / f"{layout}.ds.h5")
        with Dataset.open(tmp_path / f"{layout}.ds.h5") as ds:
            assert len(ds) > 20
            out[layout] = {"offset": ds.column("offset"), "label": ds.column("label"), "flags": ds.column("flags"),
                           "imu": ds.windows("imu", np.arange(len(ds))), "mic": ds.windows("mic", np.arange(len(ds)))}  # fmt: skip
    for k, v in out["samples"].items():
        np.testing.assert_array_equal(out["segments"][k], v, err_msg=k)
