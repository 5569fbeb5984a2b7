"""Serial parser throughput against what a 921 600-baud link can carry.

Run: ``python bench/bench_serial_parser.py`` (or via ``bench/run_all.py``). Feeds pre-built
byte streams to `TextLineParser` and `BinaryParser` in 4 KiB reads (what the reader thread
typically gets) and compares lines/frames per second with the rate at which a 921 600-baud
8N1 UART (92 160 B/s) delivers them. Goal: ≥ 10×, so parsing never limits a real link and
leaves the reader thread mostly idle.
"""

from __future__ import annotations

import time

import numpy as np

from sensorlab.acquisition.emulated.mcu import IMU_CHANNELS, IMU_SCALE, IMU_UNITS
from sensorlab.acquisition.serial.binary import BinaryParser, encode_data
from sensorlab.acquisition.serial.description import DeviceDescription, StreamDescription
from sensorlab.acquisition.serial.text import TextLineParser

LINK_BYTES_PER_SECOND = 921600 / 10
READ_SIZE = 4096
GOAL = 10.0


def _time_feed(make_parser, blob: bytes, repeat: int = 3) -> float:
    """Best-of-``repeat`` seconds to parse ``blob`` in READ_SIZE reads with a fresh parser."""
    best = float("inf")
    for _ in range(repeat):
        parser = make_parser()
        t0 = time.perf_counter()
        for k in range(0, len(blob), READ_SIZE):
            parser.feed(blob[k : k + READ_SIZE])
        best = min(best, time.perf_counter() - t0)
    return best


def _row(name: str, units: int, blob: bytes, seconds: float) -> dict:
    per_unit = len(blob) / units
    link_rate = LINK_BYTES_PER_SECOND / per_unit
    rate = units / seconds
    return {
        "benchmark": name,
        "value": f"{rate:,.0f} /s ({per_unit:.0f} B each)",
        "baseline": f"{link_rate:,.0f} /s at 921600 baud",
        "ratio": rate / link_rate,
        "goal": f">= {GOAL:g}x",
    }


def run() -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    n = 20_000
    values = rng.normal(size=(n, 6))

    # Text: counter + 6 IMU values, Edge-Impulse-style CSV (about 50 bytes a line).
    text = b"".join(f"{i}," .encode() + ",".join(f"{v:.4f}" for v in row).encode() + b"\r\n" for i, row in enumerate(values))
    secs = _time_feed(lambda: TextLineParser("imu", IMU_CHANNELS, time_column="counter", nominal_rate=1000.0), text)
    rows.append(_row("serial text parser, 7-column CSV lines", n, text, secs))

    # Binary: 6 x int16 IMU, 1 sample per packet (worst case) and 10 per packet (typical).
    imu = StreamDescription(0, "imu", "timeseries", 1000.0, "int16", (6,), IMU_CHANNELS, IMU_UNITS, IMU_SCALE)
    radar = StreamDescription(1, "radar", "frames", 20.0, "int16", (64, 32), (), ("a.u.",), (1e-3,))
    desc = DeviceDescription("bench", (imu, radar))
    raw = rng.integers(-30000, 30000, size=(n, 6)).astype(np.int16)
    for per in (1, 10):
        frames = b"".join(encode_data(0, k, k * 1000, raw[k : k + per]) for k in range(0, n, per))
        secs = _time_feed(lambda: BinaryParser(desc), frames)
        rows.append(_row(f"serial binary parser, IMU frames of {per} x 6 int16", n // per, frames, secs))

    maps = rng.integers(0, 20000, size=(200, 64, 32)).astype(np.int16)
    frames = b"".join(encode_data(1, k, k * 50_000, maps[k : k + 1]) for k in range(len(maps)))
    secs = _time_feed(lambda: BinaryParser(desc), frames)
    rows.append(_row("serial binary parser, 64x32 int16 radar maps", len(maps), frames, secs))
    return rows


def main() -> None:
    rows = run()
    width = max(len(r["benchmark"]) for r in rows)
    print(f"{'benchmark':<{width}}  {'parsed':>28}  {'link carries':>28}  ratio  goal")
    for r in rows:
        ok = "ok" if r["ratio"] >= GOAL else "BELOW GOAL"
        print(f"{r['benchmark']:<{width}}  {r['value']:>28}  {r['baseline']:>28}  {r['ratio']:5.1f}x  {r['goal']} {ok}")


if __name__ == "__main__":
    main()
