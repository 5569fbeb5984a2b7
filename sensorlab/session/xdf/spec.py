"""The XDF 1.0 container: magic, chunks, tags and variable-length integers.

File: ``b"XDF:"`` then chunks. Chunk: ``[NumLengthBytes: 1|4|8][Length][Tag: uint16][Content]``
where Length counts the tag and the content. Stream chunks (tags 2, 3, 4, 6) start their
content with a uint32 stream id. All numbers little-endian. A Samples chunk holds
``[NumSamples: varlen]`` then per sample ``[TimeStampBytes: 0|8][TimeStamp: double]`` and the
values (numbers; strings as ``[varlen length][UTF-8 bytes]``).
"""

from __future__ import annotations

import struct

MAGIC = b"XDF:"
FILE_HEADER, STREAM_HEADER, SAMPLES, CLOCK_OFFSET, BOUNDARY, STREAM_FOOTER = 1, 2, 3, 4, 5, 6
#: Content of a Boundary chunk: lets a reader resynchronise inside a damaged file.
BOUNDARY_UUID = bytes([0x43, 0xA5, 0x46, 0xDC, 0xCB, 0xF5, 0x41, 0x0F, 0xB3, 0x0E, 0xD5, 0x46, 0x73, 0x83, 0xCB, 0xE4])
#: XDF channel formats by NumPy dtype name (the same names LSL uses).
CHANNEL_FORMATS = {"float32": "float32", "float64": "double64", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64"}
#: NumPy dtypes XDF cannot hold, written as the next wider signed type.
WIDEN = {"uint8": "int16", "uint16": "int32", "uint32": "int64", "bool": "int8"}


def varlen(n: int) -> bytes:
    """An XDF variable-length integer (1, 4 or 8 bytes after a byte giving that size)."""
    if n < 0:
        raise ValueError(f"XDF lengths are unsigned, got {n}")
    if n <= 0xFF:
        return b"\x01" + struct.pack("<B", n)
    if n <= 0xFFFFFFFF:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def chunk(tag: int, content: bytes, stream_id: int | None = None) -> bytes:
    """One chunk, with the stream id prepended for stream chunks."""
    if stream_id is not None:
        content = struct.pack("<I", stream_id) + content
    return varlen(2 + len(content)) + struct.pack("<H", tag) + content
