"""The serial ports a user can pick: USB-serial adapters, on-board UARTs that exist, named ptys.

pyserial's ``list_ports`` hides the kernel's placeholder UARTs by their sysfs subsystem
("platform"); since Linux 6.5 each UART sits on a "serial-base" bus instead, so every
``/dev/ttyS0``…``ttyS31`` came back as ``n/a``, as if 32 ports were there. On Linux the ports
are found here the same way (the same ``/dev`` names, pyserial's sysfs reader for the
details), but a ``ttyS`` port is listed only when the kernel found a UART behind it (its sysfs
``type`` is not 0, "unknown"), and it says what it is instead of ``n/a``: a built-in UART, or
for a link to a pseudo-terminal (an emulated board), the terminal it points to.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

#: The device names pyserial lists on Linux (built-in, USB, CDC-ACM, Raspberry Pi, Bluetooth,
#: Exar and Advantech ports, USB gadget).
PORT_NAMES = ("ttyS*", "ttyUSB*", "ttyXRUSB*", "ttyACM*", "ttyAMA*", "rfcomm*", "ttyAP*", "ttyGS*")
NO_DETAILS = "n/a"  # pyserial's description and hwid when sysfs tells nothing


@dataclass(frozen=True)
class SerialPortInfo:
    port: str
    description: str
    hwid: str  # "" when unknown

    @property
    def builtin(self) -> bool:
        """An on-board UART (``/dev/ttyS…``), not an adapter someone plugged in."""
        return Path(self.port).name.startswith("ttyS")


def list_serial_ports(dev: str | Path = "/dev", sys_root: str | Path = "/sys") -> list[SerialPortInfo]:
    """The serial ports under ``dev`` (a test's own folder, else ``/dev``): adapters first,
    then built-in UARTs, each sorted by name. Other systems: pyserial's list as it is."""
    if not sys.platform.startswith("linux"):
        from serial.tools import list_ports

        return [SerialPortInfo(p.device, p.description, _known(p.hwid)) for p in sorted(list_ports.comports())]
    from serial.tools.list_ports_linux import SysFS

    paths = sorted({str(p) for pattern in PORT_NAMES for p in Path(dev).glob(pattern)})
    ports = [_info(SysFS(p), Path(sys_root)) for p in paths]
    return sorted((p for p in ports if p is not None), key=lambda p: (p.builtin, p.port))


def _info(port, sys_root: Path) -> SerialPortInfo | None:
    """A port as the user should see it; None for a UART the kernel only holds a name for."""
    if port.subsystem == "platform":
        return None  # pyserial's own rule, for kernels before 6.5
    description, hwid = port.description, _known(port.hwid)
    target = os.path.realpath(port.device)
    if description == NO_DETAILS and target.startswith("/dev/pts/"):
        description, hwid = f"pseudo-terminal ({target})", ""
    elif port.name.startswith("ttyS") and description in (NO_DETAILS, port.name):  # pyserial: "n/a", or its name
        if _uart_type(sys_root, port.name) == 0:
            return None  # no UART behind the name
        description = "built-in UART (not a USB adapter)"
    elif description == NO_DETAILS:
        description = "serial port (the system gives no details)"
    return SerialPortInfo(port.device, description, hwid)


def _uart_type(sys_root: Path, name: str) -> int | None:
    """The kernel's UART type of ``name`` (0: none found at that address); None if unknown."""
    try:
        return int((sys_root / "class" / "tty" / name / "type").read_text().strip())
    except (OSError, ValueError):
        return None


def _known(hwid: str | None) -> str:
    return "" if not hwid or hwid == NO_DETAILS else hwid
