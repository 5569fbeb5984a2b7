"""Loading pylsl, LSL ↔ sensorlab stream descriptions, and the LSL clock on the host clock.

LSL's ``local_clock()`` is ``std::chrono::steady_clock``; on Linux that is
``CLOCK_MONOTONIC``, the clock `sensorlab.acquisition.clock.now` (``time.monotonic``) reads,
so the two agree to within the microseconds between two reads. Elsewhere they may differ
(another epoch), so `local_to_host` measures the difference once per process instead of
assuming it; differences under `SAME_CLOCK` are taken as the same clock (exactly 0).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from sensorlab.acquisition.source import IRREGULAR, SourceError, StreamInfo, StreamKind

#: Below this (s) LSL's clock and the host clock are the same clock read twice.
SAME_CLOCK = 1e-3
#: Suffix of the stream holding a source's clock-offset measurements (`clock_stream_name`).
CLOCK_SUFFIX = "_lsl_clock"
#: Channel name of that stream; with the suffix it marks a clock stream in a session.
CLOCK_CHANNEL = "lsl_clock_offset"
#: Seconds between clock-offset measurements (`StreamInlet.time_correction`); LabRecorder uses 5.
CLOCK_INTERVAL = 5.0

#: LSL channel formats → NumPy dtypes (``string`` streams become EVENTS).
LSL_DTYPES = {"float32": "float32", "double64": "float64", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64"}
#: NumPy dtypes → LSL channel formats, for outlets (unsigned types widen to the next signed one).
TO_LSL = {"float32": "float32", "float64": "double64", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
          "uint8": "int16", "uint16": "int32", "uint32": "int64", "bool": "int8"}  # fmt: skip
_CF_NAMES = {1: "float32", 2: "double64", 3: "string", 4: "int32", 5: "int16", 6: "int8", 7: "int64"}

_lock = threading.Lock()
_offset: float | None = None
_configured = False
_config_lock = threading.Lock()  # not `_lock`: `local_to_host` holds that while loading pylsl

#: liblsl's configuration when the user has no file of their own: warnings and errors only.
#: Its default level also prints info lines ("Loaded default config") in a terminal, which
#: came first in `sensorlab devices`' listing.
QUIET_CONFIG = "[log]\nlevel = -1\n"


def user_lsl_config() -> str | None:
    """The lsl_api.cfg liblsl would read (``LSLAPICFG``, then its usual places), or None."""
    if os.environ.get("LSLAPICFG"):
        return os.environ["LSLAPICFG"]
    for place in (Path("lsl_api.cfg"), Path.home() / "lsl_api" / "lsl_api.cfg", Path("/etc/lsl_api/lsl_api.cfg")):
        if place.is_file():
            return str(place)
    return None


def pylsl() -> Any:
    """The pylsl module, or `SourceError` naming how to install it (and liblsl)."""
    try:
        import pylsl as mod
    except ImportError as e:
        raise SourceError(f"LSL needs pylsl, which is not installed ({e}); install it with `pip install 'sensorlab[lsl]'`") from None
    except (OSError, RuntimeError) as e:  # the wheel's liblsl does not load on this platform
        raise SourceError(
            f"pylsl could not load liblsl ({' '.join(str(e).split())}); install liblsl (e.g. the liblsl .deb from "
            "github.com/sccn/liblsl/releases) and, if needed, point PYLSL_LIB at libolsl.so"
        ) from None
    _quiet_unless_configured(mod)
    return mod


def _quiet_unless_configured(mod: Any) -> None:
    """Give liblsl `QUIET_CONFIG` before its first use, unless the user has a config file.

    liblsl reads its configuration once per process; a user's own file (its ``[log] level``,
    peers, session id) always wins, and LSL warnings and errors still reach stderr.
    """
    global _configured
    with _config_lock:
        if _configured:
            return
        _configured = True
        if user_lsl_config() is None and hasattr(mod, "set_config_content"):
            try:
                mod.set_config_content(QUIET_CONFIG)
            except RuntimeError:  # a liblsl too old to take it: its info lines stay
                pass


def lsl_errors() -> tuple[type[Exception], type[Exception]]:
    """pylsl's (LostError, TimeoutError); its TimeoutError is not the built-in one."""
    from pylsl.util import LostError
    from pylsl.util import TimeoutError as LslTimeout

    return LostError, LslTimeout


def local_to_host() -> float:
    """Seconds to add to an LSL ``local_clock()`` time to get host time (`clock.now`).

    Measured once per process from the tightest of 20 bracketed reads; 0 when the two are the
    same clock (Linux).
    """
    global _offset
    with _lock:
        if _offset is None:
            from sensorlab.acquisition.clock import now

            lsl = pylsl()
            best = (float("inf"), 0.0)
            for _ in range(20):
                a = now()
                t = lsl.local_clock()
                b = now()
                best = min(best, (b - a, (a + b) / 2 - t))
            _offset = 0.0 if abs(best[1]) < SAME_CLOCK else best[1]
        return _offset


def clock_stream_name(stream: str) -> str:
    return stream + CLOCK_SUFFIX


def clock_stream_of(info: StreamInfo) -> str | None:
    """The stream whose clock offsets ``info`` holds, or None if it is no clock stream."""
    if info.name.endswith(CLOCK_SUFFIX) and info.channel_names == (CLOCK_CHANNEL,):
        return info.name[: -len(CLOCK_SUFFIX)]
    return None


def clock_stream_info(stream: str, device: str) -> StreamInfo:
    """The companion stream of ``stream``: one offset (s) per measurement.

    Each sample: timestamp = host time of the measurement, data = the offset to add to the
    stream's LSL time stamps to get host time, device time = when it was measured, on the
    stream's own clock (XDF's ClockOffset CollectionTime)."""
    return StreamInfo(clock_stream_name(stream), StreamKind.TIMESERIES, IRREGULAR, (CLOCK_CHANNEL,), ("s",), "float64", (1,),
                      device=f"LSL clock offsets of {stream} ({device})", has_device_time=True)  # fmt: skip


def channel_labels(info: Any) -> tuple[list[str], list[str]]:
    """Channel labels and units from an LSL stream's ``desc/channels`` (may be empty)."""
    labels: list[str] = []
    units: list[str] = []
    ch = info.desc().child("channels").child("channel")
    while not ch.empty() and len(labels) < info.channel_count():
        labels.append(ch.child_value("label"))
        units.append(ch.child_value("unit"))
        ch = ch.next_sibling("channel")
    return labels, units


def stream_info_from_lsl(info: Any, name: str) -> StreamInfo:
    """The sensorlab `StreamInfo` of a resolved LSL stream, named ``name``."""
    fmt = _CF_NAMES.get(info.channel_format(), "undefined")
    n = info.channel_count()
    labels, units = channel_labels(info)
    if len(labels) != n or not all(labels):
        labels = [f"ch{i + 1}" for i in range(n)]
    units = units if len(units) == n and any(units) else []
    rate = info.nominal_srate()
    device = f"LSL {info.type() or 'stream'} '{info.name()}' from {info.hostname() or '?'} (source_id {info.source_id() or '-'})"
    if fmt == "string":
        return StreamInfo(name, StreamKind.EVENTS, IRREGULAR if rate <= 0 else rate, dtype="str", device=device, has_device_time=True)
    if fmt not in LSL_DTYPES:
        raise SourceError(f"LSL stream {info.name()!r} has channel format {fmt}, which sensorlab cannot record")
    return StreamInfo(name, StreamKind.TIMESERIES, rate if rate > 0 else IRREGULAR, tuple(labels), tuple(units), LSL_DTYPES[fmt], (n,),
                      device=device, has_device_time=True)  # fmt: skip


def events_text(values: Any) -> np.ndarray:
    """One string per sample from LSL string samples: the value, or a JSON list for several channels."""
    out = np.empty(len(values), dtype=object)
    for i, sample in enumerate(values):
        out[i] = sample[0] if len(sample) == 1 else json.dumps(list(sample))
    return out


def lsl_stream_info(info: StreamInfo, lsl_name: str, lsl_type: str | None, source_id: str) -> Any:
    """A pylsl ``StreamInfo`` publishing the sensorlab stream ``info`` (channels described)."""
    lsl = pylsl()
    if info.kind is StreamKind.VIDEO:
        raise SourceError(f"stream {info.name!r} is video, which LSL does not carry; publish another stream")
    if info.kind is StreamKind.EVENTS:
        return lsl.StreamInfo(lsl_name, lsl_type or "Markers", 1, IRREGULAR, "string", source_id)
    n = int(np.prod(info.sample_shape)) if info.sample_shape else 1
    dtype = TO_LSL.get(np.dtype(info.dtype).name)
    if dtype is None:
        raise SourceError(f"stream {info.name!r} holds {info.dtype} values, which LSL cannot carry")
    default_type = {StreamKind.AUDIO: "Audio", StreamKind.FRAMES: "Frames"}.get(info.kind, "Signal")
    out = lsl.StreamInfo(lsl_name, lsl_type or default_type, n, info.nominal_rate, dtype, source_id)
    channels = out.desc().append_child("channels")
    names = list(info.channel_names) if len(info.channel_names) == n else [f"ch{i + 1}" for i in range(n)]
    for i, label in enumerate(names):
        ch = channels.append_child("channel")
        ch.append_child_value("label", label)
        if info.units:
            ch.append_child_value("unit", info.units[i] if len(info.units) == n else info.units[0])
    if info.kind is StreamKind.FRAMES:
        out.desc().append_child_value("sample_shape", json.dumps(list(info.sample_shape)))
    acq = out.desc().append_child("acquisition")
    acq.append_child_value("manufacturer", "sensorlab")
    acq.append_child_value("model", info.device or info.name)
    return out
