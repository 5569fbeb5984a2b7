"""`sensorlab record --rig BAD.toml` answers every broken rig with one clear line and a
non-zero exit, never a traceback, and never records wrong data (or none) while exiting 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _emulated(line: str, device: str = "imu-text") -> bytes:
    return f'[[emulated]]\ndevice = "{device}"\n{line}\n'.encode()


CASES = {
    # name: (rig file content, or None for a folder; expected text in the one-line message)
    "non-utf8": (b'[[emulated]]\ndevice = "imu-text"\nname = "caf\xe9"\n', "not UTF-8 text (line 3, byte 0xe9); save it as UTF-8"),
    "directory": (None, "is a folder, not a rig file"),
    "nested-5000": (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
    "huge": (b"# " + b"x" * 2_000_000 + b"\n", "far too large for a rig file"),
    "rate-inf": (_emulated("rate = inf"), "emulated[0].rate: must be a finite number, got inf"),
    "rate-nan": (_emulated("rate = nan"), "emulated[0].rate: must be a finite number, got nan"),
    "rate-1e9": (_emulated("rate = 1e9"), "emulated[0].rate: an emulated imu-text runs at 1 … 2000 Hz, got 1e+09"),
    "rate-1e-9": (_emulated("rate = 1e-9"), "emulated[0].rate: an emulated imu-text runs at 1 … 2000 Hz, got 1e-09"),
    "eeg-rate": (_emulated("rate = 1e6", "eeg"), "emulated[0].rate: an emulated eeg runs at 10 … 4000 Hz"),
    "drift": (_emulated("drift_ppm = -2e6"), "emulated[0].drift_ppm: must be from -50000 to 50000, got -2000000.0"),
    "name-dot": (_emulated('name = "."'), "emulated[0].name: '.' is not a usable name"),
    "name-labels": (_emulated('name = "labels"'), "emulated[0].name: 'labels' is reserved for the session's live labels"),
    "serial-rate": (b'[[serial]]\nport = "loop://"\nrate = 1e-9\n', "serial[0].rate: must be from 0.1 to 100000, got 1e-09"),
    "audio-rate": (b"[[audio]]\nrate = 1\n", "audio[0].rate: must be from 1000 to 768000, got 1"),
    # Misspelled or other programs' names: the message names the setting meant.
    "baudrate": (b'[[serial]]\nport = "loop://"\nbaudrate = 115200\n', "serial[0].baudrate: unknown setting (did you mean `baud`?)"),
    "protcol": (b'[[serial]]\nport = "loop://"\nprotcol = "text"\n', "serial[0].protcol: unknown setting (did you mean `protocol`?)"),
    "serail": (b'[[serail]]\nport = "loop://"\n', "serail: unknown setting (did you mean `serial`?)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_rig_gets_one_clear_line_and_a_failing_exit(case, tmp_path):
    content, expected = CASES[case]
    rig = tmp_path / "bad.toml"
    if content is None:
        rig.mkdir()
    else:
        rig.write_bytes(content)
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "sensorlab.cli", "record", "--rig", str(rig), "-d", "1", "-o", "out.h5"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0, output
    assert "Traceback" not in output and len(output.splitlines()) == 1, output
    assert output.startswith("error: ") and expected in output, output
    assert not (tmp_path / "out.h5").exists()  # refused before anything was recorded
