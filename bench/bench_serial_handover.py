"""The serial parsing threads' own cost: CPU ms and wake-ups a second, per port, of the demo rig's boards.

Opens the demo rig's serial boards only (IMU + radar and EEG at 2 Mbaud, read by reader
processes; the text IMU ``wrist`` at 115,200 baud, read by a thread; the class board), their
emulators in the board host process as in the studio, and hands every chunk to an `Acquisition`
hub with the live view's rings (no GUI, no recorder), so what is measured is each port's
thread in this process: its CPU time (``/proc``, psutil) and its wake-ups (voluntary context
switches: each one takes the GIL again, and a thread that wakes while the GUI thread runs
Python makes it hand the GIL over). Also: chunks a second per stream, and the hand-over's age
(now minus the newest sample's arrival stamp, when a chunk reaches the hub), which batching in
the reader process adds to.

Run: ``python bench/bench_serial_handover.py [--seconds 15] [--batch-ms X]`` (``--batch-ms``
overrides the reader processes' hand-over batch, `reader_process.HANDOVER_BATCH`, for an A/B;
``--min-baud 0`` reads the slow ports, the text IMU too, in reader processes).
Thread CPU barely moves with other load on the machine; wake-ups do (a late thread finds more
waiting), so give the load average with each figure.

``--replay``: the same data, processed without the noise of live wake-ups. Each port read by
a reader process keeps what its child handed over for ``--seconds`` (nothing parsed meanwhile),
then its thread parses, stamps and dispatches it all to the hub and its rings, hand-over by
hand-over as it came (and again regrouped as batches of 2, 5, 10 ms of arrivals would have
come), timing its own CPU (``time.thread_time``) for each grouping. Every grouping after the
first replays the same bytes to a fresh parser, so the figures compare the code and the
batching on identical input; run it at real-time priority (``chrt -f 2``) on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sensorlab.acquisition import reader_process  # noqa: E402
from sensorlab.acquisition.clock import now  # noqa: E402
from sensorlab.acquisition.hub import Acquisition  # noqa: E402
from sensorlab.acquisition.rig import RigConfig  # noqa: E402
from sensorlab.studio.demo import demo_rig  # noqa: E402


def _serial_rig() -> RigConfig:
    rig = demo_rig()
    keep = [d for d in rig.emulated if d.device not in ("camera", "microphone")]
    return RigConfig(name="serial", emulated=keep, processor=[])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--warmup", type=float, default=4.0, help="seconds before measuring (the warm-up hold, the fit)")
    ap.add_argument("--batch-ms", type=float, default=None, help="the reader processes' hand-over batch (ms)")
    ap.add_argument("--replay", action="store_true", help="time the parsing of the same captured data, grouped as handed over and in batches")
    ap.add_argument("--min-baud", type=int, default=None, help="read ports from this baud rate on in a reader process (`PROCESS_MIN_BAUD`)")
    args = ap.parse_args()
    if args.min_baud is not None:
        from sensorlab.acquisition.serial import process_reading

        process_reading.PROCESS_MIN_BAUD = args.min_baud
    if args.batch_ms is not None:
        reader_process.HANDOVER_BATCH = args.batch_ms / 1000.0
    replays: dict[str, dict] = {}
    if args.replay:
        _capture_for_replay(args.seconds, replays)
    sources = _serial_rig().build_sources()
    acq = Acquisition(sources)
    ages: dict[str, list[float]] = {}
    chunks: dict[str, int] = {}
    lock = threading.Lock()

    def on_chunk(name, chunk):
        t = now()
        arr = chunk.arrival_times
        with lock:
            chunks[name] = chunks.get(name, 0) + 1
            if arr is not None and len(arr):
                ages.setdefault(name, []).append(t - float(arr[-1]))

    acq.open()
    rings = [acq.ring(name, seconds=10.0) for name in acq.streams]  # as the live view keeps them
    acq.start()
    try:
        time.sleep(args.warmup)
        unsubscribe = acq.subscribe(on_chunk, name="bench")
        proc = psutil.Process()
        names = {th.native_id: th.name for th in threading.enumerate()}

        def per_thread():
            out = {}
            for th in proc.threads():
                name = names.get(th.id, str(th.id))
                if not name.startswith("serial "):
                    continue
                with open(f"/proc/self/task/{th.id}/status") as f:
                    vol = next(int(ln.split()[1]) for ln in f if ln.startswith("voluntary_ctxt_switches"))
                cpu, wakes = out.get(name, (0.0, 0))
                out[name] = (cpu + th.user_time + th.system_time, wakes + vol)
            return out

        load0 = os.getloadavg()[0]
        a, t0 = per_thread(), time.monotonic()
        time.sleep(args.seconds)
        b, t1 = per_thread(), time.monotonic()
        unsubscribe()
        del rings
        dt = t1 - t0
        lost = {n: (st.dropped, st.dropped_in_transit) for src in sources for n, st in src.stats.items() if st.dropped}
    finally:
        acq.stop()
        acq.close()
    batch = getattr(reader_process, "HANDOVER_BATCH", 0.0) * 1000
    print(f"serial threads, {args.seconds:g} s, hand-over batch {batch:g} ms, load {load0:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"  {'thread':<22}{'CPU ms/s':>10}{'wake-ups/s':>12}")
    total_cpu = total_wakes = 0.0
    for name in sorted(b):
        cpu = 1000 * (b[name][0] - a.get(name, (0.0, 0))[0]) / dt
        wakes = (b[name][1] - a.get(name, (0.0, 0))[1]) / dt
        total_cpu += cpu
        total_wakes += wakes
        print(f"  {name:<22}{cpu:>10.1f}{wakes:>12.0f}")
    print(f"  {'all':<22}{total_cpu:>10.1f}{total_wakes:>12.0f}")
    print(f"  {'stream':<12}{'chunks/s':>10}{'age p50 ms':>12}{'p99':>8}{'max':>8}")
    for name in sorted(chunks):
        x = np.array(ages.get(name, [float("nan")])) * 1000
        print(f"  {name:<12}{chunks[name] / dt:>10.1f}{np.median(x):>12.2f}{np.percentile(x, 99):>8.2f}{x.max():>8.2f}")
    print(f"  lost (stream: all, in transit): {lost or 'none'}")
    for port, r in sorted(replays.items()):
        if "results" not in r:
            continue
        print(f"replay {port}: {r['seconds']:.1f} s of data, {r['reads']} reads, {r['bytes']} bytes")
        for label, cpu, groups, emits in r["results"]:
            print(f"  {label:<24}{1000 * cpu / r['seconds']:8.1f} ms CPU/s{groups / r['seconds']:8.1f} hand-overs/s{emits / r['seconds']:8.1f} chunks/s")
    return 0


#: Batches the replay regroups the captured reads into (s): as the reader process would hand them over.
REPLAY_BATCHES = (0.002, 0.005, 0.010)


def _regroup(blocks: list[tuple[bytes, float]], batch: float) -> list[list[tuple[bytes, float]]]:
    groups: list[list[tuple[bytes, float]]] = []
    for b in blocks:
        if groups and b[1] - groups[-1][0][1] < batch:
            groups[-1].append(b)
        else:
            groups.append([b])
    return groups


def _capture_for_replay(seconds: float, replays: dict[str, dict]) -> None:
    """Patch `ProcessReading._read_loop_process` (see ``--replay`` in the module docstring)."""
    import copy

    from sensorlab.acquisition.serial.process_reading import ProcessReading

    original = ProcessReading._read_loop_process

    def capturing(self, rp, timeout):
        groups: list[list[tuple[bytes, float]]] = []
        end = time.monotonic() + seconds + 2.0  # the bench's warm-up first
        while self._running.is_set() and time.monotonic() < end:
            blocks = rp.read(timeout)
            if blocks:
                groups.append(blocks)
        mark = self._start_mark
        groups = [[b for b in g if mark is None or b[1] >= mark] for g in groups]
        groups = [g for g in groups if g]
        if groups:
            r = replays.setdefault(self.port, {"results": []})
            flat = [b for g in groups for b in g]
            r.update(seconds=flat[-1][1] - flat[0][1], reads=len(flat), bytes=sum(len(b[0]) for b in flat))
            # The state `start` left (the clock fit was reset then, and is again for each replay).
            parser, stats = copy.deepcopy(self.parser), copy.deepcopy(self.stats)
            state = copy.deepcopy((self._held, self._warm, self._first_device_time, self._start_mark))
            for label, grouping in [("as handed over", groups), *((f"batches of {1000 * b:g} ms", _regroup(flat, b)) for b in REPLAY_BATCHES)]:
                self.parser, self.stats = copy.deepcopy(parser), copy.deepcopy(stats)
                self.clock.reset()
                self._held, self._warm, self._first_device_time, self._start_mark = copy.deepcopy(state)
                emitted = [0]
                sink = self._sink

                def counting(name, chunk, sink=sink, emitted=emitted):
                    emitted[0] += 1
                    sink(name, chunk)

                self._sink = counting
                t = time.thread_time()
                for g in grouping:
                    self._take(g)
                self._release_held()
                r["results"].append((label, time.thread_time() - t, len(grouping), emitted[0]))
                self._sink = sink
        return original(self, rp, timeout)

    ProcessReading._read_loop_process = capturing


if __name__ == "__main__":
    sys.exit(main())
