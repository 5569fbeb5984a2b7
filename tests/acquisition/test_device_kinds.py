"""Device kinds are plugins: one found through an entry point of another installed package is
listed by `sensorlab devices`, read from rig files (with one-line errors) and recorded."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import sensorlab
from sensorlab.acquisition import kinds
from sensorlab.acquisition.kinds.registry import BUILTIN_KINDS
from sensorlab.acquisition.rig import RigError, parse_rig

ROOT = Path(sensorlab.__file__).resolve().parents[1]


def _cli(*args: str, plugins: Path | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real ``sensorlab`` command with ``plugins`` installed (on its PYTHONPATH)."""
    path = os.pathsep.join(str(p) for p in (ROOT, plugins) if p)
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.run([sys.executable, "-m", "sensorlab.cli", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_sensorlab_declares_its_own_kinds_as_entry_points():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][kinds.GROUP]
    assert declared == BUILTIN_KINDS
    assert [k.table for k in kinds.device_kinds()] == ["camera", "audio", "serial", "emulated", "lsl"]


def test_no_kind_can_take_a_rig_key_that_is_not_a_device_table():
    from sensorlab.acquisition.kinds.registry import RESERVED
    from sensorlab.acquisition.rig import rig_model

    # A new top-level rig key (like `processor`) must be listed in RESERVED, or a plugin could claim it.
    assert set(rig_model().model_fields) - {k.table for k in kinds.device_kinds()} == RESERVED


def test_sensorlab_devices_lists_a_kind_from_another_package(thermo_plugin):
    result = _cli("devices", plugins=thermo_plugin)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    i = lines.index("Thermometers (rig: [[thermo]] sensor = ID):")
    assert lines[i + 1 : i + 3] == ["  t0: bench thermometer", "  t1: bench thermometer"]
    # sensorlab's own kinds are still listed, before it.
    assert lines.index("Serial ports (rig: [[serial]] port = PORT; pseudo-terminals and URLs are not listed):") < i
    assert "Thermometers" not in _cli("devices").stdout  # not installed: not there


def test_a_kind_from_another_package_records_from_a_rig_file(thermo_plugin, tmp_path):
    from sensorlab.session.reader import Session

    rig = tmp_path / "rig.toml"
    rig.write_text('name = "bench"\n\n[[thermo]]\nname = "air"\nsensor = "t1"\nrate = 50\n\n[[emulated]]\ndevice = "imu-text"\n')
    out = tmp_path / "s.h5"
    result = _cli("record", "--rig", str(rig), "-d", "2", "-o", str(out), plugins=thermo_plugin)
    assert result.returncode == 0, result.stderr
    with Session.open(out) as s:
        air = s.streams["air"].read()
        assert len(air) >= 40 and np.allclose(air.data, 21.5, atol=0.11)
        assert s.streams["air"].info.units == ("degC",)
        assert tomllib.loads(s.metadata.rig)["thermo"] == [{"name": "air", "sensor": "t1", "rate": 50.0}]
        assert "wrist" in s.streams


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('sensor = "t0"\nrate = 1000', "rig.toml: thermo[0].rate: must be from 1 to 100, got 1000"),
        ('sensor = "probe"', "rig.toml: thermo[0].sensor: must be a sensor id like t0 or t1 (see `sensorlab devices`), got 'probe'"),
        ('sensor = "t0"\ncolour = "red"', "rig.toml: thermo[0].colour: unknown setting: remove it or check its spelling (see docs/RIG.md)"),
    ],
)
def test_its_rig_mistakes_get_one_line(thermo_plugin, tmp_path, table, message):
    rig = tmp_path / "rig.toml"
    rig.write_text(f"[[thermo]]\n{table}\n")
    result = _cli("record", "--rig", str(rig), "-d", "1", "-o", str(tmp_path / "x.h5"), plugins=thermo_plugin)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {message}"]
    assert not (tmp_path / "x.h5").exists()


def test_the_rig_loader_accepts_it_in_process(thermo_registered):
    rig = parse_rig('[[thermo]]\nsensor = "t1"\n\n[[serial]]\nport = "loop://"\n')
    assert [(type(d).__name__, d.name) for d in rig.devices()] == [("SerialConfig", "serial"), ("ThermoConfig", "thermo")]
    assert parse_rig(rig.to_toml()) == rig
    with pytest.raises(RigError, match=r"add a \[\[camera\]\], \[\[audio\]\], \[\[serial\]\], \[\[emulated\]\], \[\[lsl\]\] or \[\[thermo\]\] table"):
        parse_rig('name = "empty"')
    from sensorlab.acquisition.rig import RigConfig  # the schema of the kinds registered now

    assert isinstance(rig, RigConfig) and RigConfig(thermo=[{"sensor": "t0"}]).thermo[0].rate == 10.0


def test_a_broken_plugin_is_reported_and_the_rest_still_works(install_plugin, thermo_plugin, tmp_path):
    # Another package whose module is gone, and one claiming sensorlab's own [[camera]] table.
    install_plugin(thermo_plugin, "sensorlab-broken", {"broken": "sensorlab_gone:KIND"})
    install_plugin(thermo_plugin, "sensorlab-impostor", {"camera": "sensorlab_thermo:KIND"})
    result = _cli("devices", plugins=thermo_plugin)
    assert result.returncode == 0, result.stderr
    assert "Cameras (rig: [[camera]] device = INDEX):" in result.stdout and "Thermometers" in result.stdout
    notes = result.stdout.split("Notes:\n")[1].splitlines()
    assert (
        "  device kind [[broken]] (package sensorlab-broken) could not be loaded: ModuleNotFoundError: "
        "No module named 'sensorlab_gone'; reinstall or remove that package"
    ) in notes
    # Worded by whether sensorlab's own entry points are installed (a fresh install) or not
    # (a source checkout): either way the impostor is named and ignored, and Cameras stay ours.
    impostor = [n for n in notes if "[[camera]]" in n and "sensorlab-impostor" in n]
    assert len(impostor) == 1 and "ignored" in impostor[0], notes
    # A rig using the broken kind says why it is not available, in one line.
    rig = tmp_path / "rig.toml"
    rig.write_text('[[broken]]\nport = "x"\n\n[[thermo]]\n')
    result = _cli("record", "--rig", str(rig), "-d", "1", plugins=thermo_plugin, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: rig.toml: broken: device kind [[broken]] (package sensorlab-broken) could not be loaded: "
        "ModuleNotFoundError: No module named 'sensorlab_gone'; reinstall or remove that package"
    ]
