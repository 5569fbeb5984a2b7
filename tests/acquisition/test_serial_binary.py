"""Binary protocol: framing, data packets, self-description, sequence gaps, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensorlab.acquisition.serial.binary import (
    BinaryParser,
    crc32,
    encode_data,
    encode_description,
    encode_request,
    unframe,
)
from sensorlab.acquisition.serial.description import (
    DTYPE_CODES,
    DescriptionError,
    DeviceDescription,
    StreamDescription,
)
from sensorlab.acquisition.source import StreamKind

IMU = StreamDescription(0, "imu", "timeseries", 1000.0, "int16", (3,), ("x", "y", "z"), ("g",), (0.5,))
RADAR = StreamDescription(7, "radar", "frames", 20.0, "float32", (64, 32), (), ("a.u.",))
DEVICE = DeviceDescription("test board", (IMU, RADAR))

#: The worked example of docs/SERIAL-PROTOCOL.md (keep both in sync).
DOC_EXAMPLE_HEX = "0301010404e8030106cdbb0c01020203020104feff03026402c807d4fe24da646500"


def _decode(parser, blob):
    out = parser.feed(blob)
    return {s: [r for r in out if r.stream == s] for s in {r.stream for r in out}}


def test_crc_is_crc32_iso_hdlc():
    assert crc32(b"123456789") == 0xCBF43926


def test_documented_example_frame():
    frame = encode_data(0, 1000, 0x010CBBCD, np.array([[1, -2, 3], [100, 200, -300]], dtype=np.int16))
    assert frame.hex() == DOC_EXAMPLE_HEX
    p = BinaryParser(DeviceDescription("doc", (StreamDescription(0, "imu", "timeseries", 100.0, "int16", (3,)),)))
    (run,) = p.feed(bytes.fromhex(DOC_EXAMPLE_HEX))
    assert run.data.tolist() == [[1, -2, 3], [100, 200, -300]]
    np.testing.assert_allclose(run.device_times, [17.611725, 17.621725], atol=1e-9)


def test_request_is_constant_and_decodable():
    req = encode_request()
    assert req.endswith(b"\x00") and b"\x00" not in req[:-1]
    assert unframe(req[:-1]) == bytes((1, 2))


@pytest.mark.parametrize("dtype", list(DTYPE_CODES.values()), ids=list(DTYPE_CODES.values()))
def test_round_trip_every_dtype(dtype):
    desc = DeviceDescription("d", (StreamDescription(3, "s", "timeseries", 100.0, dtype, (4,)),))
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    raw = rng.integers(info.min, info.max, size=(5, 4), endpoint=True).astype(dtype) if info else rng.normal(size=(5, 4)).astype(dtype)
    p = BinaryParser(desc)
    (run,) = p.feed(encode_data(3, 0, 0, raw))
    assert run.data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(run.data, raw)
    assert desc.streams[0].to_info().dtype == dtype


def test_scale_gives_float32_physical_units_and_frames_keep_shape():
    p = BinaryParser(DEVICE)
    imu = np.array([[2, -4, 6]] * 10, dtype=np.int16)
    radar = np.arange(64 * 32, dtype=np.float32).reshape(1, 64, 32)
    runs = _decode(p, encode_data(0, 0, 5_000_000, imu) + encode_data(7, 0, 5_000_000, radar))
    assert runs["imu"][0].data.dtype == np.float32
    np.testing.assert_array_equal(runs["imu"][0].data[0], [1, -2, 3])
    np.testing.assert_allclose(runs["imu"][0].device_times, 5.0 + np.arange(10) / 1000)
    np.testing.assert_array_equal(runs["radar"][0].data, radar)
    infos = [s.to_info("dev") for s in DEVICE.streams]
    assert infos[0].kind == StreamKind.TIMESERIES and infos[0].sample_shape == (3,)
    assert infos[1].kind == StreamKind.FRAMES and infos[1].sample_shape == (64, 32)


def test_info_keeps_the_wire_counts_with_their_scale():
    """What `SerialSource` records: the int16 counts as sent, the scale in the StreamInfo."""
    p = BinaryParser(DEVICE, apply_scale=False)
    imu = np.array([[2, -4, 6]] * 10, dtype=np.int16)
    (run,) = p.feed(encode_data(0, 0, 5_000_000, imu))
    info = DEVICE.streams[0].to_info("dev")
    assert run.data.dtype == np.int16 and info.dtype == "int16" and info.scale == (0.5,)
    np.testing.assert_array_equal(run.data, imu)
    # Physical values are exactly what the parser's own scaling (what sensorlab recorded before) gives.
    np.testing.assert_array_equal(info.to_physical(run.data), BinaryParser(DEVICE).feed(encode_data(0, 0, 5_000_000, imu))[0].data)
    assert info.physical().dtype == "float32" and not info.physical().scaled
    # apply_scale=False in the rig: counts everywhere, no scale.
    assert not DEVICE.streams[0].to_info("dev", apply_scale=False).scaled


def test_sequence_gaps_count_lost_samples_and_resets_do_not():
    p = BinaryParser(DEVICE)
    x = np.zeros((10, 3), dtype=np.int16)
    seqs = [0, 10, 40, 50, 0, 10]  # 20 samples lost; then the device restarts
    runs = []
    for s in seqs:
        runs += p.feed(encode_data(0, s, s * 1000, x))
    assert len(runs) == 4 and p.awaiting_description, "after the restart, packets wait for the description"
    for packet in encode_description(DEVICE):  # the board answers the host's DESCRIBE: unchanged
        runs += p.feed(packet)
    assert [r.lost_before for r in runs] == [0, 0, 20, 0, 0, 0]
    assert [r.restarted for r in runs] == [False] * 4 + [True, False]
    assert p.counters.lost_samples == 20 and p.counters.gaps == 1 and p.counters.resets == 1


def test_sequence_and_time_wrap_around():
    p = BinaryParser(DEVICE)
    x = np.zeros((10, 3), dtype=np.int16)
    t0 = 2**32 - 5000  # micros() is about to wrap
    runs = [p.feed(encode_data(0, (2**32 - 10 + 10 * k) % 2**32, (t0 + 10_000 * k) % 2**32, x))[0] for k in range(3)]
    assert p.counters.lost_samples == 0 and p.counters.resets == 0
    starts = [r.device_times[0] for r in runs]
    np.testing.assert_allclose(np.diff(starts), [0.01, 0.01])


def test_description_round_trip_in_parts():
    p = BinaryParser()
    for packet in encode_description(DEVICE, max_part=40):
        assert not p.feed(packet)
    assert p.description_received == DEVICE
    assert len(encode_description(DEVICE, max_part=40)) > 3


def test_data_before_description_is_skipped_not_an_error():
    p = BinaryParser()
    assert p.feed(encode_data(0, 0, 0, np.zeros((1, 3), np.int16))) == []
    assert p.counters.skipped == 1 and p.counters.parse_errors == 0


@pytest.mark.parametrize(
    "bad, match",
    [
        ('{"streams": []}', "non-empty"),
        ('{"streams": [{"id": 1, "name": "a", "dtype": "int16"}]}', "shape"),
        ('{"streams": [{"id": 1, "name": "a", "dtype": "int12", "shape": [3]}]}', "dtype"),
        ('{"streams": [{"id": 1, "name": "a", "dtype": "int16", "shape": [3], "channels": ["x"]}]}', "channel names"),
        ('{"streams": [{"id": 1, "name": "a", "dtype": "int16", "shape": [3], "scale": [1, 2]}]}', "scale"),
        ('{"streams": [{"id": 300, "name": "a", "dtype": "int16", "shape": [3]}]}', "byte"),
        ("not json", "JSON"),
    ],
    ids=["empty", "no-shape", "dtype", "channels", "scale", "id", "json"],
)
def test_bad_descriptions_are_explained(bad, match):
    with pytest.raises(DescriptionError, match=match):
        DeviceDescription.from_json(bad)


def test_wrong_shape_or_dtype_is_a_parse_error_of_that_stream():
    p = BinaryParser(DEVICE)
    p.feed(encode_data(0, 0, 0, np.zeros((2, 4), np.int16)))  # 4 values, described as 3
    p.feed(encode_data(0, 0, 0, np.zeros((2, 3), np.int32)))  # wrong dtype
    assert p.awaiting_description, "a packet its description does not fit: other firmware?"
    for packet in encode_description(DEVICE):  # no: the same description; a firmware bug
        p.feed(packet)
    p.feed(encode_data(0, 0, 0, np.zeros((2, 4), np.int16)))  # checked once: an error from now on
    assert p.counters.parse_errors == 3 and p.counters.errors_by_stream == {"imu": 3}
    assert not p.awaiting_description and not p.changed


def test_a_board_that_restarts_with_another_scale_drops_that_stream_and_keeps_the_others():
    import dataclasses

    imu, temp = DEVICE.streams[0], StreamDescription(1, "temp", "timeseries", 10.0, "int16", (1,), ("t",), ("degC",), (0.01,))
    old = dataclasses.replace(DEVICE, streams=(imu, temp))
    p = BinaryParser(old)
    x, t = np.ones((10, 3), np.int16), np.ones((1, 1), np.int16)
    before = p.feed(encode_data(0, 0, 0, x) + encode_data(1, 0, 0, t) + encode_data(1, 1, 100_000, t))
    assert [r.stream for r in before] == ["imu", "temp", "temp"]
    # Reboot into firmware that reads the temperature in 0.1 degree steps: its counts now mean
    # ten times as much. Parsed under the old description, they would be stored 10x too small.
    new = dataclasses.replace(old, streams=(imu, dataclasses.replace(temp, scale=(0.1,))), firmware="2.0")
    after = p.feed(encode_data(1, 0, 50_000, t) + encode_data(0, 0, 60_000, x))
    assert after == [] and p.awaiting_description
    for packet in encode_description(new):
        after += p.feed(packet)
    assert p.changed == {"temp": "scale [0.01] → [0.1]"}
    assert [r.stream for r in after] == ["imu"] and after[0].restarted
    assert not p.feed(encode_data(1, 1, 150_000, t)), "the changed stream is not parsed any more"
    assert [r.stream for r in p.feed(encode_data(0, 10, 70_000, x))] == ["imu"]


def _valid_frames(n):
    x = np.arange(30, dtype=np.int16).reshape(10, 3)
    return [encode_data(0, 10 * k, 1000 * k, x) for k in range(n)]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(1, 97), max_size=10))
def test_random_bytes_never_raise(blob, cuts):
    p = BinaryParser(DEVICE)
    pos = 0
    for c in [*cuts, len(blob)]:
        for r in p.feed(blob[pos : pos + c]):
            assert r.stream in ("imu", "radar")
        pos += c


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=8), st.integers(1, 200))
def test_valid_frames_around_garbage_are_decoded(garbage, chunk):
    frames = _valid_frames(len(garbage))
    # Each garbage run ends at a delimiter, as any corruption does at the next frame end.
    blob = b"".join(g + b"\x00" + f for g, f in zip(garbage, frames, strict=True))
    p = BinaryParser(DEVICE)
    runs = []
    for k in range(0, len(blob), chunk):
        runs += p.feed(blob[k : k + chunk])
    assert len(runs) == len(frames)
    assert p.counters.units == len(frames)
    assert all(r.lost_before == 0 for r in runs)
    pieces = sum(len([s for s in (g + b"\x00").split(b"\x00")[:-1] if s]) for g in garbage)
    assert p.counters.parse_errors == pieces


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 4), st.data())
def test_truncated_or_corrupted_frames_are_counted_and_skipped(victim, data):
    frames = _valid_frames(5)
    bad = bytearray(frames[victim])
    if data.draw(st.booleans(), label="truncate"):
        bad = bad[: data.draw(st.integers(0, len(bad) - 2), label="cut")] + b"\x00"
    else:
        i = data.draw(st.integers(0, len(bad) - 2), label="index")
        bad[i] ^= data.draw(st.integers(1, 255), label="xor")
    frames[victim] = bytes(bad)
    p = BinaryParser(DEVICE)
    runs = p.feed(b"".join(frames))
    assert len(runs) == 4
    assert p.counters.parse_errors >= (1 if len(bad) > 1 else 0)
    # Losing the first frame shows no gap (nothing to compare with), nor does the last yet.
    assert p.counters.lost_samples == (10 if 0 < victim < 4 else 0)


def test_a_restarted_board_restarts_its_clock_whatever_its_uptime_was():
    """Its seq and µs clock restart at 0. Unwrapped as a step of the old clock, 2.4e9 µs (40 min
    of uptime) back to 0.3 s read as 31.6 minutes *ahead* (the signed 32-bit difference)."""
    from sensorlab.acquisition.serial.description import DeviceDescription, StreamDescription

    desc = DeviceDescription("d", (StreamDescription(0, "imu", "timeseries", 100.0, "int16", (1,)),))
    p = BinaryParser(desc)
    one = np.zeros((1, 1), "int16")
    before = p.feed(encode_data(0, 100, 2_400_000_000, one))[0]
    assert not p.feed(encode_data(0, 0, 300_000, one))  # held until the description is compared
    (after,) = [r for packet in encode_description(desc) for r in p.feed(packet)]
    assert before.device_times[0] == 2400.0 and not before.restarted
    assert after.device_times[0] == 0.3 and after.restarted and after.lost_before == 0
