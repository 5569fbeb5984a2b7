"""Which serial port strings sensorlab hands to pyserial.

``serial.serial_for_url`` understands many URL schemes, some of which act on the machine
rather than on a serial link: ``spy://…?file=PATH`` opens PATH for writing (truncating it)
*before* the port itself is opened, ``hwgrep://`` opens whichever port matches a pattern and
``alt://`` picks an implementation class by name. A rig file is often shared or downloaded,
so only what a user needs to reach a device is allowed:

- a device path or name without ``://`` (``/dev/ttyUSB0``, ``/dev/pts/3``, ``COM3``),
- ``socket://host:port`` (a serial-to-TCP bridge, an ESP32 over Wi-Fi),
- ``rfc2217://host:port`` (a networked serial server),
- ``loop://`` (a loopback, for tests).

The rig validation calls `check_port` so a bad rig fails before anything opens, and
`SerialSource` calls it again right before pyserial sees the string, so sources built in code
(or by a future caller that skips the rig) are held to the same rule.
"""

from __future__ import annotations

from sensorlab.acquisition.source import SourceError

#: URL schemes a serial ``port`` may use (besides a plain device path).
ALLOWED_SCHEMES = ("socket", "rfc2217", "loop")


class PortNotAllowed(SourceError, ValueError):
    """A port string whose pyserial URL scheme is not allowed.

    A `SourceError` for code that opens devices, and a `ValueError` so rig validation
    (pydantic) reports it as a field error.
    """


def url_scheme(port: str) -> str | None:
    """The scheme pyserial would dispatch on (lower case), or None for a plain device path.

    Mirrors ``serial.serial_for_url``: anything containing ``://`` is a URL and its scheme
    is the lower-cased text before the first ``://``.

    Examples
    --------
    >>> url_scheme("/dev/ttyUSB0") is None
    True
    >>> url_scheme("SPY://loop://")
    'spy'
    """
    if "://" not in port:
        return None
    return port.lower().split("://", 1)[0]


def check_port(port: str) -> str:
    """Return ``port`` unchanged if sensorlab may open it, else raise `PortNotAllowed`.

    Examples
    --------
    >>> check_port("socket://192.168.4.1:3333")
    'socket://192.168.4.1:3333'
    >>> check_port("spy://loop://?file=/tmp/x")
    Traceback (most recent call last):
    ...
    sensorlab.acquisition.serial.urls.PortNotAllowed: port 'spy://loop://?file=/tmp/x' uses the URL scheme 'spy://', which sensorlab does not open; use a device path (/dev/ttyUSB0, COM3) or socket://host:port, rfc2217://host:port or loop://
    """
    if not isinstance(port, str) or not port.strip():
        raise PortNotAllowed("the serial port is empty; give a device path (/dev/ttyUSB0, COM3) or socket://host:port")
    if "\x00" in port:
        raise PortNotAllowed(f"serial port {port!r} contains a NUL byte; give a device path or socket://host:port")
    scheme = url_scheme(port)
    if scheme is not None and scheme not in ALLOWED_SCHEMES:
        allowed = ", ".join(f"{s}://host:port" for s in ALLOWED_SCHEMES[:2])
        raise PortNotAllowed(
            f"port {port!r} uses the URL scheme '{scheme}://', which sensorlab does not open; "
            f"use a device path (/dev/ttyUSB0, COM3) or {allowed} or loop://"
        )
    return port


__all__ = ["ALLOWED_SCHEMES", "PortNotAllowed", "check_port", "url_scheme"]
