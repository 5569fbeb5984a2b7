"""`export_xdf`: write a session as an XDF file (``sensorlab session export SESSION OUT.xdf``).

Layout, as LabRecorder writes it: the FileHeader, one StreamHeader per stream, then for each
`BLOCK_SECONDS` of the session a Samples chunk per stream and its ClockOffset chunks, and a
Boundary chunk; finally a StreamFooter per stream (first/last time stamp, sample count and the
clock offsets again). Every sample carries its time stamp (no deduced stamps), so nothing
depends on the nominal rate.

- LSL streams (a ``<name>_lsl_clock`` companion with device times) are written on their
  sender's clock with their ClockOffset measurements; the companion is not a stream of the file.
- Every other stream is written on the host clock, which is the file's clock (no offsets).
- Video is left out (XDF readers expect one number or string per channel); frames are
  flattened to channels. The session's stream description (kind, shape, dtype, units) goes
  into each header's ``desc/sensorlab/info`` so `importer.import_xdf` restores it exactly.

The file is written beside the target and renamed into place: an interrupted export leaves
no half file under the requested name.
"""

from __future__ import annotations

import json
import os
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from sensorlab.acquisition.lsl.runtime import clock_stream_of
from sensorlab.acquisition.source import StreamInfo, StreamKind
from sensorlab.session.reader import Session, StreamReader
from sensorlab.session.xdf import spec

#: Seconds of data per Samples chunk (and between Boundary chunks).
BLOCK_SECONDS = 5.0


@dataclass
class ExportResult:
    path: Path
    streams: dict[str, int] = field(default_factory=dict)  # stream → samples written
    clock_offsets: dict[str, int] = field(default_factory=dict)  # stream → offsets written
    skipped: dict[str, str] = field(default_factory=dict)  # stream → why

    def summary(self) -> str:
        parts = [f"{n} ({c} samples{f', {self.clock_offsets[n]} clock offsets' if self.clock_offsets.get(n) else ''})" for n, c in self.streams.items()]
        lines = [f"wrote {self.path}: {len(self.streams)} stream(s): " + ", ".join(parts)]
        lines += [f"  left out {n}: {why}" for n, why in self.skipped.items()]
        return "\n".join(lines)


@dataclass
class _Plan:
    sid: int
    reader: StreamReader
    fmt: str  # XDF channel format
    channels: int
    host: np.ndarray  # host timestamps (which block a sample goes in)
    stamps: np.ndarray  # the time stamps written (sender clock for LSL streams, else host)
    clock: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # (host time, collection time, offset)


def _num(x: float) -> str:
    return repr(float(x))  # shortest text that reads back to the same double


def _xml(tag: str, text: object) -> str:
    return f"<{tag}>{escape(str(text))}</{tag}>"


def export_xdf(session_path: str | Path, out: str | Path, force: bool = False, progress: Callable[[float], None] | None = None) -> ExportResult:
    """Write ``session_path`` as the XDF file ``out``; returns what was written.

    Raises
    ------
    FileExistsError
        ``out`` exists and ``force`` is False.
    ValueError
        The session has no stream XDF can hold.
    """
    out = Path(out)
    if out.exists() and not force:
        raise FileExistsError(f"{out} already exists; choose another name or pass --force to replace it")
    result = ExportResult(out)
    with Session.open(session_path) as s:
        plans = _plan(s, result)
        if not plans:
            raise ValueError(f"{Path(session_path).name}: no stream XDF can hold ({'; '.join(f'{k}: {v}' for k, v in result.skipped.items()) or 'no streams'})")
        tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
        try:
            with open(tmp, "wb") as f:
                f.write(spec.MAGIC)
                f.write(spec.chunk(spec.FILE_HEADER, _file_header(s).encode("utf-8")))
                f.writelines(spec.chunk(spec.STREAM_HEADER, _stream_header(s, p).encode("utf-8"), p.sid) for p in plans.values())
                _write_blocks(f, plans, progress)
                for name, p in plans.items():
                    f.write(spec.chunk(spec.STREAM_FOOTER, _footer(p).encode("utf-8"), p.sid))
                    result.streams[name] = len(p.stamps)
                    if p.clock is not None:
                        result.clock_offsets[name] = len(p.clock[0])
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, out)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return result


def _plan(s: Session, result: ExportResult) -> dict[str, _Plan]:
    clocks = {parent: r for r in s.streams.values() if (parent := clock_stream_of(r.info)) in s.streams}
    plans: dict[str, _Plan] = {}
    for name, r in s.streams.items():
        info = r.info
        if clock_stream_of(info) in s.streams:
            continue  # written as its parent's ClockOffset chunks
        if info.kind is StreamKind.VIDEO:
            result.skipped[name] = "video (XDF holds numbers or strings per channel; export frames another way)"
            continue
        fmt = "string" if info.kind is StreamKind.EVENTS else spec.CHANNEL_FORMATS.get(spec.WIDEN.get(np.dtype(info.dtype).name, np.dtype(info.dtype).name))
        if fmt is None:
            result.skipped[name] = f"{info.dtype} values, which XDF cannot hold"
            continue
        channels = 1 if info.kind is StreamKind.EVENTS else int(np.prod(info.sample_shape)) if info.sample_shape else 1
        host = r.timestamps
        plan = _Plan(len(plans) + 1, r, fmt, channels, host, host)
        clock = clocks.get(name)
        if clock is not None and clock.count:
            raw = r.read_index(0, r.count, decode=False).device_times
            c = clock.read_index(0, clock.count)
            if raw is not None and np.all(np.isfinite(raw)) and c.device_times is not None:
                plan.stamps = np.asarray(raw, dtype=np.float64)
                plan.clock = (c.timestamps, np.asarray(c.device_times, np.float64), np.asarray(c.data, np.float64).reshape(-1))
        plans[name] = plan
    return plans


def _file_header(s: Session) -> str:
    m = s.metadata
    meta = {k: v for k, v in m.model_dump().items() if v not in (None, "", {})}
    return ("<?xml version=\"1.0\"?><info>" + _xml("version", "1.0") + _xml("datetime", m.start_time_iso)
            + "<sensorlab>" + _xml("metadata", json.dumps(meta)) + "</sensorlab></info>")  # fmt: skip


def _stream_header(s: Session, p: _Plan) -> str:
    info: StreamInfo = p.reader.info
    rate = info.nominal_rate if info.kind is not StreamKind.EVENTS else 0.0
    xdf_type = {StreamKind.EVENTS: "Markers", StreamKind.AUDIO: "Audio", StreamKind.FRAMES: "Frames"}.get(info.kind, "Signal")
    labels = list(info.channel_names) if len(info.channel_names) == p.channels else [f"ch{i + 1}" for i in range(p.channels)]
    units = list(info.units) if len(info.units) == p.channels else [info.units[0]] * p.channels if len(info.units) == 1 else []
    channels = "".join("<channel>" + _xml("label", lab) + (_xml("unit", units[i]) if units else "") + "</channel>" for i, lab in enumerate(labels))
    first = p.stamps[0] if len(p.stamps) else 0.0
    return (
        "<?xml version=\"1.0\"?><info>"
        + _xml("name", info.name) + _xml("type", xdf_type) + _xml("channel_count", p.channels)
        + _xml("nominal_srate", _num(rate)) + _xml("channel_format", p.fmt)
        + _xml("source_id", f"sensorlab:{s.metadata.name or s.path.stem}:{info.name}")
        + _xml("version", "1.1") + _xml("created_at", _num(first)) + _xml("uid", uuid.uuid4())
        + _xml("session_id", "default") + _xml("hostname", s.metadata.hostname or "")
        + "<desc><channels>" + channels + "</channels>"
        + "<sensorlab>" + _xml("info", info.to_json()) + _xml("clock", "lsl" if p.clock is not None else "host") + "</sensorlab>"
        + "</desc></info>"
    )  # fmt: skip


def _footer(p: _Plan) -> str:
    n = len(p.stamps)
    offsets = ""
    if p.clock is not None:
        offsets = "<clock_offsets>" + "".join(
            "<offset>" + _xml("time", _num(t)) + _xml("value", _num(v)) + "</offset>" for t, v in zip(p.clock[1], p.clock[2])
        ) + "</clock_offsets>"  # fmt: skip
    first, last = (p.stamps[0], p.stamps[-1]) if n else (0.0, 0.0)
    return ("<?xml version=\"1.0\"?><info>" + _xml("first_timestamp", _num(first)) + _xml("last_timestamp", _num(last))
            + _xml("sample_count", n) + offsets + "</info>")  # fmt: skip


def _write_blocks(f, plans: dict[str, _Plan], progress: Callable[[float], None] | None) -> None:
    """Samples and clock offsets interleaved in time blocks, each block closed by a Boundary."""
    starts = [p.host[0] for p in plans.values() if len(p.host)]
    ends = [p.host[-1] for p in plans.values() if len(p.host)]
    if not starts:
        return
    t0, t1 = min(starts), max(ends)
    cursor = {name: 0 for name in plans}
    clock_cursor = {name: 0 for name in plans}
    edge = t0
    while True:
        edge = edge + BLOCK_SECONDS
        last = edge > t1
        for name, p in plans.items():
            i0 = cursor[name]
            i1 = len(p.host) if last else max(i0, int(np.searchsorted(p.host, edge, side="left")))
            if i1 > i0:
                f.write(spec.chunk(spec.SAMPLES, _samples(p, i0, i1), p.sid))
                cursor[name] = i1
            if p.clock is not None:
                c0 = clock_cursor[name]
                c1 = len(p.clock[0]) if last else max(c0, int(np.searchsorted(p.clock[0], edge, side="left")))
                for k in range(c0, c1):
                    f.write(spec.chunk(spec.CLOCK_OFFSET, struct.pack("<dd", p.clock[1][k], p.clock[2][k]), p.sid))
                clock_cursor[name] = c1
        f.write(spec.chunk(spec.BOUNDARY, spec.BOUNDARY_UUID))
        if progress is not None:
            progress(min(1.0, (edge - t0) / max(t1 - t0, 1e-9)))
        if last:
            return


def _samples(p: _Plan, i0: int, i1: int) -> bytes:
    c = p.reader.read_index(i0, i1)
    stamps = p.stamps[i0:i1]
    if len(c) != len(stamps):  # unreadable events were left out (a damaged file): keep the readable ones
        stamps = c.timestamps if p.clock is None else p.stamps[i0 + np.searchsorted(p.host[i0:i1], c.timestamps)]
    n = len(stamps)
    if p.fmt == "string":
        parts = [spec.varlen(n)]
        for t, value in zip(stamps, c.data):
            b = value if isinstance(value, bytes) else str(value).encode("utf-8")
            parts.append(b"\x08" + struct.pack("<d", t) + spec.varlen(len(b)) + b)
        return b"".join(parts)
    dtype = np.dtype(spec.WIDEN.get(np.dtype(p.reader.info.dtype).name, p.reader.info.dtype)).newbyteorder("<")
    rec = np.empty(n, dtype=np.dtype([("size", "u1"), ("t", "<f8"), ("v", dtype, (p.channels,))]))  # packed: no padding
    rec["size"] = 8
    rec["t"] = stamps
    rec["v"] = np.asarray(c.data).reshape(n, p.channels)
    return spec.varlen(n) + rec.tobytes()
