"""The compiled hop, when it is built: `_hop` (sensorlab/inference/_hop.c), and which hop runs.

`pip install -e .` builds the extension (setup.py; optional: without a C compiler the install
still succeeds). Without it `Windower` runs the same hop in Python (`Windower._hop`), with the
same windows; `sensorlab --version` prints `hop_path()`.
"""

from __future__ import annotations

try:
    from sensorlab.inference import _hop as compiled_hop
except ImportError as e:  # not built (no compiler, or a source checkout never installed)
    compiled_hop, _WHY_NOT = None, str(e)


def hop_path() -> str:
    """Which code runs the live windower's usual hop, in words."""
    if compiled_hop is not None:
        return "live inference hop: compiled (sensorlab/inference/_hop.c)"
    return (f"live inference hop: pure Python (the C extension sensorlab/inference/_hop.c is not built: {_WHY_NOT}; "
            f"`pip install -e .` with a C compiler and Python's headers builds it; a source tree used from PYTHONPATH: "
            f"`python setup.py build_ext --inplace`)")  # fmt: skip


__all__ = ["compiled_hop", "hop_path"]
