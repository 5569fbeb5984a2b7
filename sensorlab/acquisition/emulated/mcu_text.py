"""`TextIMU`: an emulated 6-axis IMU printing Edge-Impulse-style CSV lines (optionally with a
time column, a header, or in the Arduino plotter's form).
"""

from __future__ import annotations

import numpy as np

from sensorlab.acquisition.emulated.mcu_board import (
    IMU_CHANNELS,
    EmulatedMCU,
    _Schedule,
)


class TextIMU(EmulatedMCU):
    """A 6-axis IMU printing text lines (``ax,ay,az,gx,gy,gz``).

    Parameters
    ----------
    rate
        Samples (lines) per second, 100–1000 is typical.
    time_column
        None, ``"counter"`` (sample index) or ``"ms"`` (``millis()``) as a first column.
    plotter
        Print Arduino-plotter ``ax:0.1,ay:...`` pairs instead of bare numbers.
    header
        Print a header line (``ax,ay,...``) at boot (lost if nobody listens yet, as usual).
    **kwargs
        See `EmulatedMCU`.
    """

    def __init__(self, rate: float = 100.0, time_column: str | None = None, plotter: bool = False, header: bool = True, **kwargs):
        kwargs.setdefault("baudrate", 115200 if rate <= 200 else 921600)
        super().__init__(**kwargs)
        self.rate = rate
        self.time_column = time_column
        self.plotter = plotter
        self.header = header
        self.channel_names = IMU_CHANNELS
        self._schedule: _Schedule | None = None

    def _begin(self, t: float) -> None:
        self._schedule = _Schedule(self.rate, float(self.device_time(t)))
        if self.header:
            names = (("t",) if self.time_column else ()) + self.channel_names
            self.link.send((",".join(names) + "\n").encode(), t)

    def _flash(self, channels: tuple[str, ...] | None = None) -> None:
        """Boot firmware that prints other columns: ``channels`` from `IMU_CHANNELS`, in any
        order (its header, if it prints one, names them)."""
        if channels is not None:
            self.channel_names = tuple(channels)

    def true_host_times(self, device_times: np.ndarray) -> np.ndarray:
        """True host times of the samples whose time column read ``device_times`` (seconds,
        as `TextLineParser` reports them); for tests. Needs a time column."""
        sched = self._schedule
        t = np.asarray(device_times, dtype=np.float64)
        if self.time_column == "counter":
            k = np.round(t * self.rate)
        elif self.time_column == "ms":  # millis() truncates: the sample is at most 1 ms later
            k = np.ceil((t - sched.d0) * self.rate - 1e-6)
        else:
            raise ValueError("without a time column the lines carry no device time")
        return self.host_time(sched.device_times(k))

    def _produce(self, t: float) -> list[tuple[float, bytes]]:
        sched = self._schedule
        k = sched.due(float(self.device_time(t)))
        if not len(k):
            return []
        d = sched.device_times(k)
        host = self.host_time(d)
        values = self.world.imu(host)[:, [IMU_CHANNELS.index(c) for c in self.channel_names]]
        lines = []
        for i, row in enumerate(values):
            cols = [f"{v:.4f}" for v in row]
            if self.plotter:
                cols = [f"{n}:{c}" for n, c in zip(self.channel_names, cols, strict=True)]
            if self.time_column == "counter":
                cols.insert(0, str(int(k[i])))
            elif self.time_column == "ms":
                cols.insert(0, str(int(d[i] * 1000) & 0xFFFFFFFF))
            lines.append((float(host[i]), (",".join(cols) + "\r\n").encode()))
        return lines
