"""Reproduce docs/REAL-DATA.md: import FSDD and HAPT, build datasets split by speaker / subject, print the reports.

The data sets are not part of sensorlab; point at your copies with environment variables:

    SENSORLAB_FSDD=/path/to/free-spoken-digit-dataset/recordings \
    SENSORLAB_HAPT=/path/to/hapt.npz \
    python docs/make_real_data_reports.py [--images docs/images]

``SENSORLAB_HAPT`` is an ``.npz`` with ``uXX_eYY_rZZ_x`` / ``_y`` arrays, ``label_names`` and
``channel_names`` (the layout `sensorlab import table` reads; see docs/IMPORT-EXPORT.md).
Sessions and datasets go to ``SENSORLAB_REAL_OUT`` (default: a new temporary folder), never
into the repository. A data set whose variable is unset is skipped with a message.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

SPECS = {
    "fsdd": """
[sessions]
paths = ["sessions/*.h5"]
[[streams]]
name = "audio"
[labels]
tier = "label"
rule = "majority"
min_coverage = 0.3
[window]
length = 0.5
hop = 0.25
[split]
by = "subject"
method = "holdout"
fractions = { train = 0.6, val = 0.2, test = 0.2 }
seed = 0
""",
    "hapt": """
[sessions]
paths = ["sessions/*.h5"]
[[streams]]
name = "imu"
[labels]
tier = "label"
rule = "majority"
min_coverage = 0.5
[window]
length = 2.56
hop = 1.28
[split]
by = "subject"
method = "holdout"
fractions = { train = 0.7, val = 0.15, test = 0.15 }
seed = 0
""",
}


def run(name: str, source: Path, work: Path, images: Path | None) -> None:
    from sensorlab.datasets.build import build_dataset
    from sensorlab.datasets.interchange.clips import import_wav_folder
    from sensorlab.datasets.interchange.tables import import_tables
    from sensorlab.datasets.report import dataset_report, format_report, write_plots
    from sensorlab.datasets.spec import load_spec

    d = work / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    t = time.perf_counter()
    if name == "fsdd":
        res = import_wav_folder(source, d / "sessions", pattern="{label}_{subject}_{take:d}.wav")
        what = "clips"
    else:
        res = import_tables([source], d / "sessions", rate=50, stream="imu", pattern="u{subject}_e{experiment}_r{take}")
        what = "recordings"
    t_import = time.perf_counter() - t
    (d / "spec.toml").write_text(SPECS[name].lstrip(), encoding="utf-8")
    t = time.perf_counter()
    build_dataset(load_spec(d / "spec.toml"), d / f"{name}.h5", workers=2)
    t_build = time.perf_counter() - t
    print(f"## {name}\n\n{res.summary(what)}\nimport {t_import:.1f} s, build {t_build:.1f} s (2 workers)\n")
    print("```\n" + format_report(dataset_report(d / f"{name}.h5")) + "\n```\n")
    if images is not None:
        plots = write_plots(d / f"{name}.h5", d / "plots")
        for p in plots:
            if p.name == "class_balance.png":
                shutil.copy(p, images / f"real-{name}-class-balance.png")
                print(f"wrote {images / f'real-{name}-class-balance.png'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=Path, help="also write the class-balance PNGs into this folder")
    args = ap.parse_args(argv)
    sources = {"fsdd": os.environ.get("SENSORLAB_FSDD"), "hapt": os.environ.get("SENSORLAB_HAPT")}
    if not any(sources.values()):
        print("skipped: set SENSORLAB_FSDD (folder of FSDD .wav files) and/or SENSORLAB_HAPT (hapt.npz) to reproduce docs/REAL-DATA.md")
        return 0
    work = Path(os.environ.get("SENSORLAB_REAL_OUT") or tempfile.mkdtemp(prefix="sensorlab-real-"))
    print(f"working in {work}\n", file=sys.stderr)
    for name, src in sources.items():
        if not src:
            print(f"skipped {name}: SENSORLAB_{name.upper()} is not set\n")
            continue
        if not Path(src).exists():
            print(f"skipped {name}: {src} does not exist\n")
            continue
        run(name, Path(src), work, args.images)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
