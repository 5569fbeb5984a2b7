"""End to end: the example sketches, built for this PC, stream through a real pseudo-terminal
into `sensorlab record`, exactly as a board on a USB port would.

What "truth" is: a sample's true time is the instant the board's own clock (micros()) says it
was taken, expressed on the host clock. On a microcontroller the sketch reads the sensor
within microseconds of that instant. The host build's micros() is CLOCK_MONOTONIC minus a
start it prints, and CLOCK_MONOTONIC is what time.monotonic (sensorlab's clock) reads on
Linux, so every device time maps to the exact host time it denotes, with no fit: that is
the truth the recorded timestamps are held to. (The host build's loop can itself be
scheduled late by the OS; such a sample still carries its scheduled instant, as its
device time, and is judged against it: the test measures sensorlab's transport and clock
mapping, not Linux's scheduler; the host build asks for real-time priority so that, like
an MCU, it samples on time on a busy machine.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from sensorlab.session.reader import Session

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware"

BINARY_RIG = FIRMWARE / "examples" / "imu_binary" / "rig.toml"
TEXT_RIG = FIRMWARE / "examples" / "imu_text" / "rig.toml"


def _rig(snippet: Path, port: str, tmp_path: Path, uart: bool | None = None) -> Path:
    """The shipped rig snippet with the board's pty as its port (and the uart line as asked)."""
    text = re.sub(r'(?m)^port = "[^"]*"', f'port = "{port}"', snippet.read_text())
    if uart is True:
        text = re.sub(r"(?m)^uart = false.*\n", "", text)
    rig = tmp_path / "rig.toml"
    rig.write_text(text)
    return rig


def _record(rig: Path, seconds: float, out: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sensorlab.cli", "record", "--rig", str(rig), "-d", str(seconds), "-o", str(out)],
        check=False, capture_output=True, text=True, timeout=120 + seconds, cwd=out.parent, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _check_binary_recording(out: Path, board, seconds: float) -> np.ndarray:
    with Session.open(out) as s:
        imu = s.streams["imu"]
        chunk = imu.read()
        stats = imu.stats
    raw_ax = np.round(chunk.data[:, 0] * 4096).astype(np.int64)  # ax counts samples (scale 1/4096)
    device_us = np.round(chunk.device_times * 1e6)
    # Every sample arrived: the sketch's own counter and the device clock both step by one.
    assert len(chunk) > 0.8 * seconds * 1000, len(chunk)
    assert np.all(np.diff(raw_ax) % 32768 == 1), np.flatnonzero(np.diff(raw_ax) % 32768 != 1)[:10]
    jumps = np.flatnonzero(np.diff(device_us) != 1000)
    assert not len(jumps), [(int(i), len(chunk), float(np.diff(device_us)[i]), float(chunk.timestamps[i] - chunk.timestamps[0])) for i in jumps[:5]]
    assert (stats.dropped, stats.parse_errors) == (0, 0)
    # Timestamps against truth (see the module docstring).
    error = chunk.timestamps - board.host_time(device_us)
    print(f"timestamp - truth over {len(error)} samples: median {np.median(error) * 1e3:.3f} ms, "
          f"p99 {np.percentile(np.abs(error), 99) * 1e3:.3f} ms, max |error| {np.max(np.abs(error)) * 1e3:.3f} ms")  # fmt: skip
    rel = chunk.timestamps - chunk.timestamps[0]
    by_second = [f"{k} s: {np.max(np.abs(error[(rel >= k) & (rel < k + 1)])) * 1e3:.2f}" for k in range(int(rel[-1]) + 1) if np.any((rel >= k) & (rel < k + 1))]
    # Within 1 ms of truth: the clock fit holds that for (nearly) every sample whatever the
    # load; a reader thread descheduled for milliseconds on a busy machine may stamp a few
    # samples later, which the fit's lower envelope must keep from spreading (bounded at 10 ms).
    # The exact figures are measured quietly by docs/FIRMWARE.md's runs and printed above.
    assert np.percentile(np.abs(error), 99) < 1e-3, "p99 |timestamp - truth| (ms) per second: " + ", ".join(by_second)
    assert np.max(np.abs(error)) < 10e-3, "max |timestamp - truth| (ms) per second of the recording: " + ", ".join(by_second)
    return device_us


def test_binary_sketch_native_usb_every_sample_within_1ms_across_the_micros_wrap(run_board, tmp_path):
    # micros() passes 2**32 16 s after boot: inside the 24 s recording as long as `sensorlab
    # record` starts recording within 16 s of the board's boot (its start, imports included, took
    # 9.4 s at a load average of 13, past the 8 s this once allowed; 1-2 s on a quiet machine).
    board = run_board("imu_binary", micros_start=2**32 - 16_000_000)
    out = tmp_path / "native.h5"
    _record(_rig(BINARY_RIG, board.port, tmp_path), 24, out)
    device_us = _check_binary_recording(out, board, 24)
    assert device_us[0] < 2**32 < device_us[-1], "the recording did not span the micros() wrap"


def test_binary_sketch_on_a_uart_link_every_sample_within_1ms(run_board, tmp_path):
    # A USB-UART bridge at the sketch's 500 000 baud: bytes paced from a 64-byte TX buffer.
    board = run_board("imu_binary", baud=500_000)
    out = tmp_path / "uart.h5"
    _record(_rig(BINARY_RIG, board.port, tmp_path, uart=True), 6, out)
    _check_binary_recording(out, board, 6)


def test_text_sketch_every_line_with_its_counter(run_board, tmp_path):
    board = run_board("imu_text", baud=115_200)
    out = tmp_path / "text.h5"
    _record(_rig(TEXT_RIG, board.port, tmp_path), 6, out)
    with Session.open(out) as s:
        imu = s.streams["imu"]
        chunk = imu.read()
        stats = imu.stats
        names = imu.info.channel_names
    assert names == ("ax", "ay", "az", "gx", "gy", "gz")
    assert len(chunk) > 0.8 * 6 * 100
    counter = np.round(chunk.device_times * 100).astype(np.int64)  # device time = counter / rate
    assert np.all(np.diff(counter) == 1)
    np.testing.assert_allclose(chunk.data[:, 5], counter % 360)  # gz is the sketch's ramp: the right line
    assert (stats.dropped, stats.parse_errors) == (0, 0)
    # Sample n was scheduled at micros() = n * 10 ms after setup() read micros(), a few us
    # after the board printed its clock: truth up to that few-us offset.
    error = chunk.timestamps - board.host_time(counter * 10_000)
    print(f"text: timestamp - truth median {np.median(error) * 1e3:.3f} ms, max |error| {np.max(np.abs(error)) * 1e3:.3f} ms")
    assert np.percentile(np.abs(error), 99) < 1e-3  # as above: 1 ms for (nearly) every line,
    assert np.max(np.abs(error)) < 10e-3  # a late reader on a busy machine bounded
