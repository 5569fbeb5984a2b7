"""Write ``v13_session.h5.gz`` (+ ``v13_expected.npz``: what that version's reader returned) with
sensorlab 1.3 code, the per-sample layout before compact times. Kept so the fixture can be
rebuilt; run it with the *old* code on PYTHONPATH:

    PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/path/to/sensorlab-1.3 python tests/session/data/make_v13_session.py
"""

from __future__ import annotations

import gzip
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from sensorlab.acquisition.emulated.signal import SignalSource
from sensorlab.acquisition.hub import Acquisition
from sensorlab.session.metadata import SessionMetadata
from sensorlab.session.reader import Session
from sensorlab.session.recorder import Recorder

HERE = Path(__file__).parent


def main() -> None:
    path = HERE / "v13_session.h5"
    path.unlink(missing_ok=True)
    sources = [
        SignalSource("mic", kind="audio", shape=(1,), rate=16000, chunk_size=160, realtime=False, max_samples=8000, device_time=True),
        SignalSource("imu", shape=(6,), dtype="int16", rate=1000, chunk_size=10, realtime=False, max_samples=1000, device_time=True),
        SignalSource("radar", kind="frames", shape=(8, 4), rate=20, chunk_size=1, realtime=False, max_samples=20),
        SignalSource("cam", kind="video", shape=(16, 24, 3), rate=30, chunk_size=1, realtime=False, max_samples=15),
    ]
    acq = Acquisition(sources)
    acq.open()
    rec = Recorder(acq, path, SessionMetadata(name="v13"))
    rec.start()
    acq.start()
    rec.add_event('{"label": "wave", "type": "point"}')
    for s in sources:
        assert s.wait(30)
    time.sleep(0.2)
    rec.stop()
    acq.close()
    out = {}
    with Session.open(path) as s:
        assert s.metadata.schema_version == "1.3", s.metadata.schema_version
        for name, r in s.streams.items():
            c = r.read_index(decode=False)
            out[f"{name}/data"] = np.array([bytes(b) if isinstance(b, bytes) else str(b) for b in c.data]) if c.data.dtype == object else c.data
            out[f"{name}/timestamps"] = c.timestamps
            for k in ("device_times", "arrival_times"):
                if getattr(c, k) is not None:
                    out[f"{name}/{k}"] = getattr(c, k)
            out[f"{name}/gaps"] = r.gaps
    np.savez_compressed(HERE / "v13_expected.npz", **out)
    with open(path, "rb") as src, gzip.open(HERE / "v13_session.h5.gz", "wb", 9) as dst:  # the blobs are mostly zeros
        shutil.copyfileobj(src, dst)
    path.unlink()
    print(HERE / "v13_session.h5.gz", file=sys.stderr)


if __name__ == "__main__":
    main()
