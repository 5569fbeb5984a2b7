"""Session file size per stream kind ÷ its native payload: schema 1.4, 2.0 and 3.0 (as before) vs 4.0,
with and without lossless compression.

Records the demo rig (camera, 48 kHz stereo microphone, binary IMU + radar, 16-channel EEG,
text IMU; all emulated, in real time, with their real clocks and hand-overs) for ``--seconds``,
then replays exactly those chunks (the device's dtype: int16 PCM and counts), in the recorder's
0.1 s batches with a health row per stream and a flush every 0.5 s, through `SessionWriter`
into one file per variant, timing the writer's CPU:

- ``1.4``: ``time_layout="samples"``: per-sample float64 times and float32 physical values,
  what sensorlab wrote before issue 14 (and still writes for older readers),
- ``2.0``: ``time_layout="segments"``: bit-exact time runs and the device's dtype (for 2.x readers),
- ``3.0``: ``time_layout="compact"`` as the 3.0 code wrote it (run that code with ``--recording``):
  irregular arrival times as µs after their timestamp, compressed health rows at every flush,
- ``4.0``: ``time_layout="compact"`` (the default): those µs kept as their steps from sample to
  sample, a stream's health row when a counter changed or every 5 s,
- ``4.0+gzip`` / ``4.0+lzf``: the same with ``compression=`` on sample arrays.

``--recording FILE`` replays a recording kept by ``--keep FILE`` instead of recording anew, so
two versions of sensorlab can be compared on the same chunks (``--variants 1.4,2.0`` with the
older one on ``PYTHONPATH``).

For each stream it reports the payload (the bytes the device delivered: samples in its dtype;
JPEG / UTF-8 bytes) and the stored bytes of every dataset of the stream (``get_storage_size``:
allocated chunks, less the unfilled part of the last chunk of uncompressed samples, a fixed
cost of at most a second per file; see `sizes`), as MB per recorded hour and their ratio (goal:
≤ 1.1), and checks that every variant reads back identically (physical values and times bit for
bit).

Run: ``.venv/bin/python bench/bench_file_size.py [--seconds 20] [--keep rec.h5 | --recording rec.h5]``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

from sensorlab.acquisition.emulated.rig import demo_sources
from sensorlab.acquisition.hub import Acquisition
from sensorlab.acquisition.source import Chunk, StreamKind
from sensorlab.session import format as fmt
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.reader import Session
from sensorlab.session.recorder import BATCH_INTERVAL, FLUSH_INTERVAL, Recorder
from sensorlab.session.writer import SessionWriter

GOAL = 1.1


def record_demo(path: Path, seconds: float) -> None:
    acq = Acquisition(demo_sources())
    acq.open()
    try:
        # Kept as 2.0 (every time bit-exact) so that sensorlab 2.x can replay it too (--recording).
        rec = Recorder(acq, path, SessionMetadata(name="size"), time_layout="segments")
        rec.start()
        acq.start()
        time.sleep(seconds)
        rec.stop()
    finally:
        acq.close()


#: Variant → (time layout, compression). "3.0" is the compact layout as the 3.0 code wrote it: run
#: it with that code on PYTHONPATH (``--recording``); with this code it writes 4.0.
VARIANTS = {"1.4": ("samples", None), "2.0": ("segments", None), "3.0": ("compact", None), "4.0": ("compact", None),
            "4.0+gzip": ("compact", "gzip"), "4.0+lzf": ("compact", "lzf")}  # fmt: skip
DEFAULT_VARIANTS = ("1.4", "2.0", "4.0", "4.0+gzip", "4.0+lzf")


def replay(src: Path, out: Path, variant: str) -> float:
    """Write ``src``'s chunks again as ``variant``, batched as the recorder does; CPU seconds of the writer."""
    layout, compression = VARIANTS[variant]
    with Session.open(src) as s:
        infos = {n: r.stored_info for n, r in s.streams.items()}  # as the devices delivered them
        meta = s.metadata
        chunks = []
        for name, r in s.streams.items():
            c = r.read_index(decode=True, raw=True)
            if not len(c):
                continue
            # Batches of BATCH_INTERVAL of host time, as the recorder's writer thread forms them.
            edges = np.searchsorted(c.timestamps, np.arange(c.timestamps[0], c.timestamps[-1] + BATCH_INTERVAL, BATCH_INTERVAL), "left")
            edges = np.unique(np.append(edges, len(c)))
            for a, b in zip(edges[:-1], edges[1:]):
                def sel(x, a=a, b=b):
                    return None if x is None else x[a:b]

                data = c.data[a:b] if r.info.kind is not StreamKind.EVENTS else np.array(list(c.data[a:b]), dtype=object)
                chunks.append((float(c.timestamps[b - 1]), name, Chunk(data, c.timestamps[a:b], sel(c.device_times), sel(c.arrival_times))))
    chunks.sort(key=lambda x: x[0])
    w = SessionWriter(out, time_layout=layout, compression=compression)
    w.on_start(infos, meta)
    t0 = time.process_time()
    next_flush = chunks[0][0] + FLUSH_INTERVAL if chunks else 0.0
    for t, name, c in chunks:
        if t >= next_flush:  # as the recorder: a health row per stream and a flush
            w.on_health(t, {n: (w.written(n).count, 0, 0, 0, 0) for n in w.stream_names})
            w.flush()
            next_flush = t + FLUSH_INTERVAL
        w.on_chunk(name, c)
    cpu = time.process_time() - t0
    w.on_stop({}, {"complete": True, "stop_reason": "stopped"})
    return cpu


def sizes(path: Path) -> dict[str, tuple[int, int, float, str, int]]:
    """Stream → (stored bytes, payload bytes, seconds, dtype, samples).

    Stored bytes leave out the unfilled part of the last chunk of uncompressed sample ``data``
    (`unfilled_tail`): HDF5 allocates that chunk whole, at most a second of samples per stream
    and file whatever its length, so scaled from a minute to an hour it would count 60 times.
    """
    out = {}
    with h5py.File(path, "r") as f:
        for name, g in f[fmt.STREAMS].items():
            stored = sum(ds.id.get_storage_size() for ds in g.values() if isinstance(ds, h5py.Dataset))
            data = g[fmt.DATA]
            with Session.open(path) as s:
                r = s.streams[name]
                n, span = r.count, r.duration
                dtype = r.stored_info.dtype
            payload = data.shape[0] if fmt.INDEX in g else n * int(np.prod(data.shape[1:], dtype=np.int64)) * np.dtype(dtype).itemsize
            out[name] = (stored - unfilled_tail(data), payload, span, dtype, n)
    return out


def unfilled_tail(data: h5py.Dataset) -> int:
    """Bytes allocated past the last sample in the last chunk of an unfiltered ``data``."""
    if data.compression is not None or data.chunks is None or not data.shape[0]:
        return 0
    rows = data.chunks[0]
    row_bytes = data.dtype.itemsize * int(np.prod(data.shape[1:], dtype=np.int64))
    return (-data.shape[0] % rows) * row_bytes


def same(a: Path, b: Path, arrival_tol: float = 0.0) -> bool:
    with Session.open(a) as x, Session.open(b) as y:
        for name in x.streams:
            p, q = x.streams[name].read_index(decode=False), y.streams[name].read_index(decode=False)
            if not (np.array_equal(p.timestamps, q.timestamps) and list(map(bytes, p.data)) == list(map(bytes, q.data)) if p.data.dtype == object else np.array_equal(p.data, q.data)):
                return False
            for u, v, tol in ((p.device_times, q.device_times, 0.0), (p.arrival_times, q.arrival_times, arrival_tol)):
                if (u is None) != (v is None) or (u is not None and not np.allclose(u, v, rtol=0, atol=tol, equal_nan=True)):
                    return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--keep", type=Path, help="also save the recording here (to replay it with --recording)")
    ap.add_argument("--recording", type=Path, help="replay this recording instead of recording the demo rig")
    ap.add_argument("--variants", default=",".join(DEFAULT_VARIANTS), help="comma-separated, from: " + ", ".join(VARIANTS))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        rec = a.recording or d / "rec.h5"
        if a.recording is None:
            record_demo(rec, a.seconds)
            if a.keep:
                shutil.copyfile(rec, a.keep)
        with Session.open(rec) as s:
            a.seconds = max(r.duration for r in s.streams.values())
        names = a.variants.split(",")
        cpu = {v: replay(rec, d / f"{v}.h5", v) for v in names}
        size = {v: sizes(d / f"{v}.h5") for v in names}
        native_variant = next(v for v in names if v != "1.4")
        native = sizes(d / f"{native_variant}.h5")  # payload in the device's dtype
        ref = d / f"{names[0]}.h5"  # every variant must read back as the first one does
        print("identical reads from every variant: " + str(all(same(ref, d / f"{v}.h5", arrival_tol=1e-6 if v.startswith(("3", "4")) else 0.0) for v in names[1:]))
              + " (arrival times of 3.0 / 4.0 within 1 µs, every other time bit for bit)")
        print(f"writer CPU for {a.seconds:g} s of the demo rig: " + ", ".join(f"{v} {cpu[v] * 1e3:.0f} ms" for v in names))
        print(f"{'stream':<8}{'kind / native dtype':<24}{'payload MB/h':>13}" + "".join(f"{v + ' MB/h':>16}{'ratio':>7}" for v in names))
        tot = np.zeros(1 + len(names))
        for name, (_, pay, span, dtype, n) in native.items():
            h = 3600.0 / span if span > 0 else 0.0
            with h5py.File(d / f"{native_variant}.h5") as f:
                kind = f[fmt.STREAMS][name].attrs["kind"]
            stored = [size[v][name][0] for v in names]
            tot += np.array([pay, *stored]) * h
            cells = "".join(f"{x * h / 1e6:>16,.1f}{(x / pay if pay else float('nan')):>7.2f}" for x in stored)
            print(f"{name:<8}{kind + ' ' + dtype:<24}{pay * h / 1e6:>13,.1f}{cells}")
        print(f"{'all':<32}{tot[0] / 1e6:>13,.1f}" + "".join(f"{x / 1e6:>16,.1f}{x / tot[0]:>7.2f}" for x in tot[1:]))


if __name__ == "__main__":
    main()
