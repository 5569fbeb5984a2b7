"""A `SerialSource` that owns the emulated microcontroller it reads.

Opening the source starts the emulator on its pseudo-terminal; closing it stops the emulator.
The data still goes through a real tty and pyserial, so the demo rig exercises exactly the
code path a real board does.
"""

from __future__ import annotations

from sensorlab.acquisition.emulated.mcu import EmulatedMCU
from sensorlab.acquisition.serial.port import SerialSource
from sensorlab.acquisition.source import SourceError


class EmulatedSerialSource(SerialSource):
    """Read ``mcu`` over its pseudo-terminal with ``protocol`` ("text" or "binary")."""

    def __init__(self, mcu: EmulatedMCU, protocol: str, **kwargs):
        self.mcu = mcu
        super().__init__(mcu.port, mcu.baudrate, protocol, **kwargs)
        self.description = f"emulated {protocol} MCU on {mcu.port}"

    def _open(self) -> None:
        if self.mcu.closed:
            # Its pty is gone and the kernel may have given the number to another program: opening
            # the path again would read (and lock) that program's pty.
            raise SourceError(f"{self.description}: the emulated board was closed with this device; build the rig again to get a new one")
        self.mcu.start()
        try:
            super()._open()
        except Exception:
            self.mcu.close()
            raise

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self.mcu.close()
