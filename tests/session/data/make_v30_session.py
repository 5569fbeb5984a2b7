"""Write ``v30_session.h5.gz`` (+ ``v30_expected.json``: SHA-256 of every array that version's reader returned) with
the schema 3.0 code: the ``compact`` layout as it was before arrival µs were delta-coded (4.0), i.e.
irregular arrival times as absolute µs after their sample's timestamp (runs with ``residual`` 2)
and a health row per stream at every flush. Kept so the fixture can be rebuilt; run it with the
*old* code on PYTHONPATH:

    PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/path/to/sensorlab-3.0 python tests/session/data/make_v30_session.py

The chunks are those of ``make_v20_session.py`` (the same devices, clocks and hand-overs).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from sensorlab.session.reader import Session

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("make_v20_session", HERE / "make_v20_session.py")
make_v20 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_v20)


def main() -> None:
    path = HERE / "v30_session.h5"
    path.unlink(missing_ok=True)
    make_v20.write(path, "compact")
    out = {}
    with Session.open(path) as s:
        assert s.metadata.schema_version == "3.0", s.metadata.schema_version
        for name, r in s.streams.items():
            c = r.read_index(decode=False)
            out[f"{name}/data"] = np.array([bytes(b) if isinstance(b, bytes) else str(b) for b in c.data]) if c.data.dtype == object else c.data
            out[f"{name}/raw"] = r.read_index(raw=True, decode=False).data if c.data.dtype != object else out[f"{name}/data"]
            out[f"{name}/timestamps"] = c.timestamps
            for k in ("device_times", "arrival_times"):
                if getattr(c, k) is not None:
                    out[f"{name}/{k}"] = getattr(c, k)
            out[f"{name}/health"] = r.health
    digest = {k: [str(v.dtype), list(v.shape), hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()] for k, v in out.items()}
    (HERE / "v30_expected.json").write_text(json.dumps(digest, indent=1, sort_keys=True) + "\n")
    with open(path, "rb") as src, gzip.open(HERE / "v30_session.h5.gz", "wb", 9) as dst:
        shutil.copyfileobj(src, dst)
    path.unlink()
    print(HERE / "v30_session.h5.gz", file=sys.stderr)


if __name__ == "__main__":
    main()
