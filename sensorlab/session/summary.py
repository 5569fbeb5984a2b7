"""What ``sensorlab info FILE`` prints: streams, rates, durations, counts, drops, gaps, sync quality.

`summarize` returns plain data (for tests, JSON, the GUI); `format_summary` renders it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from sensorlab.acquisition.clock import REANCHOR_TOLERANCE
from sensorlab.session import sync
from sensorlab.session.rate_check import rate_message, rate_off, sent_rate
from sensorlab.session.reader import Session, StreamReader
from sensorlab.session.stream_reader import rate_from_span
from sensorlab.session.stream_watch import NOTHING_STORED
from sensorlab.session.sync_report import format_drift

#: Samples read per block while scanning a stream for claps (bounds memory on long files).
SCAN_BLOCK_SAMPLES = 480_000
#: Frames read per block for video / radar.
SCAN_BLOCK_FRAMES = 300


def _scan_events(r: StreamReader) -> np.ndarray | None:
    if not sync.can_detect(r.info):
        return None
    step = SCAN_BLOCK_FRAMES if r.info.kind.value in ("video", "frames") else SCAN_BLOCK_SAMPLES
    found, i, n = [], 0, r.count
    while i < n:
        c = r.read_index(i, i + step, decode=False)
        found.append(sync.detect(r.info, c.data, c.timestamps))
        i += step
    ev = np.concatenate(found) if found else np.empty(0)
    # A clap split across blocks shows up twice; merge onsets within the refractory time.
    return sync.merge_close(ev)


def summarize(path: str | Path, measure_sync: bool = True) -> dict[str, Any]:
    """Facts about a session file, as plain data.

    Returns
    -------
    dict
        Session keys (``name``, ``start_time_iso``, ``duration``, ``complete``,
        ``stop_reason``, ``recovered_from``, ``tags``, ``log_errors``, ``source_errors``:
        device → why it was not recorded), ``streams`` (one dict per stream: ``kind``,
        ``nominal_rate``, ``rate_measured``, ``duration``, ``samples``, ``dropped``,
        ``overflows``, ``parse_errors``, ``gaps``, ``gap_seconds``, ``error``, ``reconnects``, ``duplicates``,
        ``drift_ppm``: NaN when not estimated or without device clock, ``clock_reanchors``,
        ``time_backward``: steps back in time, ``time_error``: why that matters or ``""``,
        ``bad_samples``: unreadable frames/events met while scanning for sync) and ``sync`` (see `sync.alignment`, plus ``events``:
        onsets per stream).
    """
    with Session.open(path) as s:
        m = s.metadata
        out: dict[str, Any] = {
            "path": str(path),
            "name": m.name,
            "start_time_iso": m.start_time_iso,
            "duration": s.duration,
            "complete": s.complete,
            "stop_reason": s.stop_reason,
            "recovered_from": str(s.recovered_from) if s.recovered_from else None,
            "tags": dict(m.tags),
            "log_errors": [e["message"] for e in s.log if e.get("level") == "error"],
            "source_errors": _source_errors(s.attrs.get("source_errors")),
            "schema_version": str(s.attrs.get("schema_version", "")),
            # How times are stored: "segments" (compact runs, 2.0) or "samples" (1.x).
            "time_layout": sorted({r.time_layout.value for r in s.streams.values()}),
            "streams": [],
        }
        events: dict[str, np.ndarray] = {}
        end_host = m.end_host_time  # None for a file whose recorder crashed
        gaps_of: dict[str, np.ndarray] = {}
        for name, r in s.streams.items():
            st = r.stats
            gaps = np.asarray(st.gaps, dtype=np.float64).reshape(-1, 2)
            order = r.time_order()
            duration, rate = r.duration, r.rate_measured
            if not order.ok:  # first/last say nothing when time zig-zags: use the whole extent
                span = order.t_max - order.t_min
                duration = max(0.0, span) + (1.0 / r.info.nominal_rate if r.info.regular else 0.0)
                rate = rate_from_span(r.count, span)
            gap_seconds = float((gaps[:, 1] - gaps[:, 0]).sum()) if len(gaps) else 0.0
            if order.ok and gap_seconds > 0:
                # The rate while the device was there: an unplugged minute is not a slow board.
                rate = rate_while_present(r.count, r.first_time + r.offset, r.last_time + r.offset, gaps)
            clock = r.clock
            gaps_of[name] = gaps
            out["streams"].append(
                {
                    "name": name,
                    "kind": r.info.kind.value,
                    "device": r.info.device,
                    "nominal_rate": r.info.nominal_rate,
                    "rate_measured": rate,
                    "duration": duration,
                    "time_backward": order.backward,
                    "time_error": order.message(name),
                    "clock_reanchors": int(clock.get("reanchors", 0)),
                    "samples": st.samples,
                    "dropped": st.dropped,
                    "dropped_in_transit": st.dropped_in_transit,
                    "overflows": st.overflows,
                    "parse_errors": st.parse_errors,
                    "gaps": len(gaps),
                    "gap_seconds": gap_seconds,
                    "error": st.error,
                    # Why its input was thrown away (the last reason logged), e.g. a rig's `channels`
                    # that the board's lines do not fit.
                    "problem": next((e["message"].split(f"{NOTHING_STORED}: ", 1)[1] for e in reversed(s.log)
                                     if e.get("stream") == name and f"{NOTHING_STORED}: " in e.get("message", "")), ""),
                    "reconnects": st.reconnects,
                    "duplicates": st.duplicates,
                    # Seconds between a regular stream's last sample and the end of the recording:
                    # a device that stopped sending and never came back (the port stayed open).
                    "quiet_at_end": max(0.0, float(end_host - r.last_time - 1.0 / r.info.nominal_rate))
                    if end_host is not None and r.count and r.info.regular else 0.0,
                    # A processor's stream (a model's predictions): what it was computed from.
                    "derived_from": list(r.info.derived_from),
                    "rate_sent": sent_rate(r, gaps),
                    "drift_ppm": float(clock.get("drift_ppm", np.nan)),
                    "drift_stderr_ppm": float(clock.get("drift_stderr_ppm", np.nan)),
                    "resolution": 1.0 / r.info.nominal_rate if r.info.nominal_rate > 0 else float("nan"),
                    "sync_offset": r.offset,
                    "time_layout": r.time_layout.value,
                    "explicit_times": r.explicit_times,
                    # What ``data`` stores (2.0: the device's counts, with their scale) and what reads return.
                    "storage": r.storage.value,
                    "dtype": r.stored_info.dtype,
                    "scale": list(r.stored_info.scale),
                    "offset": list(r.stored_info.offset),
                }
            )
            if measure_sync and r.count and order.ok:  # events of a stream whose time zig-zags are not comparable
                ev = _scan_events(r)
                if ev is not None:
                    events[name] = ev
            out["streams"][-1]["bad_samples"] = len(r.bad_samples)  # met while scanning (all frames of a video)
        for st in out["streams"]:
            if st["derived_from"] and end_host is not None:
                st["input_gaps_at_end"] = _gaps_at_end(st, gaps_of, end_host)
        if measure_sync:
            res = {x["name"]: x["resolution"] for x in out["streams"]}
            out["sync"] = {**sync.alignment(events, resolutions=res), "events": {k: len(v) for k, v in events.items()}}
        out["sync_offsets"], out["sync_problem"] = dict(s.sync_offsets), s.sync_problem
    return out


def rate_while_present(count: int, first: float, last: float, gaps: np.ndarray) -> float:
    """Samples per second outside the stream's gaps ((first, last) and ``gaps`` in recorded
    host time; NaN when too few intervals are left to tell).

    A gap is stored from the sample before it to the one after, so each gap takes one interval
    with it. A model's predictions stream stores its input's gaps, which may start before its
    own first window or end after its last: only the part inside the stream's own span counts
    (a 26.08 s input gap across a 26.18 s predictions stream of 17 windows left 1 ns "present"
    and read "measured 16,000,000,000 Hz")."""
    if count < 3 or not last > first:
        return float("nan")
    inside = np.clip(gaps, first, last)
    lengths = inside[:, 1] - inside[:, 0]
    present = (last - first) - float(lengths.sum())
    intervals = count - 1 - int((lengths > 0).sum())
    return intervals / present if intervals >= 2 and present > 0 else float("nan")


def _gaps_at_end(stream: dict[str, Any], gaps_of: dict[str, np.ndarray], end_host: float) -> dict[str, int]:
    """Gaps of each input of a processor's stream in the time it stayed quiet at the end (all, if it made nothing)."""
    quiet_from = end_host - stream["quiet_at_end"] if stream["samples"] else -np.inf
    return {n: int((gaps_of[n][:, 1] > quiet_from).sum()) for n in stream["derived_from"] if n in gaps_of}


def _quiet_processor(s: dict[str, Any], duration: float) -> bool:
    """A processor's stream that made nothing, or nothing in the last `SILENT_AFTER` seconds."""
    return bool(s.get("derived_from")) and (_silent(s, duration) or s.get("quiet_at_end", 0.0) > SILENT_AFTER)


def _processor_reason(s: dict[str, Any], duration: float, lost: set[str] = frozenset()) -> str:
    """Why a processor's stream went quiet, in terms of its inputs (it has no device to check)."""
    what = "the model made no prediction" if s["kind"] == "timeseries" else "it produced nothing"
    when = f"in {duration:.1f} s" if s["samples"] == 0 else f"in the last {s['quiet_at_end']:.1f} s"
    gaps = s.get("input_gaps_at_end", {})
    why = (", ".join(f"its input {n} was lost" for n in sorted(lost))
           or ", ".join(f"its input {n} had {k} gap(s) then" for n, k in gaps.items() if k)
           or f"its input {', '.join(s['derived_from'])} had no gap then")  # fmt: skip
    return f"{what} {when}: {why}"


def lost_streams(summary: dict[str, Any]) -> list[str]:
    """One line per stream whose device was lost during the recording (came back or not):
    what ``sensorlab record`` reports before exiting with status 3.

    A processor's stream (``derived_from``: a model's predictions) has no device: quiet, it is listed only if an input was lost."""
    duration = summary["duration"]
    lost = {s["name"]: why for s in summary["streams"]
            if not (s.get("derived_from") and not s["error"]) and (why := _device_lost(s, duration))}  # fmt: skip
    out = [f"{name}: {why}" for name, why in lost.items()]
    for s in summary["streams"]:  # a processor's stream is judged by its inputs
        inputs_lost = lost.keys() & set(s.get("derived_from", ()))
        if _quiet_processor(s, duration) and not s["error"] and inputs_lost:
            out.append(f"{s['name']}: {_processor_reason(s, duration, inputs_lost)}")
    return out


def _device_lost(s: dict[str, Any], duration: float) -> str:
    """Why a device's stream counts as lost during the recording, or "" if it does not."""
    if s["error"]:
        return f"stopped early ({s['error']})"
    if s.get("reconnects"):
        return f"device lost and back {s['reconnects']}×, {s['gap_seconds']:.1f} s of gaps"
    if _silent(s, duration) and s.get("problem"):
        return f"no samples in {duration:.1f} s: {s['problem']}"
    if _silent(s, duration):
        # A port that opens but never speaks (wrong port, board not running, wrong baud
        # with a declared channel list) leaves an empty stream: not a clean recording.
        source = f" from {s['device']}" if s.get("device") else ""
        return (f"no samples in {duration:.1f} s{source}: check that the device is "
                f"sending on this port at this baud rate, and that the board's firmware is running "
                f"(`sensorlab devices`, docs/RIG.md)")  # fmt: skip
    if _rate_off(s):
        return _rate_message(s)
    if s.get("quiet_at_end", 0.0) > SILENT_AFTER:
        return (f"stopped sending {s['quiet_at_end']:.1f} s before the end of the recording and never "
                "resumed: check the device (power, firmware, cable)")  # fmt: skip
    return ""


#: A regular stream that stored nothing over at least this many seconds (and 10 sample
#: periods) of recording counts as lost: shorter recordings may end before a first window.
SILENT_AFTER = 2.0


def _silent(stream: dict[str, Any], duration: float) -> bool:
    """A stream of samples that stored none over a recording long enough to expect some.

    Also one without a declared rate (a rig's text board without `rate`): events may rightly
    never come, but a device of samples that sent nothing in the whole recording is as lost
    as one with a rate (it gave exit 0 and an empty stream without a word)."""
    if stream["samples"] or stream["kind"] == "events":
        return False
    rate = stream["nominal_rate"]
    return duration >= (max(SILENT_AFTER, 10.0 / rate) if rate > 0 else SILENT_AFTER)


_rate_off, _rate_message = rate_off, rate_message  # the names this module's callers and tests use


def _source_errors(raw: Any) -> dict[str, str]:
    if not raw:
        return {}
    try:
        d = json.loads(raw)
    except (TypeError, ValueError):
        return {"?": str(raw)}
    return {str(k): str(v) for k, v in d.items()} if isinstance(d, dict) else {"?": str(d)}


def format_summary(summary: dict[str, Any] | str | Path) -> str:
    """Render `summarize` output (or summarize a path first) as a text report."""
    d = summary if isinstance(summary, dict) else summarize(summary)
    lines = [f"{d['path']}  {d['name']!r}  started {d['start_time_iso']}  {d['duration']:.1f} s"]
    if d.get("recovered_from"):
        lines.append(
            f"  left flagged open by a crashed recorder: read from a temporary cleared copy (deleted again); "
            f"`sensorlab repair {d['recovered_from']}` writes a permanent one"
        )
    if not d["complete"] and d["stop_reason"]:
        lines.append(f"  stopped early: {d['stop_reason']}")
        lines.append("  a write failed: only samples that reached the disk are read; counters are what was sent to the file")
    elif not d["complete"]:
        lines.append("  not closed cleanly (recording still running or crashed): counters are from the last flush")
    elif d["stop_reason"] != "stopped":
        lines.append(f"  stopped early: {d['stop_reason']}")
    if d.get("time_layout"):
        lines.append(f"  format {d.get('schema_version') or '?'}, time layout: {_layout_note(d)}")
    if d["streams"] and "dtype" in d["streams"][0]:
        lines.append(f"  samples stored as: {_dtype_note(d)}")
    if d["tags"]:
        lines.append("  tags: " + ", ".join(f"{k}={v}" for k, v in d["tags"].items()))
    # Columns are as wide as their widest cell, two spaces apart, so no value runs into its
    # neighbour whatever its size (e.g. "gaps" of "12 (0.03s)" next to a 6-digit parse count).
    heads = ("stream", "kind", "rate", "measured", "duration", "samples", "dropped", "ovfl", "parse", "gaps", "drift")
    rows: list[tuple[list[str], str]] = []
    for s in d["streams"]:
        rate = f"{s['nominal_rate']:g}" if s["nominal_rate"] > 0 else "irreg."
        meas = f"{s['rate_measured']:.2f}" if np.isfinite(s["rate_measured"]) else "-"
        gaps = f"{s['gaps']}" + (f" ({s['gap_seconds']:.2f}s)" if s["gaps"] else "")
        # "-": not estimated (under a second of device time) or no device clock; "± N": standard error
        drift = format_drift(s.get("drift_ppm", np.nan), s.get("drift_stderr_ppm", np.nan))
        cells = [s["name"], s["kind"], rate, meas, f"{s['duration']:.1f}s", str(s["samples"]), str(s["dropped"]),
                 str(s["overflows"]), str(s["parse_errors"]), gaps, drift]  # fmt: skip
        rows.append((cells, _notes(s, d["duration"])))
    widths = [max([len(h), *(len(c[i]) for c, _ in rows)]) for i, h in enumerate(heads)]

    def _line(cells: list[str] | tuple[str, ...]) -> str:
        return "  " + "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    header = _line(heads)
    lines += ["", header, "  " + "-" * (len(header) - 2)]
    for cells, notes in rows:
        lines.append(_line(cells))
        lines += notes
    if "sync" in d:
        sy = d["sync"]
        lines += ["", f"  sync: {sy['message']}"]
        for p in sy["pairs"]:
            lines.append(f"    {p['a']} ↔ {p['b']}: {p['matched']} events, median {p['median_ms']:.1f} ms, max {p['max_ms']:.1f} ms"
                         + (f" — {p['note']}" if p.get("note") else ""))
    if d.get("sync_offsets"):
        lines.append("  sync offsets applied (`sensorlab sync --report` for details, `--undo` reverts): "
                     + ", ".join(f"{k} {v * 1e3:+.1f} ms" for k, v in d["sync_offsets"].items()))
    if d.get("sync_problem"):
        lines.append(f"  ! {d['sync_problem']}")
    if d.get("source_errors"):
        lines += ["", "  not recorded (could not be opened):"]
        lines += [f"    {dev} ({' '.join(str(why).split())})" for dev, why in d["source_errors"].items()]
    for e in d["log_errors"]:
        if not any(e == s["error"] for s in d["streams"]):
            lines.append(f"  ! {e}")
    return "\n".join(lines)


def _notes(s: dict[str, Any], duration: float) -> list[str]:
    """Lines printed under a stream's row: why it stopped, broken time, clock re-anchors."""
    out = []
    if s.get("dropped") or s.get("overflows"):
        host = s.get("dropped_in_transit", 0)
        out.append(
            f"    lost on the host side (sent, not read in time): {host} sample(s){' + ' + str(s['overflows']) + ' input overflow(s)' if s.get('overflows') else ''}; "
            f"never sent by the device (its own drops): {s['dropped'] - host}"
        )
    if s.get("reconnects"):
        out.append(f"    ~ device lost and back {s['reconnects']}× (the time it was gone is in the gaps)")
    if s.get("duplicates"):
        out.append(f"    ~ {s['duplicates']} packet(s) the device sent twice (same sequence number, same bytes): dropped, stored once")
    if s["error"]:
        out.append(f"    ! {s['error']}")
    if s.get("problem"):
        out.append(f"    ! {NOTHING_STORED} (for a while at least): {s['problem']}")
    if s.get("bad_samples"):
        out.append(f"    ! {s['bad_samples']} unreadable frame(s)/event(s) skipped (damaged, or never fully written)")
    if s.get("time_error"):
        out.append(f"    ! {s['time_error']}")
    if _rate_off(s):
        out.append(f"    ! {_rate_message(s)}")
    if _quiet_processor(s, duration):
        out.append(f"    ~ {_processor_reason(s, duration)}")
    if s.get("clock_reanchors"):
        out.append(
            f"    clock re-anchored {s['clock_reanchors']} time(s): the device clock disagreed with arrival times by more than "
            f"{REANCHOR_TOLERANCE * 1e3:.0f} ms (lost lines, a paused or restarted device); timestamps follow the arrivals there"
        )
    return out


def _layout_note(d: dict[str, Any]) -> str:
    """The layout in words: ``compact (…)`` (4.0, or 3.0 with its µs kept whole), ``segments
    (…)`` (2.0) plus the streams whose timestamps had to be kept per sample, or ``samples`` (1.x)."""
    layouts = d["time_layout"]
    v3 = str(d.get("schema_version") or "").startswith("3.")
    notes = {
        "compact": "compact (time runs; irregular arrival times to 1 µs" + (", whole; sensorlab 3.x reads it)" if v3 else ", as steps)"),
        "segments": "segments (time runs, every time bit-exact; sensorlab 2.x reads it)",
    }
    if len(layouts) != 1 or layouts[0] not in notes:
        return " + ".join(layouts) + (" (one float64 per sample and clock; sensorlab 1.x reads it)" if "samples" in layouts else "")
    # Only streams where it matters (a few verbatim samples, e.g. a first hand-over, are normal).
    kept = [f"{s['name']} {100 * s['explicit_times'] / s['samples']:.0f} %" for s in d["streams"]
            if s.get("samples") and s.get("explicit_times", 0) >= 0.1 * s["samples"]]
    return notes[layouts[0]] + (f"; times kept per sample (irregular): {', '.join(kept)}" if kept else "")


def _dtype_note(d: dict[str, Any]) -> str:
    """``mic int16 counts (×3.052e-05 → float32), imu int16 counts (per-channel scale → float32), cam jpeg, …``."""
    parts = []
    for s in d["streams"]:
        if s.get("storage") in ("jpeg", "utf8"):
            parts.append(f"{s['name']} {'jpeg' if s['storage'] == 'jpeg' else 'text'}")
            continue
        scale, offset = s.get("scale") or [], s.get("offset") or []
        if not scale and not offset:
            parts.append(f"{s['name']} {s['dtype']}")
            continue
        how = f"×{scale[0]:.4g}" if len(scale) == 1 else "per-channel scale" if scale else "offset"
        if offset and scale:
            how += " + offset"
        parts.append(f"{s['name']} {s['dtype']} counts ({how} → float32)")
    return ", ".join(parts)
