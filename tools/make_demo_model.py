"""Train the demo model shipped as package data: a clap detector on the demo rig's ``imu``.

The demo rig's devices all observe one simulated world (`acquisition/emulated/world.py`)
whose claps show as a 4 ms spike on the IMU's accelerometer. This script goes through the
pipeline a user would, on that world, and copies the result into the package:

1. sessions: `session.synthetic_claps.write_clap_session` samples the world's ``imu``
   (1 kHz, the demo MCU's rate and channels) and the other streams, seconds in the time of
   a real recording, each with another clap interval and sample phase;
2. labels: the world's known clap times → a ``clap`` point event per clap in each session's
   labels sidecar (tier ``events``);
3. ``sensorlab dataset build`` (window 0.4 s, hop 0.1 s, a window is ``clap`` when a clap
   falls inside it, else ``background``);
4. ``sensorlab train --task timeseries`` (the 1-D CNN, width 4: about 1 k parameters);
5. ``sensorlab export --format onnx`` → ``sensorlab/resources/models/demo_clap.onnx``;
6. ``sensorlab quantize`` → ``demo_clap.int8.onnx`` beside it (static int8, QDQ), the second
   build the studio's parity view compares with the float one.

Run from the repository root (needs the ``train`` extra: torch, onnx)::

    python tools/make_demo_model.py            # --work DIR keeps the sessions, dataset and run

The result is deterministic for a given torch build (seeded, one thread).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "sensorlab" / "resources" / "models" / "demo_clap.onnx"  # and demo_clap.int8.onnx
#: (clap interval s, seed) per session: intervals that are no multiple of the hop, so claps
#: fall at every phase of the window grid.
SESSIONS = [(1.37, 1), (1.13, 2), (1.71, 3), (0.93, 4), (1.29, 5)]
SECONDS = 60.0

SPEC = """\
[sessions]
paths = ["sessions/*.h5"]

[[streams]]
name = "imu"
channels = ["ax", "ay", "az"]

[labels]
tier = "events"
rule = "any_overlap"          # a clap (a point event) inside the window makes it a clap window
min_coverage = 0.0
unlabeled = "background"
background_label = "background"
background_max_ratio = 3.0

[window]
length = 0.4
hop = 0.1

[split]
method = "holdout"
fractions = { train = 0.6, val = 0.2, test = 0.2 }
seed = 0
"""

TRAIN = """\
epochs = 25
batch_size = 64
lr = 0.01
patience = 8
seed = 0
threads = 1
width = 4
"""


def write_sessions(folder: Path) -> None:
    from sensorlab.acquisition.emulated.world import World
    from sensorlab.labeling.annotations import AnnotationSet, Segment, Tier
    from sensorlab.labeling.store import save_annotations, sidecar_path
    from sensorlab.session.synthetic_claps import T0, write_clap_session

    folder.mkdir(parents=True)
    for i, (interval, seed) in enumerate(SESSIONS):
        path = write_clap_session(folder / f"claps{i}.h5", seconds=SECONDS, clap_interval=interval, seed=seed)
        claps = World(t0=T0, clap_interval=interval).clap_times(T0, T0 + SECONDS)  # the world's own clap times
        ann = AnnotationSet([Segment(f"c{k}", "events", "clap", float(t), float(t)) for k, t in enumerate(claps)], [Tier("events")])
        save_annotations(ann, sidecar_path(path), keep_backup=False, session=path.name)


def run(*args: str) -> None:
    cmd = [sys.executable, "-m", "sensorlab.cli", *args]
    print("$", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=True, cwd=args_cwd)


def main(argv: list[str] | None = None) -> int:
    global args_cwd
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, help="keep the sessions, dataset and run here (default: a temporary folder)")
    p.add_argument("-o", "--output", type=Path, default=OUT)
    a = p.parse_args(argv)
    tmp = None if a.work else tempfile.TemporaryDirectory()
    work = a.work or Path(tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    args_cwd = work
    write_sessions(work / "sessions")
    (work / "claps.toml").write_text(SPEC)
    (work / "train.toml").write_text(TRAIN)
    run("dataset", "build", "claps.toml", "-o", "claps.h5", "--force")
    run("train", "claps.h5", "--task", "timeseries", "--config", "train.toml", "-o", "run")
    run("export", "run", "--format", "onnx")
    run("quantize", "run/model.onnx", "claps.h5")
    a.output.parent.mkdir(parents=True, exist_ok=True)
    for built, shipped in (("model.onnx", a.output), ("model.int8.onnx", a.output.with_suffix(".int8.onnx"))):
        shutil.copyfile(work / "run" / built, shipped)
        print(f"{shipped} ({shipped.stat().st_size / 1024:.1f} KB)")
    if tmp:
        tmp.cleanup()
    return 0


args_cwd: Path = REPO

if __name__ == "__main__":
    sys.exit(main())
