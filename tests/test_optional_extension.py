"""`sensorlab --version` says which code runs: the built C extension, or the fallback and why not."""

from __future__ import annotations

from sensorlab.inference.hop_ext import compiled_hop, hop_path
from sensorlab.optional_extension import load_optional_extension
from sensorlab.plotting.raster import compiled_raster, raster_path


def test_a_missing_extension_names_its_c_file_the_fallback_the_reason_and_how_to_build_it():
    ext = load_optional_extension("sensorlab.plotting._not_built", "envelope raster", "NumPy")
    assert ext.module is None
    line = ext.which_runs()
    assert line.startswith("envelope raster: NumPy (the C extension sensorlab/plotting/_not_built.c is not built: ")
    assert "No module named 'sensorlab.plotting._not_built'" in line
    assert "python setup.py build_ext --inplace" in line


def test_the_hop_and_the_raster_say_whether_their_extension_is_built():
    assert hop_path().startswith("live inference hop: compiled" if compiled_hop else "live inference hop: pure Python")
    assert raster_path().startswith("envelope raster: compiled" if compiled_raster else "envelope raster: NumPy")
