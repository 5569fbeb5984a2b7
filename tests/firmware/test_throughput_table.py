"""The baud-rate table of docs/FIRMWARE.md is computed from real frame sizes, not guessed."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from sensorlab.acquisition.serial.binary import encode_data

REPO = Path(__file__).resolve().parents[2]

BAUDS = (9600, 19200, 38400, 57600, 115200, 230400, 250000, 460800, 500000, 921600, 1000000, 1500000, 2000000)
ROW = re.compile(r"^\| ([^|]+?) \| (\d+) \| (\d+) \| (\d+) \| ([\d.]+) \| ([^|]+?) \|$", re.MULTILINE)


def test_every_row_matches_the_frames_the_encoder_makes():
    text = (REPO / "docs" / "FIRMWARE.md").read_text(encoding="utf-8")
    rows = ROW.findall(text)
    assert len(rows) >= 8
    rng = np.random.default_rng(0)
    for layout, rate, n, wire, kbit, baud in rows:
        tokens = layout.split("(")[0].split()  # "6 × int16 (IMU)", "64 × 32 float32 (radar)"
        dtype, shape = tokens[-1], tuple(int(t) for t in tokens[:-1] if t.isdigit())
        rate, n, wire = int(rate), int(n), int(wire)
        # Worst case: no zero byte anywhere for COBS to absorb (payload of 0x01 bytes, a
        # header without zeros); random payloads must never exceed it.
        worst = np.frombuffer(b"\x01" * (n * int(np.prod(shape)) * np.dtype(dtype).itemsize), dtype=dtype).reshape(n, *shape)
        assert len(encode_data(0x11, 0x01010101, 0x01010101, worst)) == wire, layout
        info = np.iinfo(dtype) if np.dtype(dtype).kind == "i" else None
        rand = (rng.integers(info.min, info.max, size=(n, *shape)) if info else rng.normal(size=(n, *shape))).astype(dtype)
        assert len(encode_data(0, 0, 0, rand)) <= wire
        assert float(kbit) == round(wire * rate / n * 10 / 1000, 1), layout
        fits = [b for b in BAUDS if wire * rate / n * 10 <= 0.8 * b]
        if baud.isdigit():
            assert int(baud) == fits[0], layout
        else:  # "native USB": nothing up to 2 Mbaud keeps it under 80 %
            assert not fits, layout
