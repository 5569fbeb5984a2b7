"""The child half of `ProcessSource`: one device source run in a process of its own.

Run as ``python -m sensorlab.acquisition.device_child SPEC_JSON DATA_FD CTL_FD RT_PRIORITY``
by `sensorlab.acquisition.device_process.ProcessSource`; not meant to be started by hand.

What it does: builds the source the spec names (a camera, a microphone, their emulators),
opens it, and on the parent's word starts it with a sink that only frames each chunk as a
record and queues it; a writer thread writes the queue to the data pipe. The device's own
threads (the grab loop, the sound card's callback and its stamping worker) therefore share
this interpreter's GIL with that writer alone, which holds it for microseconds (``os.write``
releases it), instead of with the studio's GUI, recorder and parsers.

Priority: the process asks for real-time scheduling (SCHED_FIFO) before it starts any thread,
so the device's threads inherit it; where that is not allowed it runs at normal priority and
says so in its "ready" record (the parent reports it once).

If the parent does not take the records, up to `MAX_PENDING` bytes wait here; beyond that a
chunk is not queued and counted as lost on the host side (``dropped`` and
``dropped_in_transit``): the device delivered it, sensorlab failed to take it.

Control bytes from the parent: ``S`` start, ``P`` stop (answered by a "stopped" record after
the last chunk), ``R`` release what a warm-up holds (answered by "released"), ``Z`` / ``T``
restart / report a bench's deadline timers (`_bench_timers`); end of file: stop, close and exit.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading

from sensorlab.acquisition.device_records import (
    ERROR,
    READY,
    RELEASED,
    STATS,
    STOPPED,
    chunk_record,
    json_record,
)

#: Bytes of records the child holds for a parent that does not read (then chunks are lost).
MAX_PENDING = 256 << 20
#: The counters a chunk's stream carries to the parent (the rest the parent counts itself).
FORWARDED_STATS = ("dropped", "dropped_in_transit", "overflows")


def build_source(spec: dict):
    """The source ``spec`` names: ``{"factory": "module:Class", "kwargs": {...}, "world": {...}}``
    (``world``: the fields of the parent's `World`, so emulators film and hear the same claps)."""
    module, _, name = spec["factory"].partition(":")
    factory = getattr(importlib.import_module(module), name)
    kwargs = dict(spec.get("kwargs", {}))
    if spec.get("world") is not None:
        from sensorlab.acquisition.emulated.world import World

        kwargs["world"] = World(**spec["world"])
    return factory(**kwargs)


class _Pending:
    """Records queued by the device threads, written to the parent by one writer thread."""

    def __init__(self, out: int):
        self.out = out
        self.items: list[list] = []
        self.size = 0
        self.cond = threading.Condition()
        self.closed = False
        self.broken = False  # the parent is gone

    def put(self, buffers: list, size: int, force: bool = False) -> bool:
        with self.cond:
            if self.broken or (not force and self.size + size > MAX_PENDING):
                return False
            self.items.append(buffers)
            self.size += size
            self.cond.notify()
        return True

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify()

    def write_loop(self) -> None:
        while True:
            with self.cond:
                while not self.items and not self.closed:
                    self.cond.wait()
                items, self.items = self.items, []
                if not items and self.closed:
                    return
            for buffers in items:
                size = 0
                for buf in buffers:
                    view = memoryview(buf).cast("B")
                    size += len(view)
                    try:
                        while view:
                            view = view[os.write(self.out, view) :]
                    except OSError:
                        with self.cond:
                            self.broken = True
                            self.items = []
                        return
                with self.cond:
                    self.size -= size


def _set_realtime(priority: int) -> bool:
    if not priority or not hasattr(os, "sched_setscheduler"):
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        return True
    except OSError:
        return False  # not allowed: normal priority, still away from the studio's GIL


def main(spec_json: str, out: int, ctl: int, rt_priority: int) -> None:
    spec = json.loads(spec_json)
    realtime = _set_realtime(rt_priority)  # before any thread starts: they inherit it
    pending = _Pending(out)
    writer = threading.Thread(target=pending.write_loop, name="device process writer", daemon=True)
    writer.start()

    def send(kind: int, payload: dict) -> None:
        buffers = json_record(kind, payload)
        pending.put(buffers, sum(len(b) for b in buffers), force=True)

    try:
        src = build_source(spec)
        src.open()
    except Exception as e:  # the parent turns it into the SourceError the user sees
        send(ERROR, {"stream": "", "message": str(e) if type(e).__name__ == "SourceError" else f"{type(e).__name__}: {e}", "opening": True})
        pending.close()
        writer.join()
        return
    timers = _bench_timers(src)
    index = {s.name: i for i, s in enumerate(src.streams)}
    sent_stats = {name: tuple(0 for _ in FORWARDED_STATS) for name in index}
    send(READY, {"pid": os.getpid(), "realtime": realtime, "streams": [s.to_dict() for s in src.streams],
                 "description": src.description})  # fmt: skip

    def forward_stats(stream: str) -> None:
        st = src.stats[stream]
        now_stats = tuple(getattr(st, k) for k in FORWARDED_STATS)
        if now_stats != sent_stats[stream]:
            sent_stats[stream] = now_stats
            send(STATS, {"stream": stream, **dict(zip(FORWARDED_STATS, now_stats))})

    def sink(stream: str, chunk) -> None:  # the device's thread: frame, queue, nothing else
        buffers, size = chunk_record(index[stream], chunk)
        if not pending.put(buffers, size):
            st = src.stats[stream]  # the parent did not take them in time: lost on the host side
            st.dropped += len(chunk)
            st.dropped_in_transit += len(chunk)
        forward_stats(stream)

    src.failed.connect(lambda stream, message: send(ERROR, {"stream": stream, "message": message}))
    src.stopped.connect(lambda: send(STOPPED, {"ended": not stopping[0]}))
    stopping = [False]
    while True:
        try:
            command = os.read(ctl, 1)
        except OSError:
            command = b""
        if command == b"S":
            stopping[0] = False
            src.start(sink)
        elif command == b"P" or not command:
            stopping[0] = True
            if src.running:
                src.stop()  # emits stopped: the parent's answer, after the last chunk
            else:
                send(STOPPED, {"ended": False})
            for name in index:
                forward_stats(name)
            if not command:
                break
        elif command in (b"Z", b"T") and timers is not None:  # a bench: start timing now, or report
            if command == b"Z":
                with timers._lock:
                    timers.late.clear()
            else:
                send(STATS, {"lateness": timers.summary()})
        elif command == b"R":
            release = getattr(src, "release_held", None)
            if release is not None:
                release()
            send(RELEASED, {})
    src.close()
    if timers is not None:
        send(STATS, {"lateness": timers.summary()})
    pending.close()
    writer.join(5.0)


def _bench_timers(src):
    """A bench's deadline timers around the device's threads (bench/acq_lateness.py), when
    the environment names that file (``SENSORLAB_BENCH_TIMERS``); None otherwise."""
    path = os.environ.get("SENSORLAB_BENCH_TIMERS")
    if not path:
        return None
    sys.path.insert(0, os.path.dirname(path))
    module = importlib.import_module(os.path.splitext(os.path.basename(path))[0])
    timers = module.DeadlineTimers()
    timers.wrap([src])
    return timers


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
