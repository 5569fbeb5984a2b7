"""The compiled hop, when it is built: `_hop` (sensorlab/inference/_hop.c), and which hop runs.

`pip install -e .` builds the extension (setup.py; optional: without a C compiler the install
still succeeds). Without it `Windower` runs the same hop in Python (`Windower._hop`), with the
same windows; `sensorlab --version` prints `hop_path()`.
"""

from __future__ import annotations

from sensorlab.optional_extension import load_optional_extension

_HOP = load_optional_extension("sensorlab.inference._hop", "live inference hop", "pure Python")
compiled_hop = _HOP.module


def hop_path() -> str:
    """Which code runs the live windower's usual hop, in words."""
    return _HOP.which_runs()


__all__ = ["compiled_hop", "hop_path"]
