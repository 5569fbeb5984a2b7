"""Another program's HDF5 file given to `sensorlab repair` / `info`: said to be no session, with what to do."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

from sensorlab.cli import app
from sensorlab.session.recovery import SessionError, inspect, repair

runner = CliRunner()


def foreign(path: Path, schema: str | None = None) -> Path:
    with h5py.File(path, "w", libver="latest") as f:  # superblock v3: it carries the open-for-write flag
        f["scan"] = np.arange(100.0)
        if schema is not None:
            f.attrs["schema"] = schema
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_repair_says_a_foreign_hdf5_file_is_no_session_instead_of_needing_no_repair(tmp_path):
    path = foreign(tmp_path / "scan.h5")
    before = digest(path)
    r = runner.invoke(app, ["repair", str(path)])
    assert r.exit_code == 1, r.output
    line = r.output.strip()
    assert "needs no repair" not in line and len(line.splitlines()) == 1
    assert line.startswith(f"error: {path} is an HDF5 file, but not a sensorlab session (it has no 'schema' attribute")
    assert "`sensorlab repair` mends only sessions sensorlab recorded" in line and f"`h5dump -H {path}`" in line
    assert digest(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["scan.h5"]


def test_repair_of_a_foreign_file_left_flagged_open_writes_no_copy(tmp_path):
    path = foreign(tmp_path / "scan.h5", schema="acme.scan")
    # Its writer died with the file open (not SWMR): flagged, so repair would clear a copy.
    code = "import h5py, os, signal, sys; f = h5py.File(sys.argv[1], 'r+'); f.flush(); os.kill(os.getpid(), signal.SIGKILL)"
    assert subprocess.run([sys.executable, "-c", code, str(path)]).returncode == -signal.SIGKILL
    assert inspect(path).open_for_write
    before = digest(path)
    with pytest.raises(SessionError, match=r"not a sensorlab session \(its 'schema' attribute is 'acme.scan'"):
        repair(path)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scan.h5"]  # the cleared copy was made beside it, and removed


@pytest.mark.parametrize("schema", [None, "acme.scan"])
def test_info_names_the_missing_schema_and_what_to_do(tmp_path, schema):
    path = foreign(tmp_path / "scan.h5", schema)
    r = runner.invoke(app, ["info", str(path)])
    assert r.exit_code == 1
    line = r.output.strip()
    assert "schema attribute None" not in line and line.count(str(path)) == 2  # the file, and the h5dump hint
    found = "it has no 'schema' attribute" if schema is None else "its 'schema' attribute is 'acme.scan'"
    assert line.startswith(f"error: {path} is an HDF5 file, but not a sensorlab session ({found}; a session's is 'sensorlab.session'): ")
    assert "open this file with the program that wrote it" in line
