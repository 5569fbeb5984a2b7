"""Session file size per stream kind ÷ its native payload: schema 1.4 (as before) vs 2.0, with
and without lossless compression.

Records the demo rig (camera, 48 kHz stereo microphone, binary IMU + radar, 16-channel EEG,
text IMU; all emulated, in real time, with their real clocks and hand-overs) for ``--seconds``,
then replays exactly those chunks (the device's dtype: int16 PCM and counts), in the recorder's
0.1 s batches, through `SessionWriter` into one file per variant, timing the writer's CPU:

- ``1.4``: ``time_layout="samples"``: per-sample float64 times and float32 physical values,
  what sensorlab wrote before issue 14 (and still writes for older readers),
- ``2.0``: compact time runs and the device's dtype (the default),
- ``2.0+gzip`` / ``2.0+lzf``: the same with ``compression=`` on sample arrays.

For each stream it reports the payload (the bytes the device delivered: samples in its dtype;
JPEG / UTF-8 bytes) and the stored bytes of every dataset of the stream (``get_storage_size``:
allocated chunks), as MB per recorded hour and their ratio (goal: ≤ 1.1), and checks that every
variant reads back identically (physical values and times bit for bit).

Run: ``.venv/bin/python bench/bench_file_size.py [--seconds 20]``.
"""

from __future__ import annotations

import argparse
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
from sensorlab.session.recorder import BATCH_INTERVAL, Recorder
from sensorlab.session.writer import SessionWriter

GOAL = 1.1


def record_demo(path: Path, seconds: float) -> None:
    acq = Acquisition(demo_sources())
    acq.open()
    try:
        rec = Recorder(acq, path, SessionMetadata(name="size"))
        rec.start()
        acq.start()
        time.sleep(seconds)
        rec.stop()
    finally:
        acq.close()


VARIANTS = {"1.4": ("samples", None), "2.0": ("segments", None), "2.0+gzip": ("segments", "gzip"), "2.0+lzf": ("segments", "lzf")}


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
    for _, name, c in chunks:
        w.on_chunk(name, c)
    cpu = time.process_time() - t0
    w.on_stop({}, {"complete": True, "stop_reason": "stopped"})
    return cpu


def sizes(path: Path) -> dict[str, tuple[int, int, float, str, int]]:
    """Stream → (stored bytes, payload bytes, seconds, dtype, samples)."""
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
            out[name] = (stored, payload, span, dtype, n)
    return out


def same(a: Path, b: Path) -> bool:
    with Session.open(a) as x, Session.open(b) as y:
        for name in x.streams:
            p, q = x.streams[name].read_index(decode=False), y.streams[name].read_index(decode=False)
            if not (np.array_equal(p.timestamps, q.timestamps) and list(map(bytes, p.data)) == list(map(bytes, q.data)) if p.data.dtype == object else np.array_equal(p.data, q.data)):
                return False
            for u, v in ((p.device_times, q.device_times), (p.arrival_times, q.arrival_times)):
                if (u is None) != (v is None) or (u is not None and not np.array_equal(u, v, equal_nan=True)):
                    return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        record_demo(d / "rec.h5", a.seconds)
        names = list(VARIANTS)
        cpu = {v: replay(d / "rec.h5", d / f"{v}.h5", v) for v in names}
        size = {v: sizes(d / f"{v}.h5") for v in names}
        native = sizes(d / "2.0.h5")  # payload in the device's dtype
        print("identical reads from every variant: " + str(all(same(d / "1.4.h5", d / f"{v}.h5") for v in names[1:])))
        print(f"writer CPU for {a.seconds:g} s of the demo rig: " + ", ".join(f"{v} {cpu[v] * 1e3:.0f} ms" for v in names))
        print(f"{'stream':<8}{'kind / native dtype':<24}{'payload MB/h':>13}" + "".join(f"{v + ' MB/h':>16}{'ratio':>7}" for v in names))
        tot = np.zeros(1 + len(names))
        for name, (_, pay, span, dtype, n) in native.items():
            h = 3600.0 / span if span > 0 else 0.0
            with h5py.File(d / "2.0.h5") as f:
                kind = f[fmt.STREAMS][name].attrs["kind"]
            stored = [size[v][name][0] for v in names]
            tot += np.array([pay, *stored]) * h
            cells = "".join(f"{x * h / 1e6:>16,.1f}{(x / pay if pay else float('nan')):>7.2f}" for x in stored)
            print(f"{name:<8}{kind + ' ' + dtype:<24}{pay * h / 1e6:>13,.1f}{cells}")
        print(f"{'all':<32}{tot[0] / 1e6:>13,.1f}" + "".join(f"{x / 1e6:>16,.1f}{x / tot[0]:>7.2f}" for x in tot[1:]))


if __name__ == "__main__":
    main()
