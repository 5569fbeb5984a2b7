"""Microcontrollers on serial ports: text and binary protocols, and `SerialSource`.

See ``docs/SERIAL-PROTOCOL.md``. Parsers (`TextLineParser`, `BinaryParser`) are plain objects
usable without a port; `SerialSource` runs one of them on a reader thread.
"""

from sensorlab.acquisition.serial.binary import BinaryParser
from sensorlab.acquisition.serial.description import DeviceDescription, StreamDescription
from sensorlab.acquisition.serial.port import SerialSource
from sensorlab.acquisition.serial.text import TextLineParser

__all__ = ["BinaryParser", "DeviceDescription", "SerialSource", "StreamDescription", "TextLineParser"]
