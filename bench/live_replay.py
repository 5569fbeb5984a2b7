"""Replay the demo rig's streams into the live view from the GUI thread: CPU per painted frame.

`bench_live_view.py` measures the real studio with its device threads; on a busy machine its
figures swing widely with the other load. This replay has no device threads: each frame it
appends 1/60 s of synthetic samples of the demo rig's streams (stereo 48 kHz audio, IMU and
16-channel EEG at 1 kHz, a 100 Hz IMU, a board's class events, a 10 Hz prediction stream, a
640×480 camera at 30 Hz, a 64×32 radar map at 20 Hz) to the view's rings, refreshes the view
and lets Qt paint it (offscreen, 1100 × 800, a 10 s window), with a live label on every time
plot twice a second (``--no-labels``: none, as in the demo rig). It prints the GUI thread's
CPU per frame (``time.thread_time``, the synthetic data's own cost left out): the median, the
mean and the lower quartile over ``--frames`` frames. ``--fps``: frames a second of virtual
time (60; at 20 each frame pulls and draws three times as many new samples, as the studio's
frames do on a slow machine).
Compare two versions of the code by running it for each alternately
(``PYTHONPATH=old python bench/live_replay.py``, then the new), a few rounds.

``--callgrind`` runs each measured frame through ``operator.call``, so that callgrind counts
only the frames (instructions, independent of the machine's load; Qt's symbols included)::

    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=_operator_call \
        python bench/live_replay.py --callgrind --frames 40
    callgrind_annotate --inclusive=yes callgrind.out.PID | head -80

``--profile FILE`` writes a cProfile of the frames (GUI-thread CPU time; ``python -m pstats FILE``).
``--breakdown`` prints where a frame's CPU goes without a profiler's overhead: the panels'
refresh, following the time axis, and each kind of scene item's ``paint`` (its Python and
the Qt drawing under it), timed with ``time.thread_time`` around each call; the rest of the
paint is Qt's own (the scene walk, clipping, the backing store).
"""

from __future__ import annotations

import argparse
import cProfile
import operator
import os
import time

import numpy as np

FPS = 60.0
T0 = 1000.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--profile", metavar="FILE")
    ap.add_argument("--breakdown", action="store_true", help="CPU a frame per phase and per kind of item painted")
    ap.add_argument("--callgrind", action="store_true", help="measured frames through operator.call (callgrind --toggle-collect)")
    ap.add_argument("--fps", type=float, default=FPS,
                    help="frames per second of virtual time: each frame draws 1/FPS s of new samples (20: the slow machine's studio)")
    ap.add_argument("--no-labels", action="store_true",
                    help="no live label twice a second (the demo rig has none; older code drew each as items of every plot)")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from sensorlab.acquisition.buffers import ChunkRing
    from sensorlab.acquisition.source import Chunk, StreamInfo, StreamKind
    from sensorlab.app.live.view import LiveView
    import pyqtgraph  # noqa: F401  (all its item classes, for --breakdown)
    from sensorlab.inference.engine import PROBABILITY_UNIT

    imu = tuple("ax ay az gx gy gz".split()), ("g",) * 3 + ("deg/s",) * 3
    streams = {
        "mic": StreamInfo("mic", StreamKind.AUDIO, 48000.0, ("l", "r"), dtype="int16", sample_shape=(2,)),
        "imu": StreamInfo("imu", StreamKind.TIMESERIES, 1000.0, *imu, sample_shape=(6,)),
        "eeg": StreamInfo("eeg", StreamKind.TIMESERIES, 1000.0, tuple(f"e{i}" for i in range(16)), ("uV",) * 16, sample_shape=(16,)),
        "wrist": StreamInfo("wrist", StreamKind.TIMESERIES, 100.0, *imu, sample_shape=(6,)),
        "clap_mcu": StreamInfo("clap_mcu", StreamKind.EVENTS, 0.0, dtype="str"),
        "clap_pred": StreamInfo("clap_pred", StreamKind.TIMESERIES, 10.0, ("background", "clap"), (PROBABILITY_UNIT,) * 2,
                                sample_shape=(2,), device="model demo"),  # fmt: skip
        "camera": StreamInfo("camera", StreamKind.VIDEO, 30.0, dtype="uint8", sample_shape=(480, 640, 3)),
        "radar": StreamInfo("radar", StreamKind.FRAMES, 20.0, units=("a.u.",), sample_shape=(64, 32)),
    }
    rates = {"clap_mcu": 10.0}
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)

    class Rings:  # what LiveView asks of an Acquisition
        def __init__(self):
            self.streams, self.rings = streams, {}

        def ring(self, name, seconds=10.0, max_samples=None):
            self.rings[name] = ChunkRing(seconds, max_samples)
            return self.rings[name]

        def release_ring(self, name, ring):
            pass

    acq = Rings()
    spent = _time_paints() if args.breakdown else None  # before any item exists (Qt's wrappers keep their methods)
    view = LiveView(acq, window=10.0, origin=T0)
    view.timer.stop()  # frames are driven here
    view.resize(1100, 800)
    view.show()
    done = dict.fromkeys(streams, 0)

    def push(now: float) -> None:
        for name, info in streams.items():
            rate = rates.get(name, info.nominal_rate)
            due = int((now - T0) * rate)
            k = np.arange(done[name], due)
            if not len(k):
                continue
            done[name], t, n = due, T0 + k / rate, len(k)
            if info.kind is StreamKind.AUDIO:
                d = (3000 * np.sin(2 * np.pi * 440 * t)[:, None] + rng.normal(0, 300, (n, 2))).astype(np.int16)
            elif info.kind is StreamKind.TIMESERIES:
                ch = info.sample_shape[0]
                d = (np.sin(2 * np.pi * 0.7 * t[:, None] + np.arange(ch)) + rng.normal(0, 0.05, (n, ch))).astype(np.float32)
                if name == "clap_pred":
                    d = np.abs(d) / np.abs(d).sum(axis=1, keepdims=True)
            elif info.kind is StreamKind.EVENTS:
                d = np.array(["clap" if i % 7 == 0 else "background" for i in k], dtype=object)
            elif info.kind is StreamKind.VIDEO:
                d = np.repeat(picture[None], n, axis=0)
            else:
                d = rng.random((n, 64, 32)).astype(np.float32)
            acq.rings[name].append(Chunk(d, t))

    now = T0 + 11.0
    push(now)

    def frame(i: int) -> None:
        if i % 30 == 0 and not args.no_labels:
            view.add_marker(now - 0.1, "clap", "#ffd54f")
        view.refresh()
        app.processEvents()

    for i in range(30):  # warm up: the window full, every item shown once
        now += 1 / args.fps
        push(now)
        frame(i)
    if spent is not None:
        timed(spent, view, "refresh", "refresh (panels' pull)")
        timed(spent, view, "_follow_range", "follow (in refresh)")
        for cell in spent.values():
            cell[:] = [0.0, 0]
    # CPU time of this thread: wall time would count the other load of a busy machine.
    profile = cProfile.Profile(time.thread_time) if args.profile else None
    per_frame = []
    for i in range(args.frames):
        now += 1 / args.fps
        push(now)
        t = time.thread_time()
        if profile:
            profile.enable()
        if args.callgrind:
            operator.call(frame, i)
        else:
            frame(i)
        if profile:
            profile.disable()
        per_frame.append(time.thread_time() - t)
    if profile:
        profile.dump_stats(args.profile)
    ms = 1000 * np.array(per_frame)
    load = open("/proc/loadavg").read().split()[0] if os.path.exists("/proc/loadavg") else "?"
    # The lower quartile too: other jobs on a busy machine only add to a frame's CPU time (caches
    # and cores shared), so it moves least with their load.
    print(f"GUI-thread CPU per frame: median {np.median(ms):.2f} ms, mean {ms.mean():.2f} ms, "
          f"lower quartile {np.percentile(ms, 25):.2f} ms over {len(ms)} frames (load {load})")
    if spent is not None:
        total = ms.sum()
        print(f"where a frame's {ms.mean():.2f} ms go (mean, ms a frame; calls a frame):")
        for name, (cpu, calls) in sorted(spent.items(), key=lambda kv: -kv[1][0]):
            print(f"  {name:<28} {1000 * cpu / len(ms):6.2f}  ({calls / len(ms):.1f})")
        accounted = 1000 * sum(cpu for name, (cpu, _) in spent.items() if name != "follow (in refresh)")
        print(f"  {'rest (Qt: scene walk, etc.)':<28} {(total - accounted) / len(ms):6.2f}")
    view.shutdown()
    return 0


def timed(spent: dict[str, list], owner, attr: str, name: str) -> None:
    """Wrap ``owner.attr`` to add its GUI-thread CPU time and calls into ``spent[name]``."""
    inner = getattr(owner, attr)
    cell = spent.setdefault(name, [0.0, 0])

    def wrapper(*a, **k):
        t = time.thread_time()
        try:
            return inner(*a, **k)
        finally:
            cell[0] += time.thread_time() - t
            cell[1] += 1

    setattr(owner, attr, wrapper)


def _time_paints() -> dict[str, list]:
    """Wrap the ``paint`` of every graphics item class written in Python (pyqtgraph's and
    sensorlab's) to add its CPU time into the returned dict: {name: [seconds, calls]}."""
    from PySide6.QtWidgets import QGraphicsItem

    spent: dict[str, list] = {}
    todo, classes = [QGraphicsItem], set()
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in classes:
                classes.add(sub)
                todo.append(sub)
    for cls in classes:
        if "paint" in vars(cls) and not cls.__module__.startswith("PySide6"):
            timed(spent, cls, "paint", f"paint {cls.__name__}")
    return spent


if __name__ == "__main__":
    raise SystemExit(main())
