"""A session's sync report: clock drift and latency jitter per device, residual alignment per
pair of streams judged against their time resolution, and a plot (`sensorlab sync --report`).

Why "against their resolution": a clap seen by a 20 Hz radar can only be timed to within one
50 ms frame, so a 38 ms difference between the radar and the microphone is not an error
anyone can correct; the report says so instead of calling it one. A difference larger than
the coarser stream's sample is a real offset, and `sensorlab sync SESSION` measures and
stores its correction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sensorlab.acquisition.clock import ClockFit
from sensorlab.session import sync
from sensorlab.session.calibration import resolution, scan_stream
from sensorlab.session.reader import Session, StreamReader

#: Raw (device, arrival) pairs read per stream for the latency figures.
MAX_CLOCK_SAMPLES = 2_000_000


def latency(r: StreamReader) -> dict[str, Any] | None:
    """Transport latency above the device clock's lower envelope, for streams with device time.

    Returns ``{"times", "latency"}`` (arrival host times and seconds above the envelope, one
    per hand-over), or None without raw device times.
    """
    c = r.read_index(0, min(r.count, MAX_CLOCK_SAMPLES), decode=False) if r.info.has_device_time else None
    if c is None or c.device_times is None or c.arrival_times is None:
        return None
    d, a = c.device_times, c.arrival_times
    ok = np.isfinite(d) & np.isfinite(a)
    d, a = d[ok], a[ok]
    if len(d) < 2:
        return None
    last = np.flatnonzero(np.diff(a) != 0)  # the last sample of each hand-over: freshest
    last = np.append(last, len(a) - 1)
    d, a = d[last], a[last]
    fit = ClockFit()
    for x, y in zip(d, a):
        fit.add(float(x), float(y))
    est = fit.drift_estimate()
    slope = 1.0 / (1.0 + est.drift_ppm * 1e-6) if est is not None else 1.0
    res = a - slope * d
    lat = res - np.percentile(res, 1)
    return {"times": a, "latency": lat}


def report(path: str | Path) -> dict[str, Any]:
    """The sync report of a session as plain data (corrected times when offsets are stored).

    Returns
    -------
    dict
        ``offsets`` (applied, s), ``streams`` (per stream: ``resolution``, ``drift_ppm``,
        ``drift_stderr_ppm``, ``drift_span``, ``latency_median_ms`` / ``jitter_ms`` (p5–p95 of
        latency; streams with device time) or ``interval_jitter_ms`` (host-stamped streams)),
        ``pairs`` (``a``, ``b``, ``events``, ``median_ms`` signed b − a, ``max_ms``,
        ``resolution_ms``, ``verdict``), ``onsets`` per stream and ``latency`` series (plot).
    """
    out: dict[str, Any] = {"path": str(path), "streams": [], "pairs": [], "onsets": {}, "latency": {}}
    with Session.open(path) as s:
        out["offsets"], out["sync_problem"] = dict(s.sync_offsets), s.sync_problem
        res: dict[str, float] = {}
        for name, r in s.streams.items():
            if r.info.kind.value == "events" or not r.count:
                continue
            res[name] = resolution(r.info)
            clock = r.clock
            row: dict[str, Any] = {"name": name, "kind": r.info.kind.value, "rate": r.info.nominal_rate, "resolution": res[name],
                                   "drift_ppm": clock.get("drift_ppm", np.nan), "drift_stderr_ppm": clock.get("drift_stderr_ppm", np.nan),
                                   "drift_span": clock.get("drift_span", np.nan), "offset_ms": s.sync_offsets.get(name, 0.0) * 1e3}  # fmt: skip
            lat = latency(r)
            if lat is not None:
                out["latency"][name] = lat
                row["latency_median_ms"] = float(np.median(lat["latency"]) * 1e3)
                row["jitter_ms"] = float(np.subtract(*np.percentile(lat["latency"], [95, 5])) * 1e3)
            elif r.info.regular and r.count > 2:
                ts = r.timestamps[:MAX_CLOCK_SAMPLES]
                row["interval_jitter_ms"] = float(np.std(np.diff(ts)) * 1e3)
            out["streams"].append(row)
            if r.time_order().ok:
                ev = scan_stream(r)
                if ev is not None and len(ev):
                    out["onsets"][name] = ev
    names = list(out["onsets"])
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            err = sync.pair_errors(out["onsets"][a], out["onsets"][b])
            if len(err):
                out["pairs"].append(_pair(a, b, err, res[a], res[b]))
    return out


def _pair(a: str, b: str, err: np.ndarray, res_a: float, res_b: float) -> dict[str, Any]:
    coarse, r = (a, res_a) if np.nan_to_num(res_a) >= np.nan_to_num(res_b) else (b, res_b)
    med, mx = float(np.median(err)), float(np.abs(err).max())
    if not np.isfinite(r):
        verdict = f"{coarse} is irregular: no sample period to judge against"
    elif abs(med) <= r:
        # Onsets are interpolated to about ±½ sample of each stream: within one sample of the
        # coarser stream nothing finer can be told apart.
        verdict = f"within one sample of {coarse} ({r * 1e3:.3g} ms at {1 / r:g} Hz): aligned as well as {coarse} can resolve"
    else:
        verdict = f"off by {med * 1e3:+.1f} ms, more than one sample of {coarse} ({r * 1e3:.3g} ms): a real offset; `sensorlab sync` corrects it"
    return {"a": a, "b": b, "events": int(len(err)), "median_ms": med * 1e3, "max_ms": mx * 1e3, "resolution_ms": r * 1e3,
            "within_resolution": bool(np.isfinite(r) and abs(med) <= r), "verdict": verdict}  # fmt: skip


def format_report(d: dict[str, Any]) -> str:
    """Render `report` as text."""
    lines = [f"sync report: {d['path']}"]
    if d.get("sync_problem"):
        lines.append(f"  ! {d['sync_problem']}")
    if d["offsets"]:
        lines.append("  offsets applied (raw times kept; `sensorlab sync --undo` reverts): "
                     + ", ".join(f"{k} {v * 1e3:+.1f} ms" for k, v in d["offsets"].items()))  # fmt: skip
    else:
        lines.append("  no offsets applied: raw times")
    lines += ["", "  per device:"]
    for s in d["streams"]:
        parts = [f"one sample {s['resolution'] * 1e3:.3g} ms" if np.isfinite(s["resolution"]) else "irregular"]
        parts.append(format_drift(s["drift_ppm"], s["drift_stderr_ppm"], s.get("drift_span", np.nan), long=True))
        if "jitter_ms" in s:
            parts.append(f"latency above the clock fit median {s['latency_median_ms']:.2f} ms, jitter (p5–p95) {s['jitter_ms']:.2f} ms")
        elif "interval_jitter_ms" in s:
            parts.append(f"host-stamped; sample interval jitter (std) {s['interval_jitter_ms']:.2f} ms")
        lines.append(f"    {s['name']} ({s['kind']}): " + "; ".join(p for p in parts if p))
    lines += ["", "  alignment per pair (claps, after the offsets above):"]
    if not d["pairs"]:
        lines.append("    no common events (claps) in two or more streams: alignment not measured")
    for p in d["pairs"]:
        lines.append(f"    {p['a']} ↔ {p['b']}: {p['events']} claps, median {p['median_ms']:+.1f} ms, max |{p['max_ms']:.1f}| ms — {p['verdict']}")
    return "\n".join(lines)


def format_drift(drift: float, stderr: float, span: float = np.nan, long: bool = False) -> str:
    """``"102 ± 35 ppm"``; ``"-"`` (``long``: a sentence) when not estimated."""
    if not np.isfinite(drift):
        return "clock drift not measured (no device clock, or under a second of it)" if long else "-"
    txt = f"{drift:.0f} ± {stderr:.0f} ppm" if np.isfinite(stderr) else f"{drift:.1f} ppm"
    if long:
        txt = f"clock drift {txt}" + (f" over {span:.1f} s" if np.isfinite(span) else "")
    return txt


def plot(d: dict[str, Any], out: str | Path) -> Path:
    """Write the report's plot (PNG): per-clap alignment against each stream's resolution, and
    device latency over time."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6.5), constrained_layout=True)
    onsets = d["onsets"]
    res = {s["name"]: s["resolution"] for s in d["streams"]}
    ref = min(onsets, key=lambda n: np.nan_to_num(res.get(n, np.nan), nan=1.0)) if onsets else None
    t_start = min((float(v[0]) for v in onsets.values()), default=0.0)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (name, ev) in enumerate(onsets.items()):
        if ref is None or name == ref:
            continue
        err = _signed_pairs(onsets[ref], ev)
        c = colors[k % len(colors)]
        if len(err):
            ax1.plot(err[:, 0] - t_start, err[:, 1] * 1e3, "o", color=c, label=f"{name} − {ref}")
        r = res.get(name, np.nan)
        if np.isfinite(r):
            ax1.axhspan(-r * 1e3, r * 1e3, color=c, alpha=0.08)
    ax1.axhline(0, color="k", lw=0.8)
    ax1.set_title(f"clap alignment against {ref or '—'} (bands: ± one sample of each stream)")
    ax1.set_xlabel("clap time (s from the first clap)")
    ax1.set_ylabel("difference (ms)")
    if ax1.get_legend_handles_labels()[0]:
        ax1.legend(loc="upper right", fontsize=8)
    for name, lat in d["latency"].items():
        ax2.plot(lat["times"] - lat["times"][0], lat["latency"] * 1e3, ".", ms=2, label=name)
    ax2.set_title("device latency above the clock fit (lower envelope)")
    ax2.set_xlabel("time (s from the stream's start)")
    ax2.set_ylabel("latency (ms)")
    if d["latency"]:
        ax2.legend(loc="upper right", fontsize=8, markerscale=4)
    else:
        ax2.text(0.5, 0.5, "no stream with a device clock", ha="center", va="center", transform=ax2.transAxes)
    out = Path(out)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _signed_pairs(ref: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``(k, 2)`` (reference onset, other − reference) of pairs within `sync.MAX_PAIR_OFFSET`."""
    ref, other = np.asarray(ref), np.sort(np.asarray(other))
    if len(ref) == 0 or len(other) == 0:
        return np.empty((0, 2))
    j = np.clip(np.searchsorted(other, ref), 0, len(other) - 1)
    jm = np.clip(j - 1, 0, len(other) - 1)
    j = np.where(np.abs(other[jm] - ref) < np.abs(other[j] - ref), jm, j)
    d = other[j] - ref
    ok = np.abs(d) <= sync.MAX_PAIR_OFFSET
    return np.stack([ref[ok], d[ok]], axis=1)
