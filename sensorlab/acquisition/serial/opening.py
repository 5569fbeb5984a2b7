"""Opening a serial port and waiting until the device on it is understood: the opening half of
`SerialSource` (its ``open``, and the reopening after a lost port).

What "understood" means per protocol: binary, the device's self-description has arrived (the
DESCRIBE request is repeated, since opening the port may have rebooted the board through
DTR); text, a parseable line has given the channel count (unless the rig names the
channels); events, nothing (a device may rightly be quiet until something happens).
A port that does not open gets one line naming the port, the cause and the fix
(`open_error_message`).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence

import serial

from sensorlab.acquisition.clock import now
from sensorlab.acquisition.serial.binary import BinaryParser, encode_request
from sensorlab.acquisition.serial.events import EventLineParser
from sensorlab.acquisition.serial.process_reading import ReaderError
from sensorlab.acquisition.serial.pty_identity import another_pty, pty_instance
from sensorlab.acquisition.serial.text import TextLineParser
from sensorlab.acquisition.serial.urls import check_port
from sensorlab.acquisition.source import IRREGULAR, SourceError, StreamInfo, StreamKind

#: Read timeout of the reader thread: how quickly `stop` is noticed without cancel_read.
READ_TIMEOUT = 0.05
#: How often `open` repeats the DESCRIBE request while waiting (a board may be rebooting
#: because opening the port toggled DTR).
DESCRIBE_RETRY = 0.4


class PortOpening:
    """Mixin for `SerialSource`: opens the port and sets ``parser``, ``streams`` and ``_rename``.

    Uses the source's ``port``, ``baudrate``, ``protocol``, ``name``, ``channel_names``,
    ``units``, ``dtype``, ``scale``, ``offset``, ``nominal_rate``, ``time_column``,
    ``open_timeout``, ``apply_scale``, ``_serial``, ``_reader`` and ``_lost_message``; sets
    ``_pty``, the pty instance it opened (`pty_identity.pty_instance`), so that a reopen never
    takes another program's pty that got the same number.
    """

    def _open_port(self) -> serial.SerialBase:
        check_port(self.port)  # pyserial URLs such as spy://…?file= act before opening (serial/urls.py)
        kwargs: dict = {"baudrate": self.baudrate, "timeout": READ_TIMEOUT}
        local = os.name == "posix" and "://" not in self.port
        if local:
            kwargs["exclusive"] = True  # fail clearly instead of sharing bytes with another program
            self._refuse_another_pty(pty_instance(self.port))  # before opening: not even a moment's lock
        try:
            ser = serial.serial_for_url(self.port, **kwargs)
        except (serial.SerialException, OSError, ValueError) as e:
            raise SourceError(open_error_message(self.port, e)) from None
        if local:
            opened = pty_instance(ser.fileno())
            try:
                self._refuse_another_pty(opened)  # the number may have changed hands in between
            except SourceError:
                ser.close()
                raise
            self._pty = opened
        return ser

    def _refuse_another_pty(self, now_there: tuple[int, int] | None) -> None:
        # A pty that was read before and is gone never comes back at its path (pty_identity.py).
        if another_pty(self.port, self._pty, now_there):
            raise SourceError(
                f"{self.port} is now another program's pseudo-terminal: the one this device used was closed, "
                "and a pty never comes back at the same path. Open the device's new port."
            )

    def _new_text_parser(self, channel_names: Sequence[str] | None) -> TextLineParser:
        parser = TextLineParser(self.name, channel_names, self.time_column, self.nominal_rate, dtype=self.dtype)
        # pyserial flushed the input on open, so the first bytes are probably mid-line.
        parser.resync()
        return parser

    def _open_text(self) -> None:
        parser = self.parser = self._new_text_parser(self.channel_names)
        if parser.channel_count is None:
            self._read_until(lambda: parser.channel_count is not None, send=None)
            if parser.channel_count is None:
                raise SourceError(
                    f"no parseable text lines from {self.port} within {self.open_timeout:g} s at {self.baudrate} baud: "
                    "check the baud rate, that the device prints one sample per line of numbers "
                    "(or name them with `channels = [...]` in the rig), and that it is not speaking the binary protocol"
                )
        names = parser.channel_names or ()
        try:
            info = self._text_info(parser, names)
        except ValueError as e:  # a scale/offset list that does not fit the channels
            raise SourceError(f"text serial device on {self.port}: {e} ({len(names)} channels: {', '.join(names)}); fix `scale`/`offset` in the rig") from None
        self.streams = (info,)
        self._rename = {self.name: self.name}

    def _text_info(self, parser: TextLineParser, names: tuple[str, ...]) -> StreamInfo:
        return StreamInfo(
            name=self.name,
            kind=StreamKind.TIMESERIES,
            nominal_rate=self.nominal_rate,
            channel_names=names,
            units=self.units,
            dtype=str(parser.dtype),
            sample_shape=(len(names),),
            device=f"text serial device on {self.port} @ {self.baudrate}",
            has_device_time=parser.has_device_time,
            clock_from_rate=parser.clock_from_rate,
            scale=self.scale,
            offset=self.offset,
        )

    def _open_events(self) -> None:
        # Nothing to wait for: a device may rightly be quiet until something happens.
        self.parser = EventLineParser(self.name)
        self.parser.resync()  # pyserial flushed the input on open: the first bytes are mid-line
        self.streams = (StreamInfo(self.name, StreamKind.EVENTS, IRREGULAR, dtype="str", device=f"events serial device on {self.port} @ {self.baudrate}"),)
        self._rename = {self.name: self.name}

    def _open_binary(self) -> None:
        parser = BinaryParser(apply_scale=False)  # counts as sent; the scale is in the StreamInfo
        parser.resync()
        self.parser = parser
        request = encode_request()
        self._read_until(lambda: parser.description_received is not None or bool(parser.description_error), send=request)
        desc = parser.description_received
        if desc is None:
            why = f"its self-description was invalid: {parser.description_error}" if parser.description_error else "it did not answer"
            raise SourceError(
                f"binary serial device on {self.port} @ {self.baudrate}: {why} within {self.open_timeout:g} s. "
                "Check that the firmware speaks the sensorlab binary protocol (else use protocol='text') "
                "and that the baud rate matches."
            )
        parser.description = desc
        where = f"{desc.device or 'binary serial device'} on {self.port} @ {self.baudrate}"
        self.streams = tuple(s.to_info(where, self.name, self.apply_scale) for s in desc.streams)
        self._rename = {s.name: self.name + s.name for s in desc.streams}

    def _read_until(self, done, send: bytes | None) -> None:
        """Read and parse (discarding samples) until ``done()`` or ``open_timeout``."""
        ser, parser, reader = self._serial, self.parser, self._reader
        deadline = now() + self.open_timeout  # the reader process, if any, reads already
        next_send = now()
        try:
            while not done() and now() < deadline:
                if send is not None and now() >= next_send:
                    ser.write(send)
                    next_send = now() + DESCRIBE_RETRY
                if reader is not None:
                    for data, _arrival in reader.read(READ_TIMEOUT):
                        parser.feed(data)
                    continue
                data = ser.read(max(1, ser.in_waiting))
                if data:
                    parser.feed(data)
        except (serial.SerialException, OSError, ReaderError) as e:
            raise SourceError(self._lost_message(e)) from None


def open_error_message(port: str, e: BaseException) -> str:
    """A message naming the port, what went wrong and the fix."""
    text = str(e)
    code = getattr(e, "errno", None)
    low = text.lower()
    if code == errno.ENOENT or "no such file" in low or "could not open port" in low and "not found" in low:
        return f"serial port {port} not found: check the cable and the port name (`sensorlab devices` lists ports). ({text})"
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "busy" in low or "exclusively lock" in low:
        return (
            f"serial port {port} is busy: is another program (Arduino serial monitor, screen, another sensorlab) "
            f"holding it? Close it and try again. ({text})"
        )
    if code == errno.EACCES or "permission denied" in low:
        return (
            f"no permission to open serial port {port}: add yourself to the 'dialout' group "
            f"(sudo usermod -aG dialout $USER) and log in again. ({text})"
        )
    return f"could not open serial port {port}: {text}. Check the cable and `sensorlab devices`."
