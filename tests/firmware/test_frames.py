"""The C device library's frames, decoded by the host's Python parser bit for bit.

`emit_frames` (firmware/tests/emit_frames.c) drives the C library from stdin commands and
prints what it wrote; every frame must equal what `sensorlab.acquisition.serial.binary`
itself would encode, and decode to the samples that went in.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from sensorlab.acquisition.serial.binary import (
    DESCRIPTION_HEADER,
    TYPE_DESCRIPTION,
    VERSION,
    BinaryParser,
    encode_data,
    encode_request,
    frame,
)
from sensorlab.acquisition.serial.description import (
    CODE_OF_DTYPE,
    DeviceDescription,
    StreamDescription,
)


def _emit(build, commands: list[str]) -> list[bytes]:
    proc = subprocess.run([str(build / "emit_frames")], input="\n".join(commands) + "\n", check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(commands)
    for line in lines:
        assert not line.startswith("error"), line
    return [bytes.fromhex(line) for line in lines]


def _data_command(sid: int, samples: np.ndarray, seq: int, t_us: int) -> str:
    shape = samples.shape[1:] + (0,) * (3 - samples.ndim)
    payload = samples.astype(samples.dtype.newbyteorder("<")).tobytes().hex()
    code = CODE_OF_DTYPE[samples.dtype.name]
    return f"data {sid} {code} {shape[0]} {shape[1]} {seq} {t_us} {len(samples)} {payload or '00'}"


def _random_samples(rng, dtype: str, n: int, shape: tuple[int, ...]) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.normal(scale=1e3, size=(n, *shape)).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, size=(n, *shape), endpoint=True).astype(dt)


def test_data_frames_match_the_host_encoder_bit_for_bit(firmware_build):
    rng = np.random.default_rng(7)
    cases = []
    for dtype in CODE_OF_DTYPE:
        for shape in [(1,), (6,), (3, 5), (64, 32)]:
            for n in (1, 10):
                if n * np.prod(shape) * np.dtype(dtype).itemsize > 40_000:
                    continue
                sid = int(rng.integers(0, 256))
                seq, t_us = int(rng.integers(0, 2**32)), int(rng.integers(0, 2**32))
                cases.append((sid, _random_samples(rng, dtype, n, shape), seq, t_us))
    # Payloads whose packets end right at a 254-byte COBS block, with and without zeros.
    for n in range(115, 125):
        cases.append((1, np.full((n, 1), 0x0101, dtype="uint16"), 5, 0x01010101))
        cases.append((0, _random_samples(rng, "int16", n, (1,)), 0, 1))
    frames = _emit(firmware_build, [_data_command(*c) for c in cases])
    for (sid, samples, seq, t_us), got in zip(cases, frames, strict=True):
        assert got == encode_data(sid, seq, t_us, samples), (sid, samples.dtype, samples.shape, seq, t_us)
        desc = DeviceDescription("c", (StreamDescription(sid, "s", "frames", 100.0, samples.dtype.name, samples.shape[1:]),))
        (run,) = BinaryParser(desc).feed(got)
        np.testing.assert_array_equal(run.data, samples)
        assert run.device_times[0] == pytest.approx(t_us * 1e-6)


IMU = StreamDescription(0, "imu", "timeseries", 1000.0, "int16", (6,))


def test_sequence_and_device_time_wrap_around_without_a_loss(firmware_build):
    """seq and t_us both pass 2**32: the parser sees contiguous samples and a steady clock."""
    seq0, t0 = 2**32 - 25, 2**32 - 25_000
    commands = [
        _data_command(0, np.arange(10 * k, 10 * k + 10, dtype=np.int16)[:, None].repeat(6, 1), (seq0 + 10 * k) % 2**32, (t0 + 10_000 * k) % 2**32)
        for k in range(6)
    ]
    parser = BinaryParser(DeviceDescription("c", (IMU,)))
    runs = parser.feed(b"".join(_emit(firmware_build, commands)))
    data = np.concatenate([r.data for r in runs])
    times = np.concatenate([r.device_times for r in runs])
    np.testing.assert_array_equal(data[:, 0], np.arange(60))
    np.testing.assert_allclose(np.diff(times), 1e-3, atol=1e-9)
    assert times[0] == pytest.approx(t0 * 1e-6)
    assert (parser.counters.lost_samples, parser.counters.gaps, parser.counters.resets, parser.counters.parse_errors) == (0, 0, 0, 0)


def test_corrupt_bytes_are_counted_and_their_samples_reported_lost(firmware_build):
    commands = [_data_command(0, np.full((10, 6), k, dtype=np.int16), 10 * k, 10_000 * k) for k in range(20)]
    frames = _emit(firmware_build, ["begin"] + commands)
    assert frames[0] == b"\x00"  # the boot-time delimiter: flushes the host, is not an error
    rng = np.random.default_rng(3)
    corrupt = {3, 4, 11, 17}
    stream = bytearray(frames[0])
    for k, f in enumerate(frames[1:]):
        f = bytearray(f)
        if k in corrupt:
            i = int(rng.integers(1, len(f) - 1))  # not the delimiter: one frame spoiled, not two
            f[i] ^= int(rng.integers(1, 256))
            if f[i] == 0:
                f[i] = 0x5A
        stream += f
    parser = BinaryParser(DeviceDescription("c", (IMU,)))
    runs = parser.feed(bytes(stream))
    got = [int(r.data[0, 0]) for r in runs]
    assert got == [k for k in range(20) if k not in corrupt]
    assert parser.counters.parse_errors == len(corrupt)
    assert parser.counters.lost_samples == 10 * len(corrupt) and parser.counters.gaps == 3  # 3-4 is one gap
    assert parser.counters.errors_by_stream.get("imu", 0) + parser.counters.errors_by_stream.get("", 0) == len(corrupt)


EXPECTED = DeviceDescription(
    'emit_frames "test" device',
    (
        StreamDescription(0, "imu", "timeseries", 1000.0, "int16", (6,), ("ax", "ay", "az", "gx", "gy", "gz"),
                          ("g", "g", "g", "deg/s", "deg/s", "deg/s"), (0.000244140625,) * 3 + (0.0152587890625,) * 3),
        StreamDescription(1, "radar", "frames", 20.0, "float32", (64, 32), (), ("a.u.",)),
    ),
    firmware="0.1",
)  # fmt: skip


def test_describe_handshake_answers_with_a_description_the_host_accepts(firmware_build):
    request = encode_request()
    assert request.hex() == "07010292" "42ccb6" "00"  # the constant of docs/SERIAL-PROTOCOL.md 2.5
    # Noise, a cut-off frame and a corrupt request first: only the clean request is answered.
    bad = bytearray(request)
    bad[3] ^= 0x10
    noisy = b"U\x00" + request[:3] + bytes(bad)
    (nothing, answer) = _emit(firmware_build, [f"receive {noisy.hex()}", f"receive {request.hex()}"])
    assert nothing == b""
    parser = BinaryParser()
    parser.feed(answer)
    assert parser.description_error == ""
    assert parser.description_received == EXPECTED
    # Bit for bit: the host's own framing of the same JSON in 240-byte parts.
    frames = [f + b"\x00" for f in answer.split(b"\x00")[:-1]]
    text = b"".join(_body_parts(frames))
    parts = [text[i : i + 240] for i in range(0, len(text), 240)]
    assert len(parts) >= 2
    assert frames == [frame(DESCRIPTION_HEADER.pack(VERSION, TYPE_DESCRIPTION, i, len(parts)) + p) for i, p in enumerate(parts)]


def _body_parts(frames: list[bytes]) -> list[bytes]:
    from sensorlab.acquisition.serial.binary import unframe

    return [unframe(f[:-1])[4:] for f in frames]
