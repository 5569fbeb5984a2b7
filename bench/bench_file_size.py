"""Session file size per stream kind ÷ its native payload, per-sample vs compact time layout.

Records the demo rig (camera, 48 kHz stereo microphone, binary IMU + radar, 16-channel EEG,
text IMU; all emulated, in real time, with their real clocks and hand-overs) for ``--seconds``
into a ``samples``-layout file, then replays exactly those samples, in the recorder's 0.1 s
batches, through `SessionWriter` into one file per layout, timing the writer's CPU. For each
stream it reports

- payload: the bytes the device delivered (samples in the stream's dtype; JPEG / UTF-8 bytes),
- stored bytes of every dataset of the stream (``get_storage_size``: allocated chunks),

as bytes per recorded hour and their ratio (goal: ≤ 1.1), and checks that both layouts read
back identically (values and times bit for bit).

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
        rec = Recorder(acq, path, SessionMetadata(name="size"), time_layout="samples")
        rec.start()
        acq.start()
        time.sleep(seconds)
        rec.stop()
    finally:
        acq.close()


def replay(src: Path, out: Path, layout: str) -> float:
    """Write ``src``'s samples again in ``layout``, batched as the recorder does; CPU seconds of the writer."""
    with Session.open(src) as s:
        infos = {n: r.info for n, r in s.streams.items()}
        meta = s.metadata
        chunks = []
        for name, r in s.streams.items():
            c = r.read_index(decode=True)
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
    w = SessionWriter(out, time_layout=layout)
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
                dtype = r.info.dtype
            payload = data.shape[0] if fmt.INDEX in g else n * int(np.prod(data.shape[1:], dtype=np.int64)) * data.dtype.itemsize
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
        cpu = {layout: replay(d / "rec.h5", d / f"{layout}.h5", layout) for layout in ("samples", "segments")}
        old, new = sizes(d / "samples.h5"), sizes(d / "segments.h5")
        print(f"identical reads from both layouts: {same(d / 'samples.h5', d / 'segments.h5')}")
        print(f"writer CPU for {a.seconds:g} s of the demo rig: samples {cpu['samples'] * 1e3:.0f} ms, segments {cpu['segments'] * 1e3:.0f} ms")
        print(f"{'stream':<8}{'kind / dtype':<22}{'payload MB/h':>13}{'samples MB/h':>14}{'ratio':>7}{'segments MB/h':>15}{'ratio':>7}")
        tot = np.zeros(3)
        for name, (s_old, pay, span, dtype, n) in old.items():
            s_new = new[name][0]
            h = 3600.0 / span if span > 0 else 0.0
            with h5py.File(d / "segments.h5") as f:
                kind = f[fmt.STREAMS][name].attrs["kind"]
            tot += (pay * h, s_old * h, s_new * h)
            r_old, r_new = (s_old / pay, s_new / pay) if pay else (float("nan"),) * 2
            print(f"{name:<8}{kind + ' ' + dtype:<22}{pay * h / 1e6:>13,.1f}{s_old * h / 1e6:>14,.1f}{r_old:>7.2f}{s_new * h / 1e6:>15,.1f}{r_new:>7.2f}")
        print(f"{'all':<30}{tot[0] / 1e6:>13,.1f}{tot[1] / 1e6:>14,.1f}{tot[1] / tot[0]:>7.2f}{tot[2] / 1e6:>15,.1f}{tot[2] / tot[0]:>7.2f}")


if __name__ == "__main__":
    main()
