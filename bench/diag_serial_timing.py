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


def measure(seconds: float = 20.0, reader: str = "thread", settle: float = 0.0) -> dict:
    mcu = BinaryIMU(rate=1000.0, drift_ppm=100.0)
    mcu.link.record_timing()  # (ready, due, written) of every packet, on the host clock
    wakes: list[tuple[float, float]] = []  # (asked-for wake-up, actual)
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
    from sensorlab.acquisition.buffers import concat_chunks

    m = split_error(concat_chunks(chunks), mcu, settle)
    wk = np.array(wakes)
    m.update(reader=reader + (" (real-time)" if src.reader_info.get("realtime") else "") if src._use_process else "thread",
             load=(load0, load1), oversleep=wk[:, 1] - wk[:, 0])  # fmt: skip
    return m


def split_error(c, mcu, settle: float = 1.0) -> dict:
    """A binary IMU chunk's timestamp errors against ``mcu``'s truth, split into the emulator's
    pacing, the reader's wake-up and the fit (``mcu.link.record_timing()`` must have run)."""
    ts, dev, arr = c.timestamps, c.device_times, c.arrival_times
    true = mcu.true_host_times(dev)
    err = ts - true
    keep = ts - ts[0] >= settle
    pk = np.array(mcu.link.timing)
    pk = pk[np.argsort(pk[:, 0])]
    # The last sample of each read: its packet, when that was written, and when it arrived.
    last = np.r_[np.diff(arr) != 0, True]
    j = np.clip(np.searchsorted(pk[:, 0], true[last] - 1e-6), 0, len(pk) - 1)
    matched = np.abs(pk[j, 0] - true[last]) < 2e-6
    _, due, written = pk[j[matched]].T
    arrived = arr[last][matched]
    reader_lat = arrived - written
    late = written - due
    # The floor the fit could use: per 0.5 s device bin, the least (arrival - wire time - true).
    delay = arrived - due
    bins = np.floor(dev[last][matched] / 0.5).astype(int)
    floor_by_bin: dict[int, float] = {}
    best: dict[int, int] = {}  # the read that set each bin's floor
    for i, (b, d) in enumerate(zip(bins, delay, strict=True)):
        if d < floor_by_bin.get(b, np.inf):
            floor_by_bin[b], best[b] = d, i
    sample_bins = np.floor(dev / 0.5).astype(int)
    floor = np.array([min(floor_by_bin.get(b, np.inf), floor_by_bin.get(b - 1, np.inf)) for b in sample_bins])
    at_floor = np.array(sorted(best.values()))
    return {
        "error": err[keep],
        "abs_error": np.abs(err[keep]),
        "emulator_late": pk[:, 2] - pk[:, 1],
        "floor_emulator": late[at_floor],
        "floor_reader": reader_lat[at_floor],
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
        f"  emulator oversleep          {_q(m['oversleep'])}" if "oversleep" in m else "",
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
    ap.add_argument("--bins", action="store_true", help="also print, per second, the worst error, its floor and the fit's share")
    a = ap.parse_args()
    for _ in range(a.runs):
        m = measure(a.seconds, a.reader)
        print(report(m), flush=True)
        if a.bins:
            sec = np.floor(m["t"]).astype(int)
            for k in np.unique(sec):
                i = np.flatnonzero(sec == k)
                w = i[np.argmax(m["abs_error"][i])]
                print(f"    t={k:3d} s: worst {m['error'][w] * 1e3:+.3f} ms, floor there {m['floor'][w] * 1e3:.3f}, fit - floor {m['fit_minus_floor'][w] * 1e3:+.3f}")
    sys.exit(0)
