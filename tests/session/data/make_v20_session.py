"""Write ``v20_session.h5.gz`` (+ ``v20_expected.json``: SHA-256 of every array that version's reader returned) with
the schema 2.0 code (``segments`` time runs, bit-exact; samples in the device's dtype with their
scale), before arrival times were kept to the microsecond (3.0). Kept so the fixture can be
rebuilt; run it with the *old* code on PYTHONPATH:

    PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/path/to/sensorlab-2.0 python tests/session/data/make_v20_session.py

The chunks imitate the real devices' hand-overs and clocks (deterministic, no devices needed):
an 8 kHz microphone (sample-count clock, 80-frame hand-overs, int16 PCM), a 1 kHz binary IMU
(µs device clock, 10-sample packets, int16 counts, one arrival per packet), a 100 Hz text IMU
(line-count clock, one arrival per line with jitter), a host-stamped camera and live labels,
written in the recorder's 0.1 s batches with a flush and health rows every 0.5 s.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from sensorlab.acquisition.clock import keep_increasing
from sensorlab.acquisition.source import IRREGULAR, Chunk, StreamInfo, StreamKind
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.reader import Session
from sensorlab.session.writer import SessionWriter

HERE = Path(__file__).parent
T0 = 81234.567891  # host clock at the start (time.monotonic-like)
SECONDS = 2.0


def streams() -> dict[str, StreamInfo]:
    return {
        "mic": StreamInfo("mic", StreamKind.AUDIO, 8000.0, ("ch0",), ("",), "int16", (1,), "emulated mic", True, scale=(1 / 32768,)),
        "imu": StreamInfo("imu", StreamKind.TIMESERIES, 1000.0, tuple("abcdef"), ("g",) * 6, "int16", (6,), "binary imu", True,
                          scale=(1 / 4096,) * 3 + (1 / 16.4,) * 3),
        "wrist": StreamInfo("wrist", StreamKind.TIMESERIES, 100.0, tuple("abcdef"), ("",) * 6, "float32", (6,), "text imu", True),
        "cam": StreamInfo("cam", StreamKind.VIDEO, 30.0, (), (), "uint8", (16, 24, 3), "camera"),
        "labels": StreamInfo("labels", StreamKind.EVENTS, IRREGULAR, dtype="str", device="live labels and markers"),
    }


def chunks(rng: np.random.Generator, seconds: float = SECONDS) -> list[tuple[str, Chunk]]:
    """Every stream's hand-overs, as the devices deliver them, in arrival order."""
    out: list[tuple[float, str, Chunk]] = []
    # Microphone: sample index / rate is the device clock, mapped with a small offset and drift.
    n, block = int(8000 * seconds), 80
    arrival = -np.inf  # reads come in order: an arrival is never before the previous one
    dev = np.arange(n) / 8000.0
    ts = T0 + 0.0213 + dev * (1 + 37e-6)
    pcm = (8000 * np.sin(np.arange(n) * 0.05)).astype(np.int16).reshape(-1, 1) + rng.integers(-3, 4, (n, 1)).astype(np.int16)
    for a in range(0, n, block):
        b = a + block
        arrival = max(arrival, ts[b - 1] + 0.002 + rng.exponential(0.003))
        out.append((arrival, "mic", Chunk(pcm[a:b], ts[a:b], dev[a:b], np.full(block, arrival))))
    # Binary IMU: µs device timestamps, packets of 10, host time = fit, never after the arrival.
    n = int(1000 * seconds)
    ticks = 5_000_000 + np.arange(n) * 1000
    dev = ticks * 1e-6
    counts = rng.integers(-2000, 2000, (n, 6)).astype(np.int16)
    last, arrival = -np.inf, -np.inf
    for a in range(0, n, 10):
        b = a + 10
        arrival = max(arrival, T0 + 0.05 + dev[b - 1] - dev[0] + 0.0008 + rng.exponential(0.002))
        offset = T0 + 0.05 - dev[0] + 1e-6 * (a // 500)  # the fit moves a little now and then
        t = keep_increasing(np.minimum(offset + dev[a:b] * (1 - 12e-6), arrival), last)
        last = float(t[-1])
        out.append((arrival, "imu", Chunk(counts[a:b], t, dev[a:b], np.full(10, arrival))))
    # Text IMU: one line per read mostly, the line index / nominal rate as device clock.
    n = int(100 * seconds)
    dev = np.arange(n) / 100.0
    values = rng.normal(size=(n, 6)).astype(np.float32)
    last, arrival = -np.inf, -np.inf
    i = 0
    while i < n:
        k = 1 if rng.random() < 0.7 else 2
        j = min(n, i + k)
        arrival = max(arrival, T0 + 0.1 + dev[j - 1] + 0.003 + rng.exponential(0.004))
        offset = T0 + 0.1 + 0.0001 * ((i // 37) % 3)  # the fit moves by 0.1 ms now and then
        t = keep_increasing(np.minimum(offset + dev[i:j], arrival), last)
        last = float(t[-1])
        out.append((arrival, "wrist", Chunk(values[i:j], t, dev[i:j], np.full(j - i, arrival))))
        i = j
    # Camera: stamped when the grab returns (jitter), no device clock.
    n = int(30 * seconds)
    grab = T0 + 0.2 + np.arange(n) / 30.0 + rng.normal(0, 0.002, n)  # 2 ms jitter: still in order
    for a in range(n):
        frame = np.full((1, 16, 24, 3), (a * 7) % 256, np.uint8)
        out.append((grab[a], "cam", Chunk(frame, grab[a : a + 1], None, grab[a : a + 1].copy())))
    for t, text in ((T0 + 1.0, '{"label": "wave", "type": "point"}'), (T0 + 2.0, '{"label": "clap", "type": "point"}')):
        out.append((t, "labels", Chunk(np.array([text], dtype=object), np.array([t]))))
    out.sort(key=lambda x: x[0])
    return [(name, c) for _, name, c in out]


def write(path: Path, time_layout: str = "segments", seconds: float = SECONDS, only: tuple[str, ...] = ()) -> None:
    """The chunks through `SessionWriter`, batched and flushed as the recorder does (``only``:
    just these streams)."""
    rng = np.random.default_rng(20)
    w = SessionWriter(path, jpeg_quality=80, time_layout=time_layout)
    w.on_start({k: v for k, v in streams().items() if not only or k in only}, SessionMetadata(name="v20"))
    pending: dict[str, list[Chunk]] = {}
    next_batch, next_flush = T0 + 0.1, T0 + 0.5
    from sensorlab.acquisition.buffers import concat_chunks

    def batch() -> None:
        for name, cs in pending.items():
            w.on_chunk(name, concat_chunks(cs))
        pending.clear()

    for name, c in chunks(rng, seconds):
        if only and name not in only:
            continue
        t = float(c.arrival_times[-1]) if c.arrival_times is not None else float(c.timestamps[-1])
        if t >= next_batch:
            batch()
            next_batch = t + 0.1
        if t >= next_flush:
            w.on_health(t, {n: (w.written(n).count, 0, 0, 0, 0) for n in w.stream_names})
            w.flush()
            next_flush = t + 0.5
        pending.setdefault(name, []).append(c)
    batch()
    w.on_stop({n: {"count": w.written(n).count} for n in w.stream_names}, {"complete": True, "stop_reason": "stopped"})


def stream_arrays(session: Session, health: bool = False) -> dict[str, np.ndarray]:
    """Every array an open `Session`'s reader returns, by ``STREAM/KEY``: the data (text and
    blobs as str / bytes), the counts as stored (``raw``), the timestamps, the device and arrival
    times where the stream has them, and with ``health`` its health rows (schema 3.0 on)."""
    out = {}
    for name, r in session.streams.items():
        c = r.read_index(decode=False)
        out[f"{name}/data"] = np.array([bytes(b) if isinstance(b, bytes) else str(b) for b in c.data]) if c.data.dtype == object else c.data
        out[f"{name}/raw"] = r.read_index(raw=True, decode=False).data if c.data.dtype != object else out[f"{name}/data"]
        out[f"{name}/timestamps"] = c.timestamps
        for k in ("device_times", "arrival_times"):
            if getattr(c, k) is not None:
                out[f"{name}/{k}"] = getattr(c, k)
        if health:
            out[f"{name}/health"] = r.health
    return out


def digest(a: np.ndarray) -> list:
    """An array's dtype, shape and SHA-256: equal digests are equal arrays, bit for bit."""
    return [str(a.dtype), list(a.shape), hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()]


def save_fixture(path: Path, schema: str, health: bool = False) -> None:
    """Turn ``path`` (written by this schema's code) into the fixture pair ``vNN_session.h5.gz``
    and ``vNN_expected.json`` (the digest of every array this code's reader returns)."""
    tag = "v" + schema.replace(".", "")
    with Session.open(path) as s:
        assert s.metadata.schema_version == schema, s.metadata.schema_version
        out = stream_arrays(s, health)
    digests = {k: digest(v) for k, v in out.items()}
    (HERE / f"{tag}_expected.json").write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    with open(path, "rb") as src, gzip.open(HERE / f"{tag}_session.h5.gz", "wb", 9) as dst:
        shutil.copyfileobj(src, dst)
    path.unlink()
    print(HERE / f"{tag}_session.h5.gz", file=sys.stderr)


def main() -> None:
    path = HERE / "v20_session.h5"
    path.unlink(missing_ok=True)
    write(path)
    save_fixture(path, "2.0")


if __name__ == "__main__":
    main()
