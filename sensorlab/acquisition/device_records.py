"""The records a device process (`device_child.py`) sends its parent (`device_process.py`).

A record is a header ``kind, length`` then ``length`` bytes. A chunk's payload is its stream's
index, its sample count, which of the optional time arrays follow, then the raw bytes of
``data`` (the stream's dtype and sample shape, which the parent knows from the "ready"
record), ``timestamps``, and ``device_times`` / ``arrival_times`` where present: the arrays
travel as they are, no pickling, and the parent rebuilds them without parsing anything.
The other records carry JSON.
"""

from __future__ import annotations

import json
import math
import struct

import numpy as np

HEADER = struct.Struct("<BQ")  # kind, payload length
_CHUNK = struct.Struct("<HIB")  # stream index, samples, flags (1: device_times, 2: arrival_times)
READY, CHUNK, STATS, ERROR, STOPPED, RELEASED = range(6)


def json_record(kind: int, payload: dict) -> list[bytes]:
    body = json.dumps(payload).encode()
    return [HEADER.pack(kind, len(body)), body]


def chunk_record(stream: int, chunk) -> tuple[list, int]:
    """A chunk as buffers to write one after the other (the arrays themselves, no copy), and
    their total size."""
    arrays = [np.ascontiguousarray(chunk.data), np.ascontiguousarray(chunk.timestamps, dtype=np.float64)]
    flags = 0
    for bit, extra in ((1, chunk.device_times), (2, chunk.arrival_times)):
        if extra is not None:
            flags |= bit
            arrays.append(np.ascontiguousarray(extra, dtype=np.float64))
    body = sum(a.nbytes for a in arrays) + _CHUNK.size
    head = HEADER.pack(CHUNK, body) + _CHUNK.pack(stream, len(chunk), flags)
    return [head, *arrays], body + HEADER.size


def parse_chunk(payload: memoryview, streams) -> tuple[int, tuple]:
    """``(stream index, (data, timestamps, device_times, arrival_times))`` from a chunk
    record's payload; the arrays are views of ``payload`` (the caller hands over its own copy)."""
    stream, n, flags = _CHUNK.unpack_from(payload, 0)
    info = streams[stream]
    dtype = np.dtype(info.dtype)
    shape = (n, *info.sample_shape)
    pos = _CHUNK.size
    count = math.prod(shape)  # not np.prod: ~30 µs a chunk on the hand-over thread, holding the GIL
    size = dtype.itemsize * count
    data = np.frombuffer(payload, dtype, count, pos).reshape(shape)
    pos += size
    times = []
    for present in (True, bool(flags & 1), bool(flags & 2)):
        if present:
            times.append(np.frombuffer(payload, np.float64, n, pos))
            pos += 8 * n
        else:
            times.append(None)
    return stream, (data, *times)


def parse_json(payload) -> dict:
    return json.loads(bytes(payload))
