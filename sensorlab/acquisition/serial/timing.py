"""Turning device times of serial samples into host-clock timestamps.

Two small pieces shared by the parsers, `SerialSource` and the clock tests:

- `Unwrap32` extends a wrapping 32-bit microsecond counter (``micros()`` on Arduino/ESP32
  wraps every 71.6 minutes) to a monotonic 64-bit count.
- `DeviceClock` feeds one ``(device time, arrival)`` pair per read into a `ClockFit` and maps
  sample device times to host times.

Why one pair per read, from the *last* sample: firmware buffers samples and sends them in
bursts, so the last sample of a burst waited least on the device; its arrival is the
tightest upper bound on when it was taken. Why subtract the wire time: a packet's last byte
arrives ``len * 10 / baud`` seconds after its first; a 64×32 float32 radar frame takes 89 ms
at 921 600 baud, which would otherwise bias frame-only devices late by that much. The
subtraction keeps the pair an upper bound only when the link really runs at ``baud``
(a UART bridge); native-USB CDC devices ignore baud, so set ``seconds_per_byte=0`` there.
"""

from __future__ import annotations

import numpy as np

from sensorlab.acquisition.clock import ClockFit, ClockMapping

_WRAP = 1 << 32
_HALF = 1 << 31


class Unwrap32:
    """Unwrap a 32-bit counter that may step slightly backwards between streams.

    The signed difference to the previous value is added, so the counter must be observed
    at least once per half period (35.8 minutes for microseconds).

    Examples
    --------
    >>> u = Unwrap32()
    >>> [u(x) for x in (0xFFFFFFF0, 0x10, 0x08)]
    [4294967280, 4294967312, 4294967304]
    """

    def __init__(self) -> None:
        self._last_raw: int | None = None
        self._last: int = 0

    def __call__(self, raw: int) -> int:
        if self._last_raw is None:
            self._last_raw, self._last = raw, raw
            return raw
        delta = (raw - self._last_raw) & (_WRAP - 1)
        if delta >= _HALF:
            delta -= _WRAP
        self._last_raw = raw
        self._last += delta
        return self._last


class DeviceClock:
    """Map one device's clock onto the host clock.

    Parameters
    ----------
    seconds_per_byte
        Wire time of one byte (``10 / baud`` for 8N1), subtracted per packet from arrival
        times before fitting; 0 for links that ignore baud.
    fit
        The `ClockFit` to use (a default one otherwise).

    Thread-safety: `observe` and `to_host` are called on the serial reader thread.
    """

    def __init__(self, seconds_per_byte: float = 0.0, fit: ClockFit | None = None):
        self.seconds_per_byte = seconds_per_byte
        self.fit = fit if fit is not None else ClockFit()

    def observe(self, device_time: float, arrival: float, wire_bytes: int = 0) -> None:
        """Record that the sample at ``device_time`` had fully arrived by ``arrival``."""
        if np.isfinite(device_time):
            self.fit.add(device_time, arrival - wire_bytes * self.seconds_per_byte)

    def mapping(self) -> ClockMapping | None:
        return self.fit.mapping()

    def to_host(self, device_times: np.ndarray, arrival: float) -> np.ndarray:
        """Host times of ``device_times``; never later than ``arrival`` (a sample cannot be
        timestamped after it was received)."""
        m = self.fit.mapping()
        if m is None:
            return np.full(len(device_times), arrival, dtype=np.float64)
        return np.minimum(m.to_host(device_times), arrival)

    def reset(self) -> None:
        self.fit.reset()
