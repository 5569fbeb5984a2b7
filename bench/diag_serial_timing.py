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

Only the first is sensorlab-independent at the source; the reader's share and the fit's
share are what sensorlab can change.

`wire_split` (used by ``bench_sync.py``, whose emulator runs in the board host process) splits
every sample's error exactly instead: `replay` stamps the samples as sensorlab's own pipeline
would with a reader that takes every write the moment the emulator logged it (the *wire
truth*: the best any host could do with what the emulator really put on the wire), and once
more as if every packet had been written the moment its UART finished it. The emulator's share
is the difference of the two replays; sensorlab's is the rest (the reader, and the fit on a
perfect device).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from sensorlab.acquisition.clock import REANCHOR_CONFIRM_LATE, REANCHOR_TOLERANCE, ClockFit, now
from sensorlab.acquisition.emulated.mcu import BinaryIMU
from sensorlab.acquisition.serial.port import SerialSource
from sensorlab.acquisition.serial.reads_to_chunks import WARMUP


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
    pk = np.array(mcu.link.timing)[:, :3]  # (ready, due, written)
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


def replay(c, mcu, perfect_emulator: bool = False, fit: ClockFit | None = None) -> np.ndarray:
    """The timestamps sensorlab's own stamping gives these samples when nothing on the host
    delays them: a reader that takes every write the moment the emulator makes it (arrival =
    written, from the emulator's log), or, with ``perfect_emulator``, a device whose every packet
    reaches the port the moment its UART finished it (written = due).

    It replays `SerialSource`'s pipeline: one ``(device time of the read's last sample, arrival -
    wire time)`` pair per read into a `ClockFit` configured like ``fit`` (the source's; default
    as `SerialSource` builds it for a binary device), the first `WARMUP` device seconds held, each
    sample stamped with the fit then, never after its read's arrival. NaN for samples whose
    packet the log lacks. With the emulator's real writes this is the *wire truth*: the best any
    host could stamp what the emulator really put on the wire, so ``timestamps - wire truth`` is
    sensorlab's error and ``wire truth - replay(perfect_emulator=True)`` the emulator's.
    """
    f = fit if fit is not None else ClockFit(reanchor=REANCHOR_TOLERANCE, late_confirm=REANCHOR_CONFIRM_LATE)
    f = ClockFit(f.bin_seconds, f._bins.maxlen, f.fit_drift, f.latency, f.reanchor, f.late_confirm)
    dev = np.asarray(c.device_times, dtype=np.float64)
    true = mcu.true_host_times(dev)
    pk = np.array(mcu.link.timing)  # (ready, due, written, start): ready is the true time of the packet's last sample
    pk = pk[np.argsort(pk[:, 0])]
    j = np.minimum(np.searchsorted(pk[:, 0], true - 1e-6), len(pk) - 1)
    ok = (pk[j, 0] >= true - 1e-6) & (pk[j, 0] - true < 0.1)
    out = np.full(len(dev), np.nan)
    idx = np.flatnonzero(ok)
    if not len(idx):
        return out
    jj = j[idx]
    starts = np.r_[0, np.flatnonzero(np.diff(jj)) + 1]  # each packet's samples: idx[starts[k]:ends[k]]
    ends = np.r_[starts[1:], len(idx)]
    written = pk[:, 1] if perfect_emulator else pk[:, 2]
    pkt = jj[starts]
    # One read per write (the emulator's one pump): its last packet gives the pair.
    read_of = np.r_[0, np.cumsum(np.diff(written[pkt]) != 0)] if not perfect_emulator else np.arange(len(pkt))
    first_d, held = dev[idx[0]], []
    for r in np.unique(read_of):
        ks = np.flatnonzero(read_of == r)
        last = pkt[ks[-1]]
        arrival = written[last]
        d_last = dev[idx[ends[ks[-1]] - 1]]
        f.add(d_last, arrival - (pk[last, 1] - pk[last, 3]))
        held.append((idx[starts[ks[0]] : ends[ks[-1]]], arrival))
        if d_last - first_d < WARMUP and arrival - held[0][1] < WARMUP:
            continue
        m = f.mapping()
        for samples, when in held:
            out[samples] = np.minimum(m.to_host(dev[samples]), when)
        held = []
    return out


def wire_split(c, mcu, fit: ClockFit | None = None) -> dict:
    """Each sample's timestamp error split into the emulator's share (``wire truth - true``: what
    its late writes cost even a perfect host) and sensorlab's (``timestamp - wire truth``), with
    sensorlab's share further split into the reader (``timestamp - replay``) and the fit on a
    perfect device (``replay(perfect) - true``); see `replay`."""
    true = mcu.true_host_times(c.device_times)
    wire = replay(c, mcu, fit=fit)
    perfect = replay(c, mcu, perfect_emulator=True, fit=fit)
    ok = np.isfinite(wire) & np.isfinite(perfect)
    ts = c.timestamps[ok]
    return {
        "t": (c.timestamps - c.timestamps[0])[ok],
        "total": ts - true[ok],
        "emulator": wire[ok] - perfect[ok],
        "sensorlab": ts - wire[ok] + perfect[ok] - true[ok],
        "reader": ts - wire[ok],
        "fit": perfect[ok] - true[ok],
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
