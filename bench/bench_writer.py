"""Recorder write rate vs. bare h5py appends of the same chunks, side by side in one run.

Claim measured: the Recorder (lossless queue → writer thread → batched SWMR appends, JPEG
video, health rows, flushes every 0.5 s, footers) writes at least 0.9× as fast as the
simplest possible h5py loop that appends the very same chunks (one resize + write per chunk
and dataset, no SWMR, no flushes), per stream and for the whole rig mix.

Mix: 48 kHz stereo int16 audio in 480-frame blocks, 1 kHz × 6 IMU in 10-sample chunks,
64×32 int16 radar maps at 20 Hz, 640×480 camera frames at 30 fps stored as JPEG (q90), and a
100 Hz × 6 text IMU, one line per chunk. The chunks carry the raw clocks the devices give (a
sample-count or µs device time, one arrival time per hand-over, jittery per text line), which
the recorder stores and the bare loop does not: the comparison is against the cheapest file,
not an equal one.

Wall-clock rates on a shared machine move with its load, so each row also gives the CPU time
(``time.process_time``: both sides run in this process, one case at a time) per second of rig
data and its ratio, which barely moves with load.

Run: ``.venv/bin/python bench/bench_writer.py [--seconds 10] [--layout compact|segments|samples]``.
``--paced`` replays the mix at the rig's pace instead and prints the writer thread's CPU per
second of rig data: the recorder's cost while a rig records (its batches and flushes as a
rig's pace makes them, not a flood's), load-independent enough to compare code changes.
``run()`` returns rows ``{"benchmark", "value", "baseline", "ratio", "goal"}`` (value/baseline
in samples per second).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
from pathlib import Path

import cv2
import h5py
import numpy as np

from sensorlab.acquisition.emulated.world import World
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.source import Chunk, SourceBase, StreamInfo, StreamKind
from sensorlab.session import format as fmt
from sensorlab.session.recorder import Recorder

GOAL = 0.9
JPEG_QUALITY = 90

DESCRIPTIONS = {
    "audio": "audio 48 kHz stereo in 480-frame blocks",
    "imu": "IMU 1 kHz × 6 in 10-sample chunks",
    "radar": "radar 64×32 maps @ 20 Hz",
    "video": "video 640×480 @ 30 as JPEG q90",
    "text": "text IMU 100 Hz × 6, a line per chunk",
    "mix (all five)": "all five together",
}

#: In the dtype the devices deliver (schema 2.0): int16 PCM, int16 IMU counts and radar maps, each
#: with its scale; both the recorder and the bare-h5py loop write these int16 chunks.
IMU_SCALE = (8 / 32768,) * 3 + (500 / 32768,) * 3
STREAMS = {
    "audio": (StreamInfo("audio", StreamKind.AUDIO, 48000, ("l", "r"), dtype="int16", sample_shape=(2,), scale=(1 / 32768,)), 480),
    "imu": (StreamInfo("imu", StreamKind.TIMESERIES, 1000, ("ax", "ay", "az", "gx", "gy", "gz"), dtype="int16", sample_shape=(6,), scale=IMU_SCALE), 10),
    "radar": (StreamInfo("radar", StreamKind.FRAMES, 20, dtype="int16", sample_shape=(64, 32), scale=(1e-3,)), 1),
    "video": (StreamInfo("video", StreamKind.VIDEO, 30, ("b", "g", "r"), dtype="uint8", sample_shape=(480, 640, 3)), 1),
    "text": (StreamInfo("text", StreamKind.TIMESERIES, 100, tuple("abcdef"), dtype="float32", sample_shape=(6,), has_device_time=True), 1),
}


def make_chunks(names: list[str], seconds: float) -> list[tuple[str, Chunk]]:
    """The chunks a rig would deliver in ``seconds``, interleaved in arrival order."""
    w = World(t0=0.0, clap_interval=2.0)
    rng = np.random.default_rng(0)
    # 30 distinct camera-like (noisy) frames, reused: keeps memory small, JPEG cost realistic.
    frames = [np.clip(w.video_frame(i / 30) + rng.normal(0, 3, (480, 640, 3)), 0, 255).astype(np.uint8) for i in range(30)]
    out: list[tuple[float, str, Chunk]] = []
    for name in names:
        info, size = STREAMS[name]
        n = int(seconds * info.nominal_rate)
        for k0 in range(0, n, size):
            t = (np.arange(k0, min(n, k0 + size))) / info.nominal_rate
            if name == "audio":
                data = np.clip(np.round(w.audio(t, 2) * 32768.0), -32768, 32767).astype(np.int16)
            elif name == "imu":
                data = np.clip(np.round(w.imu(t) / np.asarray(IMU_SCALE)), -32768, 32767).astype(np.int16)
            elif name == "radar":
                data = np.clip(np.round(w.radar(float(t[0]))[None] / 1e-3), -32768, 32767).astype(np.int16)
            elif name == "text":
                data = w.imu(t).astype(np.float32)
            else:
                data = frames[(k0 // size) % len(frames)][None]
            # Raw clocks as the devices give them: a device time per sample, one arrival per
            # hand-over (after the transport's jitter); the camera is stamped at the grab.
            arrival = float(t[-1]) + 0.001 + rng.exponential(0.002)
            dev = t if name != "video" else None
            out.append((float(t[-1]), name, Chunk(data, t, dev, np.full(len(t), arrival))))
    out.sort(key=lambda x: x[0])
    return [(name, c) for _, name, c in out]


def bare_h5py(path: Path, chunks: list[tuple[str, Chunk]], compression: str | None = None) -> tuple[float, float]:
    """Seconds (wall, CPU) for the simplest h5py loop: one resize + write per chunk and dataset
    (with the same filter as the recorder's sample arrays when ``compression`` is given)."""
    t0, c0 = time.perf_counter(), time.process_time()
    with h5py.File(path, "w", libver="latest") as f:
        ds = {}
        for name in {n for n, _ in chunks}:
            info, _ = STREAMS[name]
            g = f.create_group(name)
            ts = g.create_dataset("timestamps", (0,), "f8", maxshape=(None,), chunks=(fmt.chunk_rows(8, info.nominal_rate, 256),))
            if info.kind is StreamKind.VIDEO:
                data = g.create_dataset("data", (0,), "u1", maxshape=(None,), chunks=(fmt.BLOB_CHUNK,))
                index = g.create_dataset("index", (0, 2), "i8", maxshape=(None, 2), chunks=(256, 2))
            else:
                row = int(np.prod(info.sample_shape)) * np.dtype(info.dtype).itemsize
                data = g.create_dataset("data", (0, *info.sample_shape), info.dtype, maxshape=(None, *info.sample_shape),
                                        chunks=(fmt.chunk_rows(row, info.nominal_rate), *info.sample_shape), **fmt.COMPRESSIONS[compression])
                index = None
            ds[name] = (data, ts, index)
        params = [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
        for name, c in chunks:
            data, ts, index = ds[name]
            if index is not None:
                for frame in c.data:
                    buf = cv2.imencode(".jpg", frame, params)[1]
                    n0 = data.shape[0]
                    data.resize(n0 + len(buf), axis=0)
                    data[n0:] = buf
                    i = index.shape[0]
                    index.resize(i + 1, axis=0)
                    index[i] = (n0, len(buf))
            else:
                n0 = data.shape[0]
                data.resize(n0 + len(c), axis=0)
                data[n0:] = c.data
            n0 = ts.shape[0]
            ts.resize(n0 + len(c), axis=0)
            ts[n0:] = c.timestamps
    return time.perf_counter() - t0, time.process_time() - c0


class _Replay(SourceBase):
    """Emits pre-made chunks as fast as possible from one device thread."""

    def __init__(self, chunks: list[tuple[str, Chunk]]):
        super().__init__("replay")
        self._chunks = chunks
        self.done = threading.Event()

    def _open(self) -> None:
        self.streams = tuple(STREAMS[n][0] for n in sorted({n for n, _ in self._chunks}))

    def _start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        for name, c in self._chunks:
            self._emit(name, c, 0.0)
        self.done.set()

    def _stop(self) -> None:
        self.done.wait()


def recorder(path: Path, chunks: list[tuple[str, Chunk]], compression: str | None = None, layout: str = "compact") -> tuple[float, float]:
    """Seconds (wall, CPU) from the first chunk to `Recorder.stop` returning (file closed, footers written)."""
    src = _Replay(chunks)
    acq = Acquisition([src])
    acq.open()
    rec = Recorder(acq, path, jpeg_quality=JPEG_QUALITY, compression=compression, time_layout=layout)
    rec.start()
    t0, c0 = time.perf_counter(), time.process_time()
    acq.start()
    src.done.wait()
    rec.stop()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    acq.close()
    return dt, cpu


class _PacedReplay(_Replay):
    """Emits the chunks at the pace a rig delivers them (each at its last sample's time + its
    transport latency), so the recorder batches and flushes as it does while recording a rig."""

    def _run(self) -> None:
        t0 = time.perf_counter()
        for name, c in self._chunks:
            delay = t0 + float(c.arrival_times[-1]) - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self._emit(name, c, 0.0)
        self.done.set()


def paced(seconds: float = 20.0, layout: str = "compact") -> dict:
    """The writer thread's CPU per second of rig data while the mix arrives in real time.

    A flood (`recorder`) fills large batches; a rig fills one batch per `BATCH_INTERVAL`, and
    the writer's fixed cost per batch, column and flush is what the studio pays while recording.
    The same chunks every run: the CPU time barely moves with the machine's load (wall time does
    not matter here). Returns ``{"writer_cpu_ms_per_s", "process_cpu_ms_per_s", "batches_per_s"}``
    (the writer thread's CPU from the start to the last chunk's arrival, the file's close excluded).
    """
    logging.getLogger("sensorlab.session.recorder").setLevel(logging.ERROR)
    chunks = make_chunks(list(STREAMS), seconds)
    with tempfile.TemporaryDirectory() as tmp:
        src = _PacedReplay(chunks)
        acq = Acquisition([src])
        acq.open()
        rec = Recorder(acq, Path(tmp) / "paced.h5", jpeg_quality=JPEG_QUALITY, time_layout=layout)
        rec.start()
        writer = next(th for th in threading.enumerate() if th.name == "recorder-writer")
        clock = time.pthread_getcpuclockid(writer.ident)
        appends = [0]
        on_chunk = rec._writer.on_chunk

        def counted(name, chunk):  # the writer's appends of batches (one per stream and batch)
            appends[0] += 1
            return on_chunk(name, chunk)

        rec._writer.on_chunk = counted
        c0, p0, w0 = time.clock_gettime(clock), time.process_time(), time.perf_counter()
        acq.start()
        src.done.wait()
        time.sleep(0.05)
        c1, p1, w1 = time.clock_gettime(clock), time.process_time(), time.perf_counter()
        rec.stop()
        acq.close()
    return {"writer_cpu_ms_per_s": 1e3 * (c1 - c0) / seconds, "process_cpu_ms_per_s": 1e3 * (p1 - p0) / seconds,
            "batches_per_s": appends[0] / seconds, "wall_s": w1 - w0}


def run(seconds: float = 10.0, compression: str | None = None, layout: str = "compact") -> list[dict]:
    """Per-stream and whole-mix rows; value/baseline are samples written per second."""
    # The replay floods the queue on purpose; the recorder's "falling behind" warning is expected.
    logging.getLogger("sensorlab.session.recorder").setLevel(logging.ERROR)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, names in [(n, [n]) for n in STREAMS] + [("mix (all five)", list(STREAMS))]:
            chunks = make_chunks(names, seconds)
            samples = sum(len(c) for _, c in chunks)
            bare, bare_cpu = bare_h5py(Path(tmp) / f"bare-{len(rows)}.h5", chunks, compression)
            rec, rec_cpu = recorder(Path(tmp) / f"rec-{len(rows)}.h5", chunks, compression, layout)
            rows.append({
                "cpu_ms_per_s": rec_cpu / seconds * 1e3,  # recorder CPU per second of rig data
                "bare_cpu_ms_per_s": bare_cpu / seconds * 1e3,
                "cpu_ratio": bare_cpu / rec_cpu,
                "benchmark": f"recorder write rate ÷ bare h5py, {DESCRIPTIONS[label]}{', ' + compression if compression else ''} (samples/s)",
                "value": samples / rec,
                "baseline": samples / bare,
                "ratio": bare / rec,
                "goal": f">= {GOAL}",
                "goal_ratio": GOAL,
                "realtime_x": seconds / rec,  # how many times faster than the rig produces it
            })
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds of rig data per case")
    ap.add_argument("--compression", choices=["gzip", "lzf"], help="lossless filter on sample arrays (both sides)")
    ap.add_argument("--layout", default="compact", choices=["compact", "segments", "samples"], help="the recorder's time layout (4.0, 2.0, 1.4)")
    ap.add_argument("--paced", action="store_true",
                    help="instead: the mix replayed at the rig's pace; print the writer thread's CPU ms per second of rig data")
    args = ap.parse_args()
    if args.paced:
        with open("/proc/loadavg") as f:
            load = f.read().split()[0]
        r = paced(args.seconds, args.layout)
        print(f"paced mix ({args.seconds:g} s of rig data, layout {args.layout}, load average {load}): writer thread "
              f"{r['writer_cpu_ms_per_s']:.1f} ms CPU per second of data, process {r['process_cpu_ms_per_s']:.1f} "
              f"(the replay's own sleeps and hand-overs included), {r['batches_per_s']:.1f} batch appends a second")
        return
    # The replay floods the queue on purpose; the recorder's "falling behind" warning is expected.
    logging.getLogger("sensorlab.session.recorder").setLevel(logging.ERROR)
    rows = run(args.seconds, args.compression, args.layout)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"layout {args.layout}; load average {load} (wall-clock rates move with it, CPU per second of rig data barely)")
    print(f"{'benchmark':<80}{'recorder samples/s':>20}{'bare h5py samples/s':>21}{'ratio':>8}{'goal':>6}{'× real time':>13}"
          f"{'CPU ms/s rec':>14}{'bare':>8}{'CPU ratio':>11}")  # fmt: skip
    for r in rows:
        ok = "ok" if r["ratio"] >= r["goal_ratio"] else "LOW"
        print(f"{r['benchmark']:<80}{r['value']:>20,.0f}{r['baseline']:>21,.0f}{r['ratio']:>8.2f}{r['goal_ratio']:>6.1f}{r['realtime_x']:>11.1f}  {ok}"
              f"{r['cpu_ms_per_s']:>12.1f}{r['bare_cpu_ms_per_s']:>8.1f}{r['cpu_ratio']:>11.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
