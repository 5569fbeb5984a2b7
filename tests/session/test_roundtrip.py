"""Record N known samples of every kind → read the HDF5 back → compare values, dtypes, timestamps."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.source import StreamKind
from sensorlab.session import format as fmt
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.reader import Session
from sensorlab.session.recorder import Recorder

CASES = [
    pytest.param(dict(kind="timeseries", shape=(6,), dtype="float32", rate=1000, chunk_size=10, max_samples=2500), {}, id="timeseries-float32"),
    pytest.param(dict(kind="timeseries", shape=(3,), dtype="int16", rate=500, chunk_size=7, max_samples=30000), {}, id="timeseries-int16-wrapping"),
    pytest.param(dict(kind="audio", shape=(2,), dtype="float32", rate=48000, chunk_size=480, pattern="sine", max_samples=96000), {}, id="audio-48k-stereo"),
    pytest.param(dict(kind="frames", shape=(64, 32), dtype="float32", rate=20, chunk_size=1, max_samples=60), {}, id="frames-64x32"),
    pytest.param(dict(kind="video", shape=(48, 64, 3), rate=30, chunk_size=1, max_samples=45), {"video_encoding": "jpeg"}, id="video-jpeg"),
    pytest.param(dict(kind="video", shape=(48, 64, 3), rate=30, chunk_size=2, max_samples=45), {"video_encoding": "raw"}, id="video-raw"),
    pytest.param(dict(kind="events", rate=10, chunk_size=1, max_samples=25), {}, id="events"),
    # Counts in the device's dtype with their scale (schema 2.0): int16 PCM, IMU counts, radar maps.
    pytest.param(dict(kind="audio", shape=(2,), dtype="int16", rate=48000, chunk_size=480, pattern="sine", max_samples=96000, scale=(1 / 32768,)),
                 {}, id="audio-int16-pcm"),  # fmt: skip
    pytest.param(dict(kind="timeseries", shape=(6,), dtype="int16", rate=1000, chunk_size=10, pattern="sine", max_samples=5000,
                      scale=(8 / 32768,) * 3 + (500 / 32768,) * 3, offset=(0.01, -0.02, 0.0, 0.5, 0.0, -1.5), units=("g",) * 3 + ("deg/s",) * 3),
                 {}, id="timeseries-int16-imu-counts"),  # fmt: skip
    pytest.param(dict(kind="timeseries", shape=(4,), dtype="uint16", rate=250, chunk_size=5, pattern="sine", max_samples=2000, scale=(3.3 / 65535,),
                      offset=(-1.65,), units=("V",)), {}, id="timeseries-uint16-adc"),  # fmt: skip
    pytest.param(dict(kind="frames", shape=(64, 32), dtype="int16", rate=20, chunk_size=1, pattern="sine", max_samples=60, scale=(1e-3,)),
                 {}, id="frames-int16-scaled"),  # fmt: skip
]


@pytest.mark.parametrize("layout", ["compact", "segments", "samples"])
@pytest.mark.parametrize(("spec", "rec_kwargs"), CASES)
def test_roundtrip(make_session, spec, rec_kwargs, layout):
    src = SignalSource("s", realtime=False, **spec)
    path = make_session(src, time_layout=layout, **rec_kwargs)
    n = spec["max_samples"]
    k = np.arange(n)
    info = src.streams[0]
    with Session.open(path) as s:
        r = s.streams["s"]
        # The reader describes what it returns: physical values (float32 for counts with a scale).
        assert r.info == info.physical()
        assert r.stored_info == (info if layout != "samples" else info.physical())
        assert r.count == n
        assert r.time_layout.value == layout
        np.testing.assert_array_equal(r.timestamps, src.timestamps(k))  # exact: float64 read back as given, in both layouts
        c = r.read_index()
        want = src.expected(k)
        if src.kind is StreamKind.EVENTS:
            assert c.data.tolist() == want.tolist()
        elif rec_kwargs.get("video_encoding") == "jpeg":
            assert c.data.dtype == np.uint8 and c.data.shape == want.shape
            assert np.abs(c.data.astype(int) - want).max() <= 2  # uniform frames survive JPEG
        else:
            # Default reads: physical values, bit for bit what consumers of the live stream get.
            assert c.data.dtype == np.dtype(info.physical().dtype)
            np.testing.assert_array_equal(c.data, info.to_physical(want))
            raw = r.read_index(raw=True).data
            stored = s._f[f"streams/s/{fmt.DATA}"]
            if layout != "samples":  # 2.0 and 3.0: the device's counts, as delivered
                assert raw.dtype == np.dtype(src.dtype) and stored.dtype == np.dtype(src.dtype)
                np.testing.assert_array_equal(raw, want)
            else:  # a 1.4 file (older sensorlab must read it): the physical values themselves
                assert stored.dtype == np.dtype(info.physical().dtype)
                np.testing.assert_array_equal(raw, c.data)
            if info.scaled and layout != "samples":
                # Plain h5py / netCDF-style tools find the conversion on the dataset itself.
                np.testing.assert_allclose(stored.attrs[fmt.SCALE_FACTOR], np.broadcast_to(info.scale, stored.attrs[fmt.SCALE_FACTOR].shape))
                by_hand = stored[:].astype(np.float32) * stored.attrs[fmt.SCALE_FACTOR].astype(np.float32) + stored.attrs[fmt.ADD_OFFSET].astype(np.float32)
                np.testing.assert_allclose(by_hand, c.data, rtol=1e-6, atol=1e-6)
            else:
                assert fmt.SCALE_FACTOR not in stored.attrs
            t0, t1 = r.timestamps[n // 3], r.timestamps[n // 2]  # time-range reads too
            np.testing.assert_array_equal(r.read(t0, t1).data, c.data[n // 3 : n // 2])
            np.testing.assert_array_equal(r.read(t0, t1, raw=True).data, raw[n // 3 : n // 2])
        st = r.stats
        assert (st.samples, st.dropped, st.error, st.gaps) == (n, 0, "", [])
        assert r.complete and s.complete and s.stop_reason == "stopped"
        if src.kind is not StreamKind.EVENTS:
            assert r.rate_measured == pytest.approx(spec["rate"])
            assert r.duration == pytest.approx(n / spec["rate"])


def test_time_range_read_is_half_open_and_matches_timestamps(make_session):
    src = SignalSource("imu", shape=(6,), rate=1000, chunk_size=10, realtime=False, max_samples=20_000)
    path = make_session(src)
    with Session.open(path) as s:
        r = s.streams["imu"]
        ts = src.timestamps(np.arange(20_000))
        t0, t1 = ts[1234] - 1e-7, ts[15_000]  # t1 exactly on a sample: excluded
        c = r.read(t0, t1)
        assert r._ts is None, "a time-range read must not load all timestamps"
        np.testing.assert_array_equal(c.timestamps, ts[1234:15_000])
        np.testing.assert_array_equal(c.data, src.expected(np.arange(1234, 15_000)))
        assert len(r.read(ts[-1] + 1, ts[-1] + 2)) == 0
        assert len(r.read()) == 20_000
        assert r.index_of(ts[500]) == 500


def test_jpeg_read_without_decode_returns_jpeg_bytes(make_session):
    src = SignalSource("cam", kind="video", shape=(32, 48, 3), rate=30, chunk_size=1, realtime=False, max_samples=10)
    path = make_session(src, jpeg_quality=50)
    with Session.open(path) as s:
        c = s.streams["cam"].read(decode=False)
        assert c.data.dtype == object and all(b[:2] == b"\xff\xd8" for b in c.data)
        assert len(s.streams["cam"].read(c.timestamps[3], c.timestamps[6])) == 3


def test_device_and_arrival_times_are_stored_with_a_clock_fit(make_session):
    src = SignalSource("mcu", shape=(2,), rate=200, chunk_size=20, realtime=False, max_samples=4000, device_time=True)
    plain = SignalSource("plain", shape=(1,), rate=100, realtime=False, max_samples=100)
    path = make_session(src, plain)
    with Session.open(path) as s:
        c = s.streams["mcu"].read_index()
        np.testing.assert_allclose(c.device_times, np.arange(4000) / 200)
        assert np.all(c.arrival_times >= c.timestamps)
        clock = s.streams["mcu"].clock
        # Not realtime: the recorder gets the chunks in a few batches, so the offset fit never
        # used a slope (NaN); the drift is still measured from every hand-over (arrivals follow
        # the device clock here: 0 ppm), with its standard error.
        assert np.isnan(clock["slope"]) and clock["offset"] == pytest.approx(src.t0, abs=0.01)
        assert abs(clock["drift_ppm"]) < 5 and 0 <= clock["drift_stderr_ppm"] < 5
        p = s.streams["plain"].read_index()
        assert p.device_times is None and p.arrival_times is None and s.streams["plain"].clock == {}


def test_metadata_round_trip(make_session):
    meta = SessionMetadata(name="s01-walk", notes="first try\nline 2", tags={"subject": "s01", "location": "lab"}, rig='[[device]]\nname = "imu"\n')
    path = make_session(SignalSource("x", realtime=False, max_samples=10), metadata=meta)
    with Session.open(path) as s:
        m = s.metadata
        assert (m.name, m.notes, m.tags, m.rig) == (meta.name, meta.notes, meta.tags, meta.rig)
        assert m.software_version and m.schema_version == fmt.SCHEMA_VERSION and m.start_time_iso
        assert m.start_time_epoch > 1.6e9 and m.start_host_time is not None and m.end_host_time >= m.start_host_time


def test_labels_stream_always_exists_and_events_come_back_in_time_order(make_recorder):
    rec, acq = make_recorder(SignalSource("x", realtime=False, max_samples=10))
    rec.add_event('{"label": "wave", "type": "start"}', t=10.0)
    rec.add_event("late marker", t=5.0)  # placed in the past
    rec.add_event("ünïcode ✓", t=7.5)
    with pytest.raises(ValueError, match="not an events stream"):
        rec.add_event("nope", stream="x")
    path = rec.stop()
    with Session.open(path) as s:
        assert s.streams["labels"].info.kind is StreamKind.EVENTS
        assert s.events() == [(5.0, "late marker"), (7.5, "ünïcode ✓"), (10.0, '{"label": "wave", "type": "start"}')]
        assert [t for t, _ in s.events()] == sorted(t for t, _ in s.events())
        assert len(s.streams["labels"].read(6.0, 10.0)) == 1


def test_an_existing_file_is_never_overwritten(tmp_path, make_acquisition):
    path = tmp_path / "taken.h5"
    path.write_bytes(b"precious")
    rec = Recorder(make_acquisition(SignalSource("x")), path)
    with pytest.raises(FileExistsError):
        rec.start()
    assert path.read_bytes() == b"precious"


def test_raw_video_without_a_frame_shape_is_refused_before_creating_the_file(tmp_path, make_acquisition):
    acq = make_acquisition(SignalSource("cam", kind="video", shape=(), rate=30))
    with pytest.raises(ValueError, match="raw video needs sample_shape"):
        Recorder(acq, tmp_path / "x.h5", video_encoding="raw").start()
    assert not (tmp_path / "x.h5").exists()


def test_file_layout_matches_the_documented_schema(make_session):
    path = make_session(
        SignalSource("imu", shape=(6,), rate=100, realtime=False, max_samples=50),
        SignalSource("cam", kind="video", shape=(16, 16, 3), rate=30, chunk_size=1, realtime=False, max_samples=5),
    )
    with h5py.File(path, "r") as f:
        assert f.attrs["schema"] == fmt.SCHEMA and f.attrs["complete"]
        imu, cam = f["streams/imu"], f["streams/cam"]
        assert imu["data"].shape == (50, 6) and imu["data"].maxshape == (None, 6) and imu.attrs["time_layout"] == "compact"
        assert imu["timestamps_segments"].dtype.names == ("start", "count", "value", "step", "residual") and imu["timestamps_values"].dtype == np.float64
        assert imu["arrival_times_us"].dtype == np.int32 and imu["health"].compression == "gzip" and f.attrs["schema_version"] == "4.0"
        assert imu.attrs["storage"] == "array" and imu.attrs["count"] == 50 and imu["health"].shape[0] >= 1
        assert cam.attrs["storage"] == "jpeg" and cam["index"].shape == (5, 2) and cam["data"].dtype == np.uint8
        assert "gaps" in imu and set(f["log"]) == {"data", "index", "timestamps"}


def test_samples_without_a_finite_timestamp_are_dropped_not_stored(tmp_path, make_acquisition):
    import numpy as np

    from sensorlab.acquisition.source import Chunk
    from sensorlab.session.reader import Session
    from sensorlab.session.recorder import Recorder

    from sensorlab.acquisition.emulated.signal import SignalSource

    acq = make_acquisition(SignalSource("imu", "timeseries", rate=100, shape=(2,)))
    with Recorder(acq, tmp_path / "nan.h5") as rec:
        t = np.array([1.0, 1.01, np.nan, 1.03, np.inf])
        rec._enqueue("imu", Chunk(np.arange(10, dtype=np.float32).reshape(5, 2), t))
    with Session.open(rec.path) as s:
        stored = s.streams["imu"].read_index(0, 10)
        np.testing.assert_array_equal(stored.timestamps, [1.0, 1.01, 1.03])
        np.testing.assert_array_equal(stored.data[:, 0], [0, 2, 6])


@pytest.mark.parametrize("compression", ["gzip", "lzf"])
def test_lossless_compression_reads_back_exactly_and_plain_h5py_sees_the_filter(make_session, compression):
    src = SignalSource("mic", kind="audio", shape=(2,), dtype="int16", rate=48000, chunk_size=480, pattern="sine", realtime=False,
                       max_samples=48000, scale=(1 / 32768,))  # fmt: skip
    path = make_session(src, compression=compression)
    k = np.arange(48000)
    with Session.open(path) as s:
        r = s.streams["mic"]
        np.testing.assert_array_equal(r.read_index(raw=True).data, src.expected(k))
        np.testing.assert_array_equal(r.timestamps, src.timestamps(k))
    with h5py.File(path, "r") as f:
        d = f["streams/mic/data"]
        assert d.compression == compression and d.shuffle
        assert d.id.get_storage_size() < d.size * d.dtype.itemsize  # it did compress (a sine)


def test_an_unknown_compression_is_refused_before_anything_is_written(tmp_path):
    from sensorlab.session.writer import SessionWriter

    with pytest.raises(ValueError, match=r"compression must be one of \[None, 'gzip', 'lzf'\], not 'zstd'"):
        SessionWriter(tmp_path / "x.h5", compression="zstd")
    assert not (tmp_path / "x.h5").exists()
