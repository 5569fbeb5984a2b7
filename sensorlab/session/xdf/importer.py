"""`import_xdf`: an XDF file (LabRecorder's or our own export) → a session (``sensorlab import xdf``).

Read with pyxdf, without its clock synchronisation or de-jittering: the time stamps as stored
and the ClockOffset measurements as stored. Each stream becomes a session stream:

- host time = time stamp + the offset of the latest measurement taken at or before it (the
  first one for stamps before it) — the rule `sensorlab.acquisition.lsl.inlet` applies
  live, so our own export comes back with the same timestamps; streams without offsets keep
  their stamps;
- ``device_times`` = the stamps as stored, and the measurements become a ``<name>_lsl_clock``
  stream, as if the stream had been recorded through ``[[lsl]]``;
- numeric streams become time series (frames, audio and dtypes restored when the file came
  from ``sensorlab session export``), string streams events (several string channels: a
  JSON list per sample).

The session's clock is the XDF recorder's clock. The session is written to a temporary name
and renamed into place, so a failed import leaves nothing under the requested name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sensorlab.acquisition.lsl.runtime import LSL_DTYPES, clock_stream_info, events_text
from sensorlab.acquisition.names import stream_name_problem
from sensorlab.acquisition.source import IRREGULAR, Chunk, StreamInfo, StreamKind
from sensorlab.session.format import LABELS_STREAM
from sensorlab.session.metadata import SessionMetadata

#: Samples per writer call (bounded memory per call, few HDF5 resizes).
BLOCK = 1 << 16


class XdfImportError(ValueError):
    """An XDF file that cannot be imported; one line naming it and the fix."""


@dataclass
class XdfImportResult:
    path: Path
    streams: dict[str, int] = field(default_factory=dict)  # session stream → samples
    clock_offsets: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [f"{n} ({c} samples{f', {self.clock_offsets[n]} clock offsets' if self.clock_offsets.get(n) else ''})" for n, c in self.streams.items()]
        return f"wrote {self.path}: {len(self.streams)} stream(s): " + ", ".join(parts)


def _first(d: Any, *keys: str, default: Any = None) -> Any:
    """pyxdf's XML dicts hold a list per element: d[k1][0][k2][0]…"""
    for k in keys:
        if not isinstance(d, dict) or not d.get(k):
            return default
        d = d[k][0]
    return d if d is not None else default


def step_offsets(stamps: np.ndarray, clock_times: np.ndarray, clock_values: np.ndarray) -> np.ndarray:
    """Per stamp: the offset of the latest measurement at or before it (the first before any).

    Examples
    --------
    >>> step_offsets(np.array([0.0, 1.0, 2.5]), np.array([0.5, 2.0]), np.array([10.0, 20.0])).tolist()
    [10.0, 10.0, 20.0]
    """
    idx = np.searchsorted(clock_times, stamps, side="right") - 1
    return clock_values[np.clip(idx, 0, None)]


def import_xdf(xdf_path: str | Path, out: str | Path, force: bool = False, progress: Callable[[str], None] | None = None) -> XdfImportResult:
    """Write the XDF file ``xdf_path`` as the session ``out`` (.h5); returns what was written.

    Raises
    ------
    XdfImportError
        pyxdf is missing, or the file is no readable XDF file or holds no stream.
    FileExistsError
        ``out`` exists and ``force`` is False.
    """
    xdf_path, out = Path(xdf_path), Path(out)
    if out.exists() and not force:
        raise FileExistsError(f"{out} already exists; choose another name or pass --force to replace it")
    try:
        import pyxdf
    except ImportError as e:
        raise XdfImportError(f"reading XDF needs pyxdf, which is not installed ({e}); install it with `pip install 'sensorlab[lsl]'`") from None
    if not xdf_path.is_file():
        raise XdfImportError(f"{xdf_path}: no such file")
    try:
        streams, header = pyxdf.load_xdf(str(xdf_path), synchronize_clocks=False, dejitter_timestamps=False, handle_clock_resets=False)
    except Exception as e:  # noqa: BLE001 - pyxdf raises whatever a damaged file provokes
        raise XdfImportError(f"{xdf_path.name}: not a readable XDF file ({type(e).__name__}: {e})") from None
    if not streams:
        raise XdfImportError(f"{xdf_path.name}: holds no stream")
    infos: dict[str, StreamInfo] = {}
    chunks: dict[str, Chunk] = {}
    result = XdfImportResult(out)
    for s in sorted(streams, key=lambda s: int(s["info"]["stream_id"])):
        info, chunk, clock = _convert(s, set(infos))
        infos[info.name] = info
        chunks[info.name] = chunk
        result.streams[info.name] = len(chunk)
        if clock is not None:
            cinfo = clock_stream_info(info.name, info.device)
            infos[cinfo.name], chunks[cinfo.name] = cinfo, clock
            result.clock_offsets[info.name] = len(clock)
    if LABELS_STREAM not in infos:  # every session has one (live labels)
        infos[LABELS_STREAM] = StreamInfo(LABELS_STREAM, StreamKind.EVENTS, IRREGULAR, dtype="str", device="live labels and markers")
        chunks[LABELS_STREAM] = Chunk(np.empty(0, dtype=object), np.empty(0))
    _write(out, infos, chunks, _metadata(header, xdf_path, chunks), progress)
    return result


def _convert(s: dict, taken: set[str]) -> tuple[StreamInfo, Chunk, Chunk | None]:
    info_xml = s["info"]
    xdf_name = _first(info_xml, "name", default="") or f"stream{info_xml['stream_id']}"
    fmt = _first(info_xml, "channel_format", default="float32")
    nch = int(_first(info_xml, "channel_count", default="1"))
    rate = float(_first(info_xml, "nominal_srate", default="0") or 0)
    ours = _first(info_xml, "desc", "sensorlab", "info")
    if ours:
        d = json.loads(ours)
        info = StreamInfo.from_dict(d)
    else:
        info = _info_from_xdf(info_xml, xdf_name, fmt, nch, rate)
    if info.name == LABELS_STREAM and not (ours and info.kind is StreamKind.EVENTS):
        info = StreamInfo.from_dict({**info.to_dict(), "name": f"{LABELS_STREAM}_xdf"})  # only our own export fills the live labels
    name = _unique(info.name, taken)
    stamps = np.asarray(s["time_stamps"], dtype=np.float64)
    if info.kind is StreamKind.EVENTS:
        values = s["time_series"]
        data = events_text(values) if len(values) else np.empty(0, dtype=object)
    else:
        data = np.asarray(s["time_series"]).astype(info.dtype, copy=False).reshape(len(stamps), *info.sample_shape)
    ctimes = np.asarray(s.get("clock_times") or [], dtype=np.float64)
    cvalues = np.asarray(s.get("clock_values") or [], dtype=np.float64)
    clock = None
    if len(ctimes) and name != LABELS_STREAM:
        host = stamps + step_offsets(stamps, ctimes, cvalues)
        info = StreamInfo.from_dict({**info.to_dict(), "name": name, "has_device_time": True})
        chunk = Chunk(data, host, stamps)
        clock = Chunk(cvalues.reshape(-1, 1), ctimes + cvalues, ctimes)
    else:
        info = StreamInfo.from_dict({**info.to_dict(), "name": name})
        chunk = Chunk(data, stamps)
    return info, chunk, clock


def _info_from_xdf(info_xml: dict, name: str, fmt: str, nch: int, rate: float) -> StreamInfo:
    xdf_type = _first(info_xml, "type", default="") or ""
    device = f"XDF {xdf_type or 'stream'} '{name}' (source_id {_first(info_xml, 'source_id', default='-') or '-'})"
    if fmt == "string":
        return StreamInfo(_safe(name), StreamKind.EVENTS, IRREGULAR, dtype="str", device=device)
    if fmt not in LSL_DTYPES:
        raise XdfImportError(f"stream {name!r} has channel format {fmt!r}, which sensorlab cannot store")
    chans = (_first(info_xml, "desc", "channels") or {}).get("channel") or []
    labels = [(_first(c, "label", default="") or "") for c in chans] if isinstance(chans, list) else []
    units = [(_first(c, "unit", default="") or "") for c in chans] if isinstance(chans, list) else []
    if len(labels) != nch or not all(labels):
        labels = [f"ch{i + 1}" for i in range(nch)]
    units = units if len(units) == nch and any(units) else []
    return StreamInfo(_safe(name), StreamKind.TIMESERIES, rate if rate > 0 else IRREGULAR, tuple(labels), tuple(units), LSL_DTYPES[fmt], (nch,),
                      device=device)  # fmt: skip


def _safe(name: str) -> str:
    """A usable stream name from any XDF name (``/`` and control characters replaced)."""
    cleaned = "".join("_" if c == "/" or ord(c) < 32 or ord(c) == 127 else c for c in name)[:80].strip() or "stream"
    return cleaned if cleaned not in (".", "..") else "stream"


def _unique(name: str, taken: set[str]) -> str:
    base = name if not stream_name_problem(name) or name == LABELS_STREAM else f"{name}_xdf"
    out, i = base, 2
    while out in taken or (out != LABELS_STREAM and stream_name_problem(out)):
        out, i = f"{base}_{i}", i + 1
    return out


def _metadata(header: dict, xdf_path: Path, chunks: dict[str, Chunk]) -> SessionMetadata:
    from sensorlab import __version__
    from sensorlab.session.format import SCHEMA_VERSION

    starts = [float(c.timestamps[0]) for c in chunks.values() if len(c)]
    t0 = min(starts) if starts else 0.0
    header = header.get("info") or {}  # pyxdf: {"info": {tag: [value, …]}}
    ours = _first(header, "sensorlab", "metadata")
    if ours:  # our own export: the original session's description
        m = SessionMetadata(**json.loads(ours))
        return m.model_copy(update={"notes": (m.notes + "\n" if m.notes else "") + f"imported from {xdf_path.name}"})
    m = SessionMetadata(name=xdf_path.stem, notes=f"imported from {xdf_path.name}", software_version=__version__, schema_version=SCHEMA_VERSION,
                        start_host_time=t0, start_time_iso=_first(header, "datetime", default="") or "")  # fmt: skip
    return m


def _write(out: Path, infos: dict[str, StreamInfo], chunks: dict[str, Chunk], meta: SessionMetadata, progress) -> None:
    from sensorlab.session.writer import SessionWriter

    tmp = out.with_name(f".{out.stem}.{os.getpid()}.importing.h5")
    tmp.unlink(missing_ok=True)
    writer = SessionWriter(tmp)
    writer.on_start(infos, meta)
    try:
        for name, c in chunks.items():
            for i in range(0, len(c), BLOCK):
                sl = slice(i, i + BLOCK)
                writer.on_chunk(name, Chunk(c.data[sl], c.timestamps[sl], None if c.device_times is None else c.device_times[sl]))
            if progress is not None:
                progress(name)
        ends = [float(c.timestamps[-1]) for c in chunks.values() if len(c)]
        end = max(ends) if ends else (meta.start_host_time or 0.0)
        start = meta.start_host_time if meta.start_host_time is not None else end
        writer.on_stop(
            {n: {"count": st.count, "first_time": st.first_time, "last_time": st.last_time} for n, st in writer.stores.items()},
            {"end_host_time": end, "duration": end - start, "complete": True, "stop_reason": "stopped"},
        )
        os.replace(tmp, out)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
