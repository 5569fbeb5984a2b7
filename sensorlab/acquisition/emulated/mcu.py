"""Emulated microcontrollers on real pseudo-terminals, for tests, demos and benchmarks.

Each emulator runs a background thread in this process and writes to a pty (`PtyLink`);
the app opens ``mcu.port`` with pyserial like any USB serial adapter. Like real firmware:

- it has its own clock, ``device_time = (host - t_boot) * (1 + drift)``, and samples on a
  regular grid in that clock; each sample's value comes from the shared `World` at the
  sample's *true* host time, so claps line up across devices;
- it sends in bursts every 1–10 ms with occasional USB-like hiccups, paced at baud / 10
  bytes per second, and drops what does not fit;
- it can lose or corrupt packets on purpose (``loss``, ``corrupt``) for tests.

Variants: `TextIMU` (Edge-Impulse-style CSV lines), `BinaryIMU` (int16 with scale),
`RadarMCU` (64×32 range-Doppler maps), and `BinaryMCU` for any mix of binary streams.
The board they share is `mcu_board.py`, the text variant `mcu_text.py`, the binary ones
`mcu_binary.py`; this module re-exports them and is the command line.

Run one standalone for a demo (prints the port to open, runs until Ctrl-C)::

    python -m sensorlab.acquisition.emulated.mcu text-imu --rate 200
    python -m sensorlab.acquisition.emulated.mcu imu-radar --baud 2000000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from sensorlab.acquisition.emulated.mcu_binary import (
    BinaryIMU,
    BinaryMCU,
    EmulatedStream,
    RadarMCU,
    imu_radar_mcu,
    imu_stream,
    radar_stream,
    true_sample_times,
)
from sensorlab.acquisition.emulated.mcu_board import IMU_CHANNELS, IMU_SCALE, IMU_UNITS, EmulatedMCU
from sensorlab.acquisition.emulated.mcu_text import TextIMU

__all__ = [
    "IMU_CHANNELS",
    "IMU_SCALE",
    "IMU_UNITS",
    "BinaryIMU",
    "BinaryMCU",
    "EmulatedMCU",
    "EmulatedStream",
    "RadarMCU",
    "TextIMU",
    "imu_radar_mcu",
    "imu_stream",
    "main",
    "radar_stream",
    "true_sample_times",
]


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: start one emulated device and print its port."""
    ap = argparse.ArgumentParser(prog="python -m sensorlab.acquisition.emulated.mcu", description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=["text-imu", "binary-imu", "radar", "imu-radar"])
    ap.add_argument("--rate", type=float, default=None, help="sample rate of the (first) stream")
    ap.add_argument("--baud", type=int, default=None, help="emulated baud rate")
    ap.add_argument("--drift-ppm", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0 = until Ctrl-C)")
    args = ap.parse_args(argv)
    kw: dict = {"drift_ppm": args.drift_ppm}
    if args.baud:
        kw["baudrate"] = args.baud
    if args.kind == "text-imu":
        mcu: EmulatedMCU = TextIMU(rate=args.rate or 100.0, **kw)
    elif args.kind == "binary-imu":
        mcu = BinaryIMU(rate=args.rate or 1000.0, **kw)
    elif args.kind == "radar":
        mcu = RadarMCU(rate=args.rate or 20.0, **kw)
    else:
        mcu = imu_radar_mcu(imu_rate=args.rate or 1000.0, **kw)
    with mcu:
        print(f"{args.kind} on {mcu.port} at {mcu.baudrate} baud (Ctrl-C to stop)", flush=True)
        try:
            if args.seconds:
                time.sleep(args.seconds)
            else:
                while True:
                    time.sleep(1.0)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
