"""The sensorlab binary serial protocol: framing, encoding and the host-side parser.

Every packet is ``body + CRC-32(body)`` (little-endian), COBS-encoded and terminated by one
0x00 byte. COBS guarantees the encoded packet contains no zero, so the delimiter always
marks a frame boundary and the parser resynchronises after any corruption on the next
0x00. Packet types:

============  ====  ========================================================
type          code  body after the 2-byte (version, type) prefix
============  ====  ========================================================
DATA          0x01  stream id, dtype code, u32 seq, u32 t_us, u16 n, u16 values, payload
DESCRIBE      0x02  nothing (host → device: "send your self-description")
DESCRIPTION   0x03  u8 part, u8 parts, UTF-8 JSON fragment
============  ====  ========================================================

``docs/SERIAL-PROTOCOL.md`` is the reference for firmware authors; the constants below are
the single source of truth for the host.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib

import numpy as np
from cobs import cobs

from sensorlab.acquisition.serial.description import (
    CODE_OF_DTYPE,
    DTYPE_CODES,
    DescriptionError,
    DeviceDescription,
)
from sensorlab.acquisition.serial.protocol import ParserCounters, Samples
from sensorlab.acquisition.serial.redescription import stream_changes
from sensorlab.acquisition.serial.timing import Unwrap32

VERSION = 1
TYPE_DATA = 0x01
TYPE_DESCRIBE = 0x02
TYPE_DESCRIPTION = 0x03

#: version, type, stream id, dtype code, seq, t_us, sample count, values per sample.
DATA_HEADER = struct.Struct("<BBBBIIHH")
DESCRIPTION_HEADER = struct.Struct("<BBBB")  # version, type, part, parts
CRC_SIZE = 4
DELIMITER = b"\x00"
#: Largest COBS frame the parser buffers before giving up on finding a delimiter.
MAX_FRAME = 1 << 17
#: A copy (same ``seq``, same bytes) of one of a stream's last this many packets is a replay, not a restart.
REPLAY_WINDOW = 256
#: Most bytes of data packets held while a restarted device is asked for its description
#: (3 s of a 2 Mbaud link is 600 kB); past it, later packets are skipped.
MAX_HELD = 8 << 20


def crc32(data: bytes | memoryview) -> int:
    """CRC-32/ISO-HDLC (zlib, Ethernet): reflected 0x04C11DB7, init and xorout 0xFFFFFFFF."""
    return zlib.crc32(data) & 0xFFFFFFFF


def frame(body: bytes) -> bytes:
    """Append the CRC, COBS-encode and delimit one packet body."""
    return cobs.encode(body + crc32(body).to_bytes(CRC_SIZE, "little")) + DELIMITER


def unframe(encoded: bytes) -> bytes | None:
    """Inverse of `frame` for one frame without its delimiter: the body, or None if corrupt."""
    try:
        packet = cobs.decode(encoded)
    except cobs.DecodeError:
        return None
    if len(packet) < 2 + CRC_SIZE:
        return None
    body = packet[:-CRC_SIZE]
    if crc32(body) != int.from_bytes(packet[-CRC_SIZE:], "little"):
        return None
    return body


def encode_data(stream_id: int, seq: int, t_us: int, samples: np.ndarray) -> bytes:
    """One framed DATA packet.

    Parameters
    ----------
    stream_id
        Stream id byte.
    seq
        Index of the first sample in this packet among all samples of the stream (mod 2**32).
    t_us
        Device time of the first sample in microseconds (mod 2**32).
    samples
        ``(n, *shape)`` array in the stream's wire dtype.
    """
    samples = np.asarray(samples)
    n = samples.shape[0]
    values = int(np.prod(samples.shape[1:])) if samples.ndim > 1 else 1
    code = CODE_OF_DTYPE[samples.dtype.name]
    header = DATA_HEADER.pack(VERSION, TYPE_DATA, stream_id, code, seq & 0xFFFFFFFF, t_us & 0xFFFFFFFF, n, values)
    return frame(header + samples.astype(samples.dtype.newbyteorder("<"), copy=False).tobytes())


def encode_request() -> bytes:
    """The framed DESCRIBE request the host sends (always the same 8 bytes + delimiter)."""
    return frame(bytes((VERSION, TYPE_DESCRIBE)))


def encode_description(description: DeviceDescription, max_part: int = 240) -> list[bytes]:
    """The framed DESCRIPTION packets carrying ``description`` as JSON in ``max_part``-byte parts."""
    text = description.to_json().encode("utf-8")
    parts = [text[i : i + max_part] for i in range(0, len(text), max_part)] or [b""]
    if len(parts) > 255:
        raise ValueError("self-description too long for 255 parts; raise max_part")
    return [frame(DESCRIPTION_HEADER.pack(VERSION, TYPE_DESCRIPTION, i, len(parts)) + p) for i, p in enumerate(parts)]


class FrameSplitter:
    """Split a byte stream on 0x00 delimiters; the shared first stage of every binary parser.

    ``feed`` returns the complete encoded frames (without delimiters); over-long frames are
    dropped and counted in ``overlong``. After `resync`, ``grace`` is True until the first
    frame has been returned: that frame is probably a fragment, and the caller should drop
    it silently if it does not decode (it may also be a whole frame, which the CRC proves).
    """

    def __init__(self, max_frame: int = MAX_FRAME):
        self.max_frame = max_frame
        self._buf = b""
        self.grace = False
        self.overlong = 0

    def resync(self) -> None:
        self._buf = b""
        self.grace = True

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf + data if self._buf else bytes(data)
        frames = buf.split(DELIMITER)
        rest = frames.pop()
        if len(rest) > self.max_frame:
            if not self.grace:
                self.overlong += 1
            rest = b""
            self.grace = True
        self._buf = rest
        return frames


class BinaryParser:
    """Host-side parser of the binary protocol (data and self-description packets).

    Parameters
    ----------
    description
        The device's streams. Until one is set (directly or by a DESCRIPTION reply), data
        packets are counted in ``counters.skipped`` and dropped.
    apply_scale
        Convert scaled integer streams to float32 physical units here. `SerialSource` leaves
        this False: it emits the counts as sent, and `StreamInfo.scale` carries the conversion
        (`StreamDescription.to_info`), so files store the device's dtype.
    max_frame
        Largest encoded frame accepted.

    Attributes
    ----------
    description_received
        The last complete self-description decoded from the byte stream, or None.
    description_error
        Why the last received self-description was rejected ("" if none was).
    awaiting_description
        The device restarted (a sequence number went back) or sent a packet its description
        does not fit: data packets are held, not parsed, until its next self-description
        arrives (the source asks for it). Unchanged, they are parsed as before; streams it
        changed (`stream_changes`) are dropped from ``description`` and named in ``changed``.
    changed
        Stream name → what changed (``"scale 0.001 → 0.002"``), for the source to fail those
        streams; it empties the dict once it did.

    Examples
    --------
    >>> from sensorlab.acquisition.serial.description import StreamDescription
    >>> desc = DeviceDescription("demo", (StreamDescription(0, "imu", "timeseries", 100.0, "int16", (2,)),))
    >>> p = BinaryParser(desc)
    >>> out = p.feed(encode_data(0, 0, 1000, np.array([[1, 2], [3, 4]], dtype="int16")))
    >>> out[0].data.tolist(), out[0].device_times.tolist()
    ([[1, 2], [3, 4]], [0.001, 0.011])
    """

    def __init__(self, description: DeviceDescription | None = None, apply_scale: bool = True, max_frame: int = MAX_FRAME):
        self.apply_scale = apply_scale
        self.counters = ParserCounters()
        self.description_received: DeviceDescription | None = None
        self.description_error = ""
        self._splitter = FrameSplitter(max_frame)
        self._parts: dict[int, bytes] = {}
        self._nparts = 0
        self._unwrap = Unwrap32()  # one clock per device, shared by its streams
        self._next_seq: dict[int, int] = {}
        # Each stream's last `REPLAY_WINDOW` packets (seq → hash of its bytes, oldest first):
        # one of them again, byte for byte, is the firmware resending it, not a restart.
        self._recent: dict[int, dict[int, int]] = {}
        # Streams whose next gap follows damaged bytes (a frame cut short or corrupted): the
        # missing samples were sent but lost on the way (host side); a gap behind intact framing
        # the device made itself. Any stream's packets may have been lost: damage marks all.
        self._damaged: set[int] = set()
        self.awaiting_description = False
        self.changed: dict[str, str] = {}
        self._held: list[tuple[bytes, int]] = []  # data packets while awaiting a description
        self._held_bytes = 0
        self._mismatch_checked = False  # a packet that did not fit was re-checked already
        self.description = description

    @property
    def description(self) -> DeviceDescription | None:
        return self._description

    @description.setter
    def description(self, description: DeviceDescription | None) -> None:
        self._description = description
        self._streams = description.by_id() if description else {}
        self._next_seq.clear()
        self._recent.clear()

    def expect_description(self) -> None:
        """Hold data packets until the device's next self-description has been compared with
        ``description`` (after a restart or a replug: the firmware may have changed)."""
        self.awaiting_description = True
        self.description_received = None
        self._parts, self._nparts = {}, 0

    def resync(self) -> None:
        """Drop any partial frame; skip to the next delimiter; forget sequence numbers
        (bytes were discarded, so the next gap would not be a real loss)."""
        self._splitter.resync()
        self._next_seq.clear()
        self._recent.clear()
        self._damaged.clear()
        self._held, self._held_bytes = [], 0

    def feed(self, data: bytes) -> list[Samples]:
        """Parse ``data`` (any split of the byte stream); returns the completed samples.

        Called on the serial reader thread. Never raises on bad input.
        """
        self.counters.bytes += len(data)
        overlong = self._splitter.overlong
        frames = self._splitter.feed(data)
        for _ in range(self._splitter.overlong - overlong):
            self.counters.error()
            self._damaged.update(self._streams)
        out: list[Samples] = []
        for encoded in frames:
            if not encoded:
                continue  # a lone 0x00: the device flushing our receiver; not an error
            grace, self._splitter.grace = self._splitter.grace, False
            body = unframe(encoded)
            if body is None or body[0] != VERSION:
                if not grace:  # else: the tail of a frame cut by opening or flushing the port
                    self.counters.error(self._guess_stream(encoded))
                    self._damaged.update(self._streams)
                continue
            kind = body[1]
            if kind == TYPE_DATA:
                samples = self._hold(body, len(encoded) + 1) if self.awaiting_description else self._data(body, len(encoded) + 1)
                if samples is not None:
                    out.append(samples)
            elif kind == TYPE_DESCRIPTION:
                out.extend(self._description_part(body))
            else:
                self.counters.skipped += 1
        return out

    # -- internals --------------------------------------------------------------------
    def _hold(self, body: bytes, wire_bytes: int) -> None:
        """Keep a data packet for when the awaited description has been compared."""
        if self._held_bytes + len(body) > MAX_HELD:
            self.counters.skipped += 1
        else:
            self._held.append((body, wire_bytes))
            self._held_bytes += len(body)
        return None

    def _data(self, body: bytes, wire_bytes: int, replay: bool = False) -> Samples | None:
        if len(body) < DATA_HEADER.size:
            self.counters.error()
            self._damaged.update(self._streams)
            return None
        _, _, sid, code, seq, t_us, n, values = DATA_HEADER.unpack_from(body)
        stream = self._streams.get(sid)
        if stream is None:
            self.counters.skipped += 1
            return None
        dtype = stream.wire_dtype
        payload = memoryview(body)[DATA_HEADER.size :]
        fits = DTYPE_CODES.get(code) == stream.dtype and values == stream.values_per_sample
        recent = self._recent.setdefault(sid, {})
        if recent.get(seq) == hash(body) and (seq or next(reversed(recent)) == 0):
            # Sent again (a firmware retry, a TX ring replaying an older slot): stored already. A
            # restarted board's clock went back too, but a deterministic boot can resend its seq 0
            # byte for byte: a first packet again, unless right after itself, is a restart.
            self.counters.duplicates_by_stream[stream.name] = self.counters.duplicates_by_stream.get(stream.name, 0) + 1
            return None
        expected = self._next_seq.get(sid)
        went_back = expected is not None and (seq - expected) & 0xFFFFFFFF >= 1 << 31
        if not replay and (went_back or (not fits and not self._mismatch_checked)):
            # The device restarted, or sends what its description does not describe: it may
            # run other firmware now. Nothing is parsed under the old description until the
            # new one is compared with it (the packet is parsed then, from here on).
            self._mismatch_checked = not fits
            self.expect_description()
            return self._hold(body, wire_bytes)
        if not fits or len(payload) != n * values * dtype.itemsize or n == 0:
            self.counters.error(stream.name)
            return None
        self.counters.units += 1
        lost = in_transit = 0
        restarted = False
        damaged = sid in self._damaged
        self._damaged.discard(sid)
        if expected is not None and seq != expected:
            gap = (seq - expected) & 0xFFFFFFFF
            if gap < 1 << 31:
                lost = gap
                self.counters.lost_samples += gap
                self.counters.gaps += 1
                if damaged:
                    in_transit = gap
                    self.counters.lost_in_transit += gap
            else:  # sequence went backwards: the device restarted
                self.counters.resets += 1
                restarted = True
                recent.clear()  # the old boot's packets are not this boot's to replay
                # Its µs clock restarted too: unwrapped against the old one, a board up for over
                # 35.8 min read as 20-70 min ahead (device times stored that far off).
                self._unwrap = Unwrap32()
        self._next_seq[sid] = (seq + n) & 0xFFFFFFFF
        recent.pop(seq, None)  # re-inserted as the newest
        recent[seq] = hash(body)
        if len(recent) > REPLAY_WINDOW:
            del recent[next(iter(recent))]
        t0 = self._unwrap(t_us) * 1e-6
        if stream.rate > 0:
            times = t0 + np.arange(n, dtype=np.float64) / stream.rate
        else:
            times = np.full(n, t0, dtype=np.float64)
        raw = np.frombuffer(payload, dtype=dtype).reshape(n, *stream.shape)
        data = stream.to_physical(raw) if self.apply_scale and stream.scaled else raw.astype(stream.dtype)
        self.counters.samples += n
        return Samples(stream.name, data, times, lost, wire_bytes, in_transit, restarted)

    def _description_part(self, body: bytes) -> list[Samples]:
        if len(body) < DESCRIPTION_HEADER.size:
            self.counters.error()
            return []
        _, _, part, nparts = DESCRIPTION_HEADER.unpack_from(body)
        if nparts == 0 or part >= nparts:
            self.counters.error()
            return []
        if nparts != self._nparts or part == 0:
            self._parts, self._nparts = {}, nparts
        self._parts[part] = body[DESCRIPTION_HEADER.size :]
        self.counters.units += 1
        if len(self._parts) < nparts:
            return []
        text = b"".join(self._parts[i] for i in range(nparts))
        self._parts, self._nparts = {}, 0
        try:
            received = DeviceDescription.from_json(text)
        except DescriptionError as e:
            self.description_error = str(e)
            self.counters.error()
            return []
        self.description_received, self.description_error = received, ""
        return self._compare(received) if self._description is not None else []

    def _compare(self, received: DeviceDescription) -> list[Samples]:
        """A self-description mid-stream: drop the streams it changed, then parse what was held."""
        changes = stream_changes(self._description, received)
        if changes:
            self.changed.update(changes)
            kept = tuple(s for s in self._description.streams if s.name not in changes)
            self._description = dataclasses.replace(self._description, streams=kept)
            self._streams = self._description.by_id()  # sequence numbers kept: a restart stays a gap
        if not self.awaiting_description:
            return []
        self.awaiting_description = False
        held, self._held, self._held_bytes = self._held, [], 0
        return [s for body, size in held if (s := self._data(body, size, replay=True)) is not None]

    def _guess_stream(self, encoded: bytes) -> str:
        # Blame a corrupt frame on the stream its (probably intact) header names, so
        # per-stream error counts stay meaningful on multi-stream devices. COBS keeps the
        # first bytes mostly in place: byte 0 is a code byte, then version, type, stream id.
        if len(encoded) > 4 and encoded[1] == VERSION and encoded[2] == TYPE_DATA and encoded[0] >= 3:
            # A code byte of 3 means "two data bytes, then a zero": the stream id was 0.
            s = self._streams.get(0 if encoded[0] == 3 else encoded[3])
            if s is not None:
                return s.name
        return ""
