"""Where a serial timestamp's error comes from: the emulator's pacing, the reader's wake-up,
or the clock fit's floor estimate (issue 14 §3).

Run: ``python bench/diag_serial_timing.py [--seconds 20] [--reader thread|process] [--runs 1]``.

A binary IMU (1 kHz, 10 samples per packet, +100 ppm, USB-like bursts every 1-10 ms) is read
by `SerialSource` through a real pty, as in ``bench_sync.py``; the emulator runs in this
process so its every write can be logged on the same clock. Per sample, the error of its
stored timestamp against the emulator's true sample time is split into:

- **emulator pacing**: how late the emulator wrote the bytes, against when its UART would have
  finished sending them (``write − due``). Part of it is intended (the USB-like bursts: the
  host polls every 1-10 ms); the rest is the emulator thread waking up late (``oversleep``:
  the wake-up against the time it asked for). A real device's UART does not oversleep.
- **reader wake-up**: when the reader stamped the bytes against when they were written
  (``arrival − write``): the host's scheduling of the reader (thread or process).
- **clock fit**: the stored timestamp against the least-delayed arrival the fit could have
  used (``error − floor``, where ``floor`` is the smallest ``arrival − wire time − true time`` in
  the sample's 0.5 s bin and the bin before; the fit can do no better than that floor unless
  it averages over bins).

Only the first two are sensorlab-independent at the source; the reader's share and the fit's
share are what sensorlab can change.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.emulated.mcu import BinaryIMU
from sensorlab.acquisition.serial.port import SerialSource


def _q(x: np.ndarray) -> str:
    x = np.asarray(x) * 1e3
    if not len(x):
        return "n=0"
    return f"median {np.median(x):.3f}, p99 {np.percentile(x, 99):.3f}, max {x.max():.3f} ms (min {x.min():.3f}, n={len(x)})"


def measure(seconds: float = 20.0, reader: str = "thread", settle: float = 1.0) -> dict:
    mcu = BinaryIMU(rate=1000.0, drift_ppm=100.0)
    link = mcu.link
    # Every packet the emulator finished writing: (ready = true time of its last sample,
    # due = when the UART finishes its last byte, written = when it was written to the pty).
    done: list[tuple[float, float, float]] = []
    wakes: list[tuple[float, float]] = []  # (asked-for wake-up, actual)

    def logged_pump(t: float | None = None) -> None:  # PtyLink.pump, logging completed packets
        t = now() if t is None else t
        if t < link._blocked_until:
            return
        out, finished = bytearray(), []
        while link._queue:
            entry = link._queue[0]
            view, sent, start = entry[:3]
            if sent == 0:
                if len(entry) == 3:
                    entry.append(start)  # the packet's own ready time
                entry[2] = start = max(entry[3], link._wire_free)
            n = min(len(view), int((t - start) * link.bytes_per_second))
            if n <= sent:
                break
            out += view[sent:n]
            link._queued -= n - sent
            entry[1] = n
            if n < len(view):
                break
            link._queue.popleft()
            link._wire_free = start + len(view) / link.bytes_per_second
            finished.append((entry[3], link._wire_free))
        if out:
            w = now()  # before the write: the reader may run before this thread returns from it
            link._write(bytes(out))
            done.extend((ready, due, w) for ready, due in finished)

    link.pump = logged_pump
    orig_wait = mcu._stop.wait

    def logged_wait(delay: float) -> bool:
        asked = now() + delay
        r = orig_wait(delay)
        wakes.append((asked, now()))
        return r

    chunks = []
    mcu.start()
    mcu._stop.wait = logged_wait  # the thread looks it up on every loop
    src = SerialSource(mcu.port, mcu.baudrate, "binary", reader=reader, open_timeout=20.0)
    load0 = os.getloadavg()[0]
    try:
        src.open()
        src.start(lambda name, c: chunks.append(c))
        time.sleep(seconds)
        src.stop()
    finally:
        src.close()
        mcu.close()
    load1 = os.getloadavg()[0]
    ts = np.concatenate([c.timestamps for c in chunks])
    dev = np.concatenate([c.device_times for c in chunks])
    arr = np.concatenate([c.arrival_times for c in chunks])
    true = mcu.true_host_times(dev)
    err = ts - true
    keep = ts - ts[0] >= settle

    pk = np.array(done)
    pk = pk[np.argsort(pk[:, 0])]
    # The last sample of each read: its packet, when that was written, and when it arrived.
    last = np.r_[np.diff(arr) != 0, True]
    j = np.clip(np.searchsorted(pk[:, 0], true[last] - 1e-6), 0, len(pk) - 1)
    matched = np.abs(pk[j, 0] - true[last]) < 2e-6
    ready, due, written = pk[j[matched]].T
    arrived = arr[last][matched]
    reader_lat = arrived - written
    late = written - due
    wire = due - ready
    wk = np.array(wakes)
    oversleep = wk[:, 1] - wk[:, 0]
    # The floor the fit could use: per 0.5 s device bin, the least (arrival - wire - true).
    delay = arrived - wire - ready
    bins = np.floor(dev[last][matched] / 0.5).astype(int)
    floor_by_bin: dict[int, float] = {}
    for b, d in zip(bins, delay, strict=True):
        floor_by_bin[b] = min(floor_by_bin.get(b, np.inf), d)
    sample_bins = np.floor(dev / 0.5).astype(int)
    floor = np.array([min(floor_by_bin.get(b, np.inf), floor_by_bin.get(b - 1, np.inf)) for b in sample_bins])
    # The read that set each bin's floor: how much of it was the emulator, how much the reader.
    best = {}
    for i, (b, d) in enumerate(zip(bins, delay, strict=True)):
        if d == floor_by_bin[b]:
            best[b] = i
    at_floor = np.array(sorted(best.values()))
    late_all = pk[:, 2] - pk[:, 1]
    return {
        "reader": reader + (" (real-time)" if src.reader_info.get("realtime") else "") if src._use_process else "thread",
        "load": (load0, load1),
        "error": err[keep],
        "abs_error": np.abs(err[keep]),
        "emulator_late": late_all,
        "floor_emulator": late[at_floor],
        "floor_reader": reader_lat[at_floor],
        "oversleep": oversleep,
        "reader_latency": reader_lat,
        "floor": floor[keep],
        "fit_minus_floor": (err - floor)[keep],
        "t": (ts - ts[0])[keep],
    }


def report(m: dict) -> str:
    e = m["abs_error"]
    worst = int(np.argmax(e))
    lines = [
        f"reader {m['reader']}, load {m['load'][0]:.1f}-{m['load'][1]:.1f}",
        f"  |timestamp - true|          {_q(e)}; worst at t={m['t'][worst]:.2f} s (signed {m['error'][worst] * 1e3:+.3f} ms)",
        f"  emulator write - due        {_q(m['emulator_late'])}",
        f"  emulator oversleep          {_q(m['oversleep'])}",
        f"  reader arrival - write      {_q(m['reader_latency'])}",
        f"  per-bin floor (arr-wire-true) {_q(m['floor'])}",
        f"    of which emulator late    {_q(m['floor_emulator'])}",
        f"    of which reader wake-up   {_q(m['floor_reader'])}",
        f"  error - floor (the fit)     {_q(m['fit_minus_floor'])}",
    ]
    after10 = m["t"] >= 10.5
    if after10.any():
        lines.append(f"  |error| from 10.5 s (drift fitted) {_q(e[after10])}")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--reader", choices=["thread", "process"], default="thread")
    ap.add_argument("--runs", type=int, default=1)
    a = ap.parse_args()
    for _ in range(a.runs):
        print(report(measure(a.seconds, a.reader)), flush=True)
    sys.exit(0)
