"""Write a session whose streams see the simulated world's claps with known timing errors.

For calibration tests and demos: every stream samples `World` (claps at known host times)
on its own sample grid (a random phase, as real devices start at unrelated moments), and
its timestamps are then shifted by ``offsets[stream]`` seconds — a camera whose frames are
stamped 37 ms late has ``offsets={"cam": 0.037}``. A clap-to-sync calibration must recover
exactly these offsets. The file is written through `SessionWriter`, so it is a genuine session.

Run: ``python -m sensorlab.session.synthetic_claps out.h5 --seconds 10 --offset cam=0.037``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from sensorlab.acquisition.emulated.world import World
from sensorlab.acquisition.source import IRREGULAR, Chunk, StreamInfo, StreamKind
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.writer import SessionWriter

#: Host time the recording starts (an arbitrary uptime).
T0 = 8000.0


def write_clap_session(
    path: str | Path,
    seconds: float = 10.0,
    offsets: dict[str, float] | None = None,
    *,
    audio_rate: int = 16000,
    imu_rate: float = 1000.0,
    fps: float = 30.0,
    radar_rate: float = 20.0,
    clap_interval: float = 1.37,
    seed: int = 1,
) -> Path:
    """Write streams ``mic``, ``imu``, ``cam``, ``radar`` (and ``labels``); returns the path.

    The world's claps are at ``T0 + clap_interval * (k + 0.5)``; the default interval is not a
    whole number of samples of any stream, so each clap falls at another phase of the sample
    grid, as with real claps.
    """
    offsets = dict(offsets or {})
    world = World(t0=T0, clap_interval=clap_interval, seed=seed)
    rng = np.random.default_rng(seed)
    streams = {
        "mic": StreamInfo("mic", StreamKind.AUDIO, audio_rate, channel_names=("ch0",), dtype="float32", sample_shape=(1,)),
        "imu": StreamInfo("imu", StreamKind.TIMESERIES, imu_rate, channel_names=("ax", "ay", "az", "gx", "gy", "gz"),
                          units=("g",) * 3 + ("deg/s",) * 3, dtype="float32", sample_shape=(6,)),
        "cam": StreamInfo("cam", StreamKind.VIDEO, fps, dtype="uint8", sample_shape=(24, 32, 3)),
        "radar": StreamInfo("radar", StreamKind.FRAMES, radar_rate, dtype="float32", sample_shape=(16, 8)),
        "labels": StreamInfo("labels", StreamKind.EVENTS, IRREGULAR, dtype="str"),
    }  # fmt: skip
    unknown = set(offsets) - set(streams)
    if unknown:
        raise ValueError(f"no stream {sorted(unknown)[0]!r} in a clap session; offsets can be given for: mic, imu, cam, radar")
    writer = SessionWriter(path, jpeg_quality=90)
    writer.on_start(streams, SessionMetadata(name=Path(path).stem, notes="synthetic clap session").stamped_start(T0))
    rates = {"mic": float(audio_rate), "imu": imu_rate, "cam": fps, "radar": radar_rate}
    for name, rate in rates.items():
        true_t = T0 + (rng.uniform(0, 1) + np.arange(int(seconds * rate) - 1)) / rate
        if name == "mic":
            data = world.audio(true_t)
        elif name == "imu":
            data = world.imu(true_t).astype(np.float32)
        elif name == "cam":
            level = np.array([world.brightness(t) for t in true_t])
            data = np.broadcast_to(np.clip(level, 0, 255).astype(np.uint8)[:, None, None, None], (len(true_t), 24, 32, 3)).copy()
        else:
            data = np.stack([world.radar(float(t), 16, 8) for t in true_t])
        stamped = true_t + offsets.get(name, 0.0)
        for i in range(0, len(stamped), max(1, int(rate))):  # ~1 s chunks, like a recording
            writer.on_chunk(name, Chunk(data[i : i + int(rate)], stamped[i : i + int(rate)]))
    writer.on_stop(
        {n: {"count": s.count, "first_time": s.first_time, "last_time": s.last_time} for n, s in writer.stores.items()},
        {"end_host_time": T0 + seconds, "duration": seconds, "complete": True, "stop_reason": "stopped"},
    )
    return Path(path)


def clap_times(seconds: float, clap_interval: float = 1.37) -> np.ndarray:
    """True host times of the claps in a session written by `write_clap_session`."""
    return World(t0=T0, clap_interval=clap_interval).clap_times(T0, T0 + seconds)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--offset", action="append", default=[], metavar="STREAM=SECONDS", help="e.g. cam=0.037 (repeatable)")
    args = p.parse_args(argv)
    offsets = {k: float(v) for k, v in (o.split("=", 1) for o in args.offset)}
    print(write_clap_session(args.out, args.seconds, offsets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
