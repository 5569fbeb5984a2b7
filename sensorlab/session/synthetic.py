"""Write a synthetic session file straight through `SessionWriter`, fast, for tests and benchmarks.

Recording an hour in real time is not an option for a benchmark, and `SignalSource` in
fast mode still pays per-chunk thread hand-offs. This module generates the same kinds of
streams block by block (never holding a whole stream) and appends them with the writer, so
the file is a genuine session (same layout, footers, SWMR history) in seconds per hour.

Content, all seeded and a pure function of time, so it looks like something when labeled:

- ``cam``: video, tiny frames (default 48×64, JPEG) with a bright bar that moves during
  "activity" and a grey level that follows the activity;
- ``mic``: audio, noise floor plus tone bursts during activity;
- ``imu``: time series, slow sines plus a strong oscillation during activity;
- ``labels``: live-label events (start/stop JSON) around some activity bursts;
- ``predictions``: events with a predicted label every few seconds (optional).

Activity bursts: every ``period`` seconds one burst of ``period / 3`` seconds, offset by 1 s.

`write_streams` writes given samples the same way (a small session for a test, in one call).

Run: ``python -m sensorlab.session.synthetic out.h5 --seconds 60``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Generator, Iterable, Mapping
from pathlib import Path

import numpy as np

from sensorlab.acquisition.source import IRREGULAR, Chunk, StreamInfo, StreamKind
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.writer import SessionWriter

#: Host time of the first sample (an arbitrary uptime, like a real host clock).
T0 = 5000.0
LABELS = ("walk", "wave", "clap")


def activity(t: np.ndarray, period: float) -> np.ndarray:
    """0/1 activity envelope: a burst of ``period / 3`` s every ``period`` s, from 1 s on."""
    phase = np.mod(t - T0 - 1.0, period)
    return ((phase >= 0) & (phase < period / 3) & (t - T0 >= 1.0)).astype(np.float32)


def stop_writer(writer: SessionWriter, t_start: float, t_stop: float) -> None:
    """Close ``writer`` as a recording stopped by the user at host time ``t_stop`` would: every
    stream's footer (count, first and last time) and a complete, stopped session."""
    writer.on_stop(
        {n: {"count": s.count, "first_time": s.first_time, "last_time": s.last_time} for n, s in writer.stores.items()},
        {"end_host_time": t_stop, "duration": t_stop - t_start, "complete": True, "stop_reason": "stopped"},
    )


def write_streams(
    path: str | Path,
    streams: Mapping[str, tuple[StreamInfo, Chunk | Iterable[Chunk]]],
    *,
    start: float = T0,
    stop: float | None = None,
    name: str | None = None,
) -> Path:
    """Write a session holding exactly the given chunks and return its path.

    ``streams`` maps a stream name to its `StreamInfo` and one `Chunk` or several (appended in
    order, as a recording hands them over). The session starts at host time ``start`` and
    stops at ``stop`` (default: the last sample of any stream).
    """
    writer = SessionWriter(path)
    writer.on_start({n: info for n, (info, _) in streams.items()},
                    SessionMetadata(name=name or Path(path).stem).stamped_start(start))
    last = start
    for n, (_, chunks) in streams.items():
        for chunk in [chunks] if isinstance(chunks, Chunk) else chunks:
            writer.on_chunk(n, chunk)
            if len(chunk):
                last = max(last, float(chunk.timestamps[-1]))
    stop_writer(writer, start, last if stop is None else stop)
    return Path(path)


def write_synthetic_session(
    path: str | Path,
    seconds: float = 60.0,
    *,
    audio_rate: int = 48000,
    audio_channels: int = 2,
    imu_rate: int = 1000,
    imu_channels: int = 6,
    fps: float = 30.0,
    frame_shape: tuple[int, int] = (48, 64),
    period: float = 12.0,
    predictions: bool = True,
    block_s: float = 10.0,
    tags: dict[str, str] | None = None,
    time_layout: str = "compact",
) -> Path:
    """Write the session and return its path (see the module docstring for the content)."""
    for _ in iter_write_synthetic_session(
        path, seconds, audio_rate=audio_rate, audio_channels=audio_channels, imu_rate=imu_rate,
        imu_channels=imu_channels, fps=fps, frame_shape=frame_shape, period=period,
        predictions=predictions, block_s=block_s, tags=tags, time_layout=time_layout,
    ):
        pass
    return Path(path)


def iter_write_synthetic_session(
    path: str | Path,
    seconds: float,
    *,
    audio_rate: int,
    audio_channels: int,
    imu_rate: int,
    imu_channels: int,
    fps: float,
    frame_shape: tuple[int, int],
    period: float,
    predictions: bool,
    block_s: float,
    tags: dict[str, str] | None = None,
    time_layout: str = "compact",
) -> Generator[float, None, None]:
    """`write_synthetic_session`, yielding progress in [0, 1] after each block."""
    h, w = frame_shape
    streams = {
        "cam": StreamInfo("cam", StreamKind.VIDEO, fps, dtype="uint8", sample_shape=(h, w, 3)),
        "mic": StreamInfo("mic", StreamKind.AUDIO, audio_rate, channel_names=tuple(f"ch{i}" for i in range(audio_channels)),
                          dtype="float32", sample_shape=(audio_channels,)),
        "imu": StreamInfo("imu", StreamKind.TIMESERIES, imu_rate,
                          channel_names=("ax", "ay", "az", "gx", "gy", "gz")[:imu_channels] if imu_channels <= 6 else tuple(f"c{i}" for i in range(imu_channels)),
                          units=("g",) * imu_channels, dtype="float32", sample_shape=(imu_channels,)),
        "labels": StreamInfo("labels", StreamKind.EVENTS, IRREGULAR, dtype="str"),
    }
    if predictions:
        streams["predictions"] = StreamInfo("predictions", StreamKind.EVENTS, IRREGULAR, dtype="str")
    writer = SessionWriter(path, jpeg_quality=80, time_layout=time_layout)
    meta = SessionMetadata(name=Path(path).stem, notes="synthetic session", tags=dict(tags or {})).stamped_start(T0)
    writer.on_start(streams, meta)
    rng = np.random.default_rng(7)
    counts = {"cam": 0, "mic": 0, "imu": 0}
    rates = {"cam": fps, "mic": float(audio_rate), "imu": float(imu_rate)}
    n_total = {k: int(round(seconds * r)) for k, r in rates.items()}
    freqs = 0.3 + 0.2 * np.arange(imu_channels)
    t_block = 0.0
    while t_block < seconds:
        t_end = min(seconds, t_block + block_s)
        for name in ("mic", "imu", "cam"):
            r = rates[name]
            k0, k1 = counts[name], min(n_total[name], int(round(t_end * r)))
            if k1 <= k0:
                continue
            ts = T0 + np.arange(k0, k1) / r
            act = activity(ts, period)
            if name == "mic":
                tone = np.sin(2 * np.pi * 440.0 * (ts - T0)).astype(np.float32)
                x = 0.01 * rng.standard_normal((k1 - k0, audio_channels), dtype=np.float32)
                x += (0.5 * act * tone)[:, None] * (1.0 - 0.3 * np.arange(audio_channels, dtype=np.float32))
            elif name == "imu":
                tt = (ts - T0)[:, None]
                x = (0.3 * np.sin(2 * np.pi * freqs * tt) + act[:, None] * np.sin(2 * np.pi * 3.0 * tt + np.arange(imu_channels))).astype(np.float32)
                x += 0.02 * rng.standard_normal(x.shape, dtype=np.float32)
            else:
                x = np.empty((k1 - k0, h, w, 3), dtype=np.uint8)
                x[:] = (40 + 120 * act).astype(np.uint8)[:, None, None, None]
                cols = ((ts - T0) * 20.0 * (0.2 + act)).astype(np.int64) % w
                for i, c in enumerate(cols):  # a moving bright bar: scrubbing shows motion
                    x[i, :, max(0, c - 2) : c + 2] = (230, 200, 60)
            writer.on_chunk(name, Chunk(x, ts))
            counts[name] = k1
        writer.flush()
        t_block = t_end
        yield t_block / seconds
    # Live labels around every other burst (start/stop), and a point clap in the others.
    ev_t, ev_x = [], []
    for i, start in enumerate(np.arange(T0 + 1.0, T0 + seconds, period)):
        lab = LABELS[i % len(LABELS)]
        if i % 2 == 0 and start + period / 3 < T0 + seconds:
            ev_t += [start + 0.05, start + period / 3 - 0.05]
            ev_x += [json.dumps({"label": lab, "type": "start"}), json.dumps({"label": lab, "type": "stop"})]
        else:
            ev_t.append(start + 0.5)
            ev_x.append(json.dumps({"label": "clap", "type": "point"}))
    if ev_t:
        writer.on_chunk("labels", Chunk(np.array(ev_x, dtype=object), np.array(ev_t)))
    if predictions:
        pt = T0 + np.arange(2.0, seconds, 2.0)
        act = activity(pt, period)
        px = [json.dumps({"label": LABELS[int(t // period) % len(LABELS)] if a else "idle", "score": round(0.6 + 0.3 * float(a), 2)})
              for t, a in zip(pt - T0, act)]
        if len(pt):
            writer.on_chunk("predictions", Chunk(np.array(px, dtype=object), pt))
    stop_writer(writer, T0, T0 + seconds)
    yield 1.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--seconds", type=float, default=60.0)
    args = p.parse_args(argv)
    write_synthetic_session(args.out, args.seconds)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
