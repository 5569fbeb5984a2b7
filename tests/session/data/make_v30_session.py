"""Write ``v30_session.h5.gz`` (+ ``v30_expected.json``: SHA-256 of every array that version's reader returned) with
the schema 3.0 code: the ``compact`` layout as it was before arrival µs were delta-coded (4.0), i.e.
irregular arrival times as absolute µs after their sample's timestamp (runs with ``residual`` 2)
and a health row per stream at every flush. Kept so the fixture can be rebuilt; run it with the
*old* code on PYTHONPATH:

    PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/path/to/sensorlab-3.0 python tests/session/data/make_v30_session.py

The chunks are those of ``make_v20_session.py`` (the same devices, clocks and hand-overs), and
so is the digest and packing of the fixture (``save_fixture``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("make_v20_session", HERE / "make_v20_session.py")
make_v20 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_v20)


def main() -> None:
    path = HERE / "v30_session.h5"
    path.unlink(missing_ok=True)
    make_v20.write(path, "compact")
    make_v20.save_fixture(path, "3.0", health=True)


if __name__ == "__main__":
    main()
